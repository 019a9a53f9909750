/*
 * po-ecs-runner: register, deregister and check a serverless ECS runner in the Platform
 * Orchestrator, from a deployed stack's `RunnerCreateBody` output or a JSON file.
 * Bundled (with commander and the CloudFormation client) into bin/po-ecs-runner.js.
 *
 * Exit codes: 0 success (status: in sync), 1 the operation failed, 2 usage or configuration
 * error (missing token, organization or AWS credentials included), 3 status: the runner differs
 * from the stack or is not registered.
 * The API token is never printed.
 *
 * It follows the same rules as the registration custom resource (runner-sync.ts): registering
 * a runner that exists exactly as described is a no-op, and a deregistration the orchestrator
 * refuses (environments still use the runner) changes nothing and says which environments.
 *
 * API URL: --api-url, else $PO_API_URL (a self-hosted Stellwerk), else $HUMANITEC_API_URL, else
 * the hosted orchestrator.
 */
import { readFileSync } from 'fs';
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import {
  DEFAULT_API_URL,
  FieldDifference,
  OrchestratorApiError,
  OrchestratorClient,
  RunnerCreateBody,
  diffRunner,
  flattenRunner,
  tuningFromEnv,
} from '../registration/runtime/api-client';
import { RunnerExistsError, ensureRunner } from '../registration/runtime/runner-sync';
import { RUNNER_CREATE_BODY_SHAPE, isRunnerCreateBody } from '../registration/runner-create-body';
import { registerCheckCommand } from './check/command';
import { addLiveCheckOptions, liveCheckAction } from './check/live/command';
import { engineCalls } from './check/live/engine-calls';

// The AWS SDK is bundled at a fixed version: its notice that versions published after January
// 2027 need Node 22 concerns those later versions, not this bundle, and is only noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_OUT_OF_SYNC = 3;

/** A mistake in the command line or the environment. */
class UsageError extends Error {}

interface CommonOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly runnerId?: string;
  readonly bodyFile?: string;
  readonly org?: string;
  readonly apiUrl?: string;
  readonly token?: string;
  readonly verbose?: boolean;
}

interface Context {
  readonly client: OrchestratorClient;
  readonly body: RunnerCreateBody;
  readonly orgId: string;
  readonly source: string;
}

type Out = { out: (s: string) => void; err: (s: string) => void };

const io: Out = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

/** The token being used, so that every line printed can be checked for it. */
let activeToken: string | undefined;

function addCommon(cmd: Command): Command {
  return cmd
    .option('--stack <name>', 'deployed CloudFormation stack whose RunnerCreateBody output describes the runner')
    .option('--region <region>', 'region of the stack (default: AWS_REGION or your AWS configuration)')
    .option('--runner-id <id>', 'which runner, when the stack (or file) has several')
    .option(
      '--body-file <path>',
      'instead of --stack: the file "cdk deploy --outputs-file" wrote, the output of ' +
        '"aws cloudformation describe-stacks", or a RunnerCreateBody',
    )
    .option('--org <id>', 'orchestrator organization (default: $HUMANITEC_ORG)')
    .option(
      '--api-url <url>',
      `orchestrator API base URL (default: $PO_API_URL for a self-hosted Stellwerk, then $HUMANITEC_API_URL, then ${DEFAULT_API_URL})`,
    )
    .option(
      '--token <token>',
      'API token (default: $HUMANITEC_AUTH_TOKEN; prefer the variable, arguments are visible to other processes)',
    )
    .option('-v, --verbose', 'log every API call (method, path, status, attempt) to stderr');
}

