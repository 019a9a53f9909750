/**
 * `po-ecs-runner check --stack <name>`: the live check of a deployed runner, with the user's AWS
 * credentials and read-only calls only. The contract's calls (produced from the deployed
 * template by the offline engine) are decided by IAM's own simulator on the deployed roles; the
 * network, VPC endpoints, OIDC provider, job secrets and the orchestrator's registration are read
 * from the account. See docs/VERIFY-LIVE.md.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CheckCallError, LiveClients, createClients, destroyClients, errorKind, oneLine } from './aws';
import {
  LiveFinding,
  RegistrationTarget,
  checkEndpoints,
  checkOidcProvider,
  checkRegistration,
  checkSecrets,
  checkSubnets,
} from './infrastructure';
import { evaluateCalls } from './simulate';
import type { Proxy } from './proxy';
import { DeployedRunner, DeployedStack, StackUsageError, deployedTemplate, readStack } from './stack';
import { LiveCheckUsageError } from './proxy';
import type { CallResult, ContractCall } from '../contract';

export type { LiveFinding, RegistrationTarget } from './infrastructure';
export { LiveCheckUsageError, parseProxy, type Proxy } from './proxy';
export type { DeployedRunner, DeployedStack } from './stack';

/**
 * The offline engine's producer of a runner's calls, given the deployed stack (its template as
 * deployed, from GetTemplate, and its resources' physical ids) and the runner as the stack
 * describes it. Strings of the calls may also hold `${AWS::AccountId}`, `${LogicalId}` or
 * `${LogicalId.Arn}` references (Fn::Sub notation): they are resolved against the deployed stack
 * before simulation.
 */
export type ContractCallSource = (stack: DeployedStack, runner: DeployedRunner) => readonly ContractCall[];

/** What the live check needs. */
export interface LiveCheckInput {
  /** Name (or id) of the deployed stack. */
  readonly stackName: string;
  /** Region of the stack. @default - the SDK's configuration (AWS_REGION, the profile) */
  readonly region?: string;
  /** Only this runner of the stack. @default - every runner of the stack */
  readonly runnerId?: string;
  /**
   * The contract's calls: a producer (per runner, from the deployed template), or one runner's
   * list (then the stack must have one runner, or `runnerId` must name it).
   * @default - none: the IAM calls are reported as "could not check"
   */
  readonly calls?: ContractCallSource | readonly ContractCall[];
  /** A proxy the jobs use instead of a direct route to the internet. @default - a 0.0.0.0/0 route is required */
  readonly proxy?: Proxy;
  /** The orchestrator and API token for the registration check. */
  readonly registration: RegistrationTarget;
  /** Injectable clients (tests). @default - SDK clients for `region` */
  readonly clients?: LiveClients;
}

/** One runner's results. */
export interface LiveRunnerReport {
  readonly runnerId: string;
  readonly orgId?: string;
  readonly calls: readonly CallResult[];
  readonly findings: readonly LiveFinding[];
}

/** The whole report; `exitCode` 0 when everything is ok (skipped checks aside), 1 otherwise. */
export interface LiveCheckReport {
  readonly stack: { readonly name: string; readonly status: string; readonly account: string; readonly region: string };
  readonly caller: string;
  readonly stackFindings: readonly LiveFinding[];
  readonly runners: readonly LiveRunnerReport[];
  readonly exitCode: 0 | 1;
}

/** Runs the live check. Throws {@link LiveCheckUsageError} for usage and configuration errors. */
export async function runLiveCheck(input: LiveCheckInput): Promise<LiveCheckReport> {
  const clients = input.clients ?? createClients(input.region);
  try {
    return await check(clients, input);
  } finally {
    if (input.clients === undefined) destroyClients(clients);
  }
}

async function check(clients: LiveClients, input: LiveCheckInput): Promise<LiveCheckReport> {
  let caller: string;
  try {
    const who = await clients.sts.send(new GetCallerIdentityCommand({}));
    caller = who.Arn ?? 'unknown';
  } catch (e) {
    throw usageFromSdk(e, 'sts:GetCallerIdentity');
  }
  let stack: DeployedStack;
  try {
    stack = await readStack(clients, input.stackName, input.runnerId);
  } catch (e) {
    if (e instanceof StackUsageError) throw new LiveCheckUsageError(e.message);
    if (e instanceof CheckCallError) throw new Error(`cannot read stack "${input.stackName}": ${e.message}`);
    throw usageFromSdk(e, 'cloudformation:DescribeStacks');
  }
  if (Array.isArray(input.calls) && stack.runners.length > 1) {
    throw new LiveCheckUsageError(
      `stack "${stack.name}" has several runners (${stack.runners.map((r) => r.runnerId).join(', ')}): choose one with --runner-id`,
    );
  }

  const stackFindings: LiveFinding[] = [stackStatus(stack), ...(await checkEndpoints(clients, stack))];
  const runners: LiveRunnerReport[] = [];
  for (const runner of stack.runners) {
    const calls =
      input.calls === undefined
        ? undefined
        : typeof input.calls === 'function'
          ? input.calls(stack, runner)
          : (input.calls as readonly ContractCall[]);
    const results = calls === undefined ? [] : await evaluateCalls(clients, stack, runner, calls);
    const findings: LiveFinding[] = [];
    if (calls === undefined || calls.length === 0) {
      findings.push({
        check: 'iam',
        subject: 'contract calls',
        status: 'could-not-check',
        detail: "no contract calls were given to the live check, so the orchestrator's calls were not simulated",
      });
    }
    const issuer = metadataIssuer(stack, runner) ?? issuerFromCalls(calls ?? []);
    findings.push(
      ...(await checkSubnets(clients, runner, input.proxy)),
      ...(await checkOidcProvider(clients, stack, runner, issuer)),
      ...(await checkSecrets(clients, runner)),
      ...(await checkRegistration(runner, input.registration)),
    );
    runners.push({ runnerId: runner.runnerId, orgId: runner.orgId, calls: results, findings });
  }
  const allOk =
    stackFindings.every(passes) && runners.every((r) => r.calls.every((c) => c.ok) && r.findings.every(passes));
  return {
    stack: { name: stack.name, status: stack.status, account: stack.account, region: stack.region },
    caller,
    stackFindings,
    runners,
    exitCode: allOk ? 0 : 1,
  };
}