export function buildProgram(env: Record<string, string | undefined>): Command {
  const program = new Command('po-ecs-runner')
    .description('Register a serverless ECS runner with the Platform Orchestrator (Humanitec or self-hosted Stellwerk)')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  addCommon(
    program
      .command('register')
      .description('create the runner in the orchestrator from the stack (or file)')
      .option('--adopt-existing', 'when the runner id is taken, update that runner to this configuration'),
  ).action(async (opts: CommonOptions & { adoptExisting?: boolean }) => {
    const ctx = await context(opts, env);
    const { outcome } = await ensureRunner(ctx.client, ctx.body, opts.adoptExisting ?? false, '--adopt-existing');
    io.out(
      outcome === 'created'
        ? `Registered runner ${ctx.body.id} in organization ${ctx.orgId} (${ctx.client.apiUrl}).`
        : outcome === 'existed'
          ? `Runner ${ctx.body.id} is already registered in organization ${ctx.orgId} exactly as in ${ctx.source}: nothing to do.`
          : `Adopted runner ${ctx.body.id} in organization ${ctx.orgId} and updated it to the configuration of ${ctx.source}.`,
    );
  });

  addCommon(
    program
      .command('deregister')
      .description(
        'delete the runner from the orchestrator (succeeds when it is not there); with --org and --runner-id ' +
          'alone, the runner of that id (e.g. one left behind by a failed stack)',
      ),
  ).action(async (opts: CommonOptions) => {
    const ctx = await context(opts, env, true);
    const existed = await ctx.client.deleteRunner(ctx.body.id);
    io.out(
      existed
        ? `Deregistered runner ${ctx.body.id} from organization ${ctx.orgId}.`
        : `Runner ${ctx.body.id} is not registered in organization ${ctx.orgId}: nothing to do.`,
    );
  });

  addCommon(
    program
      .command('status')
      .description(
        "compare the orchestrator's runner with the stack's; exit 0 when in sync, 3 when they differ or it is missing",
      )
      .option('--json', 'print the comparison as JSON'),
  ).action(async (opts: CommonOptions & { json?: boolean }) => {
    const ctx = await context(opts, env);
    const actual = await ctx.client.getRunner(ctx.body.id);
    const differences = actual ? diffRunner(ctx.body, actual) : [];
    const inSync = actual !== undefined && differences.length === 0;
    if (opts.json) {
      io.out(
        JSON.stringify(
          {
            runnerId: ctx.body.id,
            orgId: ctx.orgId,
            apiUrl: ctx.client.apiUrl,
            registered: actual !== undefined,
            inSync,
            differences,
            stack: ctx.body,
            orchestrator: actual ?? null,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(`Runner ${ctx.body.id} in organization ${ctx.orgId} (${ctx.client.apiUrl}), compared with ${ctx.source}:`);
      if (!actual) {
        io.out('  not registered in the orchestrator. Run "po-ecs-runner register" to register it.');
      } else {
        printComparison(ctx.body, actual, differences);
        io.out(
          inSync
            ? 'In sync.'
            : `Out of sync: ${differences.length === 1 ? '1 field differs' : `${differences.length} fields differ`}: ${differences
                .map((d) => d.path)
                .join(', ')}. Run "po-ecs-runner register --adopt-existing" to update the orchestrator.`,
        );
      }
    }
    process.exitCode = inSync ? EXIT_OK : EXIT_OUT_OF_SYNC;
  });

  registerCheckCommand(program, io, {
    addOptions: addLiveCheckOptions,
    run: (opts) => liveCheckAction(opts, env, engineCalls),
  });
  return program;
}

function printComparison(desired: RunnerCreateBody, actual: unknown, differences: FieldDifference[]): void {
  const d = flattenRunner(desired);
  const a = flattenRunner(actual);
  const differing = new Set(differences.map((x) => x.path));
  const paths = [...new Set([...d.keys(), ...a.keys()])].sort();
  const show = (v: unknown) => (v === undefined ? '-' : JSON.stringify(v));
  const rows = paths.map((p) => [differing.has(p) ? '*' : ' ', p, show(d.get(p)), show(a.get(p))]);
  const header = [' ', 'FIELD', 'STACK', 'ORCHESTRATOR'];
  const widths = [1, 2, 3].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0]} ${r[1].padEnd(widths[0])}  ${r[2].padEnd(widths[1])}  ${r[3]}`.trimEnd();
  io.out(line(header));
  rows.forEach((r) => io.out(line(r)));
}

/** @param idOnly whether --runner-id alone may name the runner (deregister needs nothing but its id) */
async function context(opts: CommonOptions, env: Record<string, string | undefined>, idOnly = false): Promise<Context> {
  if (opts.stack !== undefined && opts.bodyFile !== undefined) {
    throw new UsageError('give either --stack or --body-file, not both');
  }
  const byIdOnly = idOnly && opts.stack === undefined && opts.bodyFile === undefined && opts.runnerId !== undefined;
  if (opts.stack === undefined && opts.bodyFile === undefined && !byIdOnly) {
    throw new UsageError(
      'say which runner: --stack <name> (reads its RunnerCreateBody output) or --body-file <path>' +
        (idOnly ? ', or --org <id> with --runner-id <id>' : ''),
    );
  }
  const token = opts.token ?? nonEmpty(env.HUMANITEC_AUTH_TOKEN);
  if (token === undefined || token.trim() === '') {
    throw new UsageError('no API token: set HUMANITEC_AUTH_TOKEN (or pass --token)');
  }
  activeToken = token;
  const apiUrl = opts.apiUrl ?? nonEmpty(env.PO_API_URL) ?? nonEmpty(env.HUMANITEC_API_URL) ?? DEFAULT_API_URL;

  const found: FoundBody = byIdOnly
    ? // Only the id is read (deregister).
      { body: { id: opts.runnerId! } as RunnerCreateBody, source: `--runner-id ${opts.runnerId}` }
    : opts.stack !== undefined
      ? await bodyFromStack(opts.stack, opts.region, opts.runnerId)
      : bodyFromFile(opts.bodyFile!, opts.runnerId);
  const envOrg = nonEmpty(env.HUMANITEC_ORG);
  if (
    opts.org === undefined &&
    envOrg !== undefined &&
    found.orgFromStack !== undefined &&
    envOrg !== found.orgFromStack
  ) {
    // The task-manager role trusts the OIDC subject <org>+<runner id> of the stack's org only:
    // registering in another org (e.g. a stale HUMANITEC_ORG) would give a runner that cannot start jobs.
    throw new UsageError(
      `HUMANITEC_ORG is "${envOrg}" but the stack's runner belongs to org "${found.orgFromStack}"; pass --org to choose explicitly`,
    );
  }
  const orgId = opts.org ?? envOrg ?? found.orgFromStack;
  if (orgId === undefined) throw new UsageError('no organization: pass --org or set HUMANITEC_ORG');

  let client: OrchestratorClient;
  try {
    client = new OrchestratorClient({
      orgId,
      token,
      apiUrl,
      log: opts.verbose ? io.err : undefined,
      ...tuningFromEnv(env),
      authHint:
        `The token (--token or $HUMANITEC_AUTH_TOKEN) must be a valid API token of organization "${orgId}" at ` +
        `${apiUrl} with permission to create, read, update and delete runners there.`,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { client, body: found.body, orgId, source: found.source };
}

interface FoundBody {
  readonly body: RunnerCreateBody;
  readonly source: string;
  readonly orgFromStack?: string;
}

interface StackOutput {
  readonly OutputKey?: string;
  readonly OutputValue?: string;
  readonly Description?: string;
}

/**
 * The runner from a file: a bare RunnerCreateBody, the file `cdk deploy --outputs-file` writes
 * (`{"<stack>": {"<output key>": "<value>"}}`), or `aws cloudformation describe-stacks` output
 * (`{"Stacks": [{"StackName", "Outputs": [{OutputKey, OutputValue, Description}]}]}`).
 */
function bodyFromFile(file: string, runnerId: string | undefined): FoundBody {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read --body-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--body-file ${file} is not JSON`);
  }
  const where = `--body-file ${file}`;
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'id' in json) {
    const body = parseBody(text, where);
    if (runnerId !== undefined && body.id !== runnerId) {
      throw new UsageError(`${where} describes runner "${body.id}", not --runner-id "${runnerId}"`);
    }
    return { body, source: file };
  }
  const stacks = stacksOfFile(json);
  if (stacks === undefined) {
    throw new UsageError(
      `${where} is neither a RunnerCreateBody (id, runner_configuration, state_storage_configuration), nor the ` +
        `file "cdk deploy --outputs-file" writes, nor "aws cloudformation describe-stacks" output`,
    );
  }
  return chooseRunner(
    stacks.flatMap((st) => candidatesOf(st.outputs, `stack ${st.name} in ${file}`)),
    `${where}`,
    runnerId,
    stacks.flatMap((st) => st.outputs.map((o) => o.OutputKey ?? '')),
  );
}

/** The stacks and their outputs in a cdk outputs file or describe-stacks output; undefined when neither. */
function stacksOfFile(json: unknown): { name: string; outputs: StackOutput[] }[] | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const described = (json as { Stacks?: unknown }).Stacks;
  if (described !== undefined) {
    if (!Array.isArray(described)) return undefined;
    return described.map((st: { StackName?: unknown; Outputs?: unknown }, i) => ({
      name: typeof st?.StackName === 'string' ? st.StackName : `#${i + 1}`,
      outputs: Array.isArray(st?.Outputs) ? (st.Outputs as StackOutput[]) : [],
    }));
  }
  const entries = Object.entries(json as Record<string, unknown>);
  const isOutputs = (v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  if (entries.length === 0 || !entries.every(([, v]) => isOutputs(v))) return undefined;
  return entries.map(([name, outputs]) => ({
    name,
    outputs: Object.entries(outputs as Record<string, string>).map(([k, v]) => ({ OutputKey: k, OutputValue: v })),
  }));
}

interface Candidate {
  readonly key: string;
  readonly body: RunnerCreateBody;
  readonly org?: string;
  readonly where: string;
}

/** The RunnerCreateBody outputs among a stack's outputs. */
function candidatesOf(outputs: readonly StackOutput[], where: string): Candidate[] {
  return outputs
    .filter((o) => (o.OutputKey ?? '').includes('RunnerCreateBody') && typeof o.OutputValue === 'string')
    .map((o) => ({
      key: o.OutputKey!,
      body: parseBody(o.OutputValue!, `output ${o.OutputKey} of ${where}`),
      org: /\(org ([^)\s]+)\)/.exec(o.Description ?? '')?.[1],
      where,
    }));
}

/** The one runner: the only one, or the one `runnerId` names; a usage error listing them otherwise. */
function chooseRunner(
  candidates: Candidate[],
  where: string,
  runnerId: string | undefined,
  outputKeys: string[],
): FoundBody {
  if (candidates.length === 0) {
    const keys = outputKeys.filter((k) => k !== '').join(', ');
    throw new UsageError(
      `${where} has no output whose key contains "RunnerCreateBody" (outputs: ${keys === '' ? 'none' : keys})`,
    );
  }
  const ids = [...new Set(candidates.map((c) => c.body.id))].join(', ');
  const chosen = runnerId === undefined ? candidates : candidates.filter((c) => c.body.id === runnerId);
  if (chosen.length === 0) throw new UsageError(`${where} has no runner "${runnerId}"; its runners: ${ids}`);
  if (chosen.length > 1) {
    throw new UsageError(
      runnerId === undefined
        ? `${where} has several runners (${ids}): choose one with --runner-id`
        : `${where} has runner "${runnerId}" more than once (${chosen.map((c) => c.where).join('; ')})`,
    );
  }
  const c = chosen[0];
  return { body: c.body, source: `${c.where} (output ${c.key})`, orgFromStack: c.org };
}