/** The issuer in the runner's template metadata (which may hold intrinsics), resolved. */
function metadataIssuer(stack: DeployedStack, runner: DeployedRunner): string | undefined {
  const raw: unknown = runner.metadata?.orchestrator?.issuer;
  if (raw === undefined) return undefined;
  try {
    const value: unknown = deployedTemplate(stack).template.resolve(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The issuer of the web-identity call's `<issuer>:aud` context key. */
function issuerFromCalls(calls: readonly ContractCall[]): string | undefined {
  const web = calls.find((c) => c.principal === 'web-identity');
  return Object.keys(web?.context ?? {})
    .find((k) => k.endsWith(':aud'))
    ?.slice(0, -':aud'.length);
}

const passes = (f: LiveFinding) => f.status === 'ok' || f.status === 'skipped';

function stackStatus(stack: DeployedStack): LiveFinding {
  const s = stack.status;
  const settled = /_COMPLETE$/.test(s) && s !== 'ROLLBACK_COMPLETE' && s !== 'DELETE_COMPLETE';
  return {
    check: 'stack',
    subject: stack.name,
    status: settled ? 'ok' : 'failed',
    detail: settled
      ? `${s}${s === 'UPDATE_ROLLBACK_COMPLETE' ? ' (the last update was rolled back: the stack runs its previous template)' : ''}`
      : `${s}: the stack is not deployed and settled; finish or fix the deployment, then check again`,
  };
}

function usageFromSdk(e: unknown, call: string): Error {
  const err = e as Error;
  if (/region is missing/i.test(err?.message ?? ''))
    return new LiveCheckUsageError('no AWS region: pass --region or set AWS_REGION');
  if (errorKind(e) === 'credentials') {
    return new LiveCheckUsageError(
      `no usable AWS credentials (${call}: ${err?.name}: ${oneLine(err?.message ?? '')}): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or sign in (aws sso login)`,
    );
  }
  if (errorKind(e) === 'denied') {
    return new LiveCheckUsageError(
      `your credentials may not call ${call} (${err?.name}): the check needs the read-only permissions in docs/VERIFY-LIVE.md`,
    );
  }
  return new Error(`${call}: ${err?.name}: ${oneLine(err?.message ?? String(e))}`);
}

const MARK: Record<LiveFinding['status'] | 'ok-call' | 'fail-call' | 'cnc-call', string> = {
  ok: 'ok     ',
  failed: 'FAIL   ',
  'could-not-check': 'CANNOT ',
  skipped: 'skipped',
  'ok-call': 'ok     ',
  'fail-call': 'FAIL   ',
  'cnc-call': 'CANNOT ',
};

/** The report as text lines, one per call and per finding, and a summary. */
export function formatReport(report: LiveCheckReport): string[] {
  const lines: string[] = [
    `Live check of stack ${report.stack.name} (${report.stack.account}, ${report.stack.region}) as ${report.caller}`,
  ];
  const finding = (f: LiveFinding) => `  ${MARK[f.status]} ${f.check.padEnd(12)} ${f.subject}: ${f.detail}`;
  report.stackFindings.forEach((f) => lines.push(finding(f)));
  const counts = { ok: 0, failed: 0, 'could-not-check': 0, skipped: 0 };
  report.stackFindings.forEach((f) => counts[f.status]++);
  for (const r of report.runners) {
    lines.push(`Runner ${r.runnerId}${r.orgId ? ` (org ${r.orgId})` : ''}:`);
    for (const c of r.calls) {
      const status = c.decision === 'could-not-check' ? 'could-not-check' : c.ok ? 'ok' : 'failed';
      counts[status]++;
      const verb = c.decision === 'could-not-check' ? 'could not check' : `${c.decision}, expected ${c.call.expect}`;
      lines.push(`  ${MARK[status]} ${'iam'.padEnd(12)} ${c.call.id}: ${verb}: ${c.detail}`);
    }
    r.findings.forEach((f) => {
      counts[f.status]++;
      lines.push(finding(f));
    });
  }
  lines.push(
    `${counts.ok} ok, ${counts.failed} failed, ${counts['could-not-check']} could not check, ${counts.skipped} skipped: ${
      report.exitCode === 0 ? 'the runner is ready' : 'the runner is NOT proven ready'
    }.`,
  );
  return lines;
}