async function bodyFromStack(
  stackName: string,
  region: string | undefined,
  runnerId: string | undefined,
): Promise<FoundBody> {
  // Loaded on use, so that commands without AWS calls (check --template) start fast.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient(region !== undefined ? { region } : {});
  let outputs: StackOutput[];
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    const err = e as Error;
    if (err.name === 'ValidationError') {
      throw new UsageError(`stack "${stackName}" not found${region ? ` in ${region}` : ''}: ${err.message}`);
    }
    if (/region is missing/i.test(err.message)) {
      throw new UsageError('no AWS region: pass --region or set AWS_REGION');
    }
    if (err.name === 'CredentialsProviderError' || /could not load credentials/i.test(err.message)) {
      throw new UsageError(
        `no AWS credentials to read stack "${stackName}" (${err.message}). Configure them (aws configure, ` +
          'aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or pass --body-file with ' +
          'the file "cdk deploy --outputs-file" wrote',
      );
    }
    throw new Error(`cannot read stack "${stackName}": ${err.name}: ${err.message}`);
  } finally {
    cfn.destroy();
  }
  return chooseRunner(
    candidatesOf(outputs, `stack ${stackName}`),
    `stack "${stackName}"`,
    runnerId,
    outputs.map((o) => o.OutputKey ?? ''),
  );
}

function parseBody(text: string, where: string): RunnerCreateBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(`${where} is not JSON`);
  }
  if (!isRunnerCreateBody(body))
    throw new UsageError(`${where} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`);
  return body;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function redact(text: string): string {
  return activeToken !== undefined && activeToken.length > 0 ? text.split(activeToken).join('***') : text;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const program = buildProgram(env);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; commander has printed any usage error already.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`po-ecs-runner: ${redact(e.message)}`);
      return EXIT_USAGE;
    }
    if (e instanceof RunnerExistsError) {
      io.err(`po-ecs-runner: ${redact(e.message)}`);
      return EXIT_FAILED;
    }
    if (e instanceof OrchestratorApiError) {
      // A 401 or 403 carries the client's hint about the token already (authHint above).
      const hint =
        e.status === 409 && e.operation === 'deleteRunner'
          ? ' Nothing was changed: the runner and its runner rules are still registered. Move those ' +
            'environments to another runner (or delete them), then deregister again.'
          : '';
      io.err(`po-ecs-runner: ${redact(e.message)}${e.message.endsWith('.') ? '' : '.'}${hint}`);
      return EXIT_FAILED;
    }
    io.err(`po-ecs-runner: ${redact((e as Error)?.message ?? String(e))}`);
    return EXIT_FAILED;
  }
}

if (require.main === module) {
  main(process.argv, process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      io.err(`po-ecs-runner: ${redact(String(e))}`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
