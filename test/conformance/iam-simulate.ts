/**
 * The second opinion: each contract call decided by `@cloud-copilot/iam-simulate`, a maintained
 * IAM evaluator (devDependency only: AGPL, so never bundled into the CLI), over the same policies
 * the offline engine collects. The conformance suite requires both to agree on every call.
 */
import { runSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { ContractCall, RunnerModel, TemplateModel, evaluationRequest } from '../../src/cli/check';
import { LocatedStatement } from '../../src/cli/check/evaluator';

export interface SimulateDecision {
  readonly decision: 'allowed' | 'denied';
  readonly overall: string;
}

const KNOWN_ISSUER = 'accounts.google.com';

const doc = (statements: readonly LocatedStatement[]) => ({
  Version: '2012-10-17',
  Statement: statements.map((s) => s.statement),
});

/** How iam-simulate decides one call (errors, e.g. a context key it does not know, are thrown). */
export async function simulate(
  model: TemplateModel,
  runner: RunnerModel,
  call: ContractCall,
): Promise<SimulateDecision> {
  const req = evaluationRequest(model, runner, call);
  const { account } = runner.env;
  const principal =
    req.principal.type === 'Federated'
      ? req.principal.id
      : `arn:${runner.env.partition}:sts::${account}:assumed-role/${req.principal.id.split('/').pop()}/session`;
  const byPolicy = new Map<string, LocatedStatement[]>();
  for (const s of req.identity) byPolicy.set(s.source, [...(byPolicy.get(s.source) ?? []), s]);
  // iam-simulate knows the condition keys of a few identity providers only (a custom issuer's
  // `<issuer>:sub` would be dropped as unknown): rename the issuer to one it knows, in the trust
  // policy and the request alike. The prefix is only a name, so the decision is the same.
  const issuer = runner.orchestrator.issuer;
  const rename = <T>(value: T): T =>
    req.principal.type === 'Federated'
      ? JSON.parse(JSON.stringify(value).split(`${issuer}:`).join(`${KNOWN_ISSUER}:`))
      : value;
  const simulation: Simulation = {
    request: {
      principal,
      action: call.action,
      resource: { resource: call.resource, accountId: account },
      contextVariables: rename({
        ...(Object.fromEntries(
          Object.entries(call.context).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]),
        ) as Record<string, string | string[]>),
        ...(req.principal.type === 'AWS' ? { 'aws:PrincipalArn': req.principal.id } : {}),
      }),
    },
    identityPolicies: [...byPolicy.entries()].map(([name, statements]) => ({ name, policy: doc(statements) })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy:
      req.resourcePolicy !== undefined && req.resourcePolicy.length > 0 ? rename(doc(req.resourcePolicy)) : undefined,
    permissionBoundaryPolicies:
      req.boundary !== undefined && req.boundary !== 'unknown'
        ? [{ name: 'boundary', policy: doc(req.boundary) }]
        : undefined,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate refused ${call.id}: ${JSON.stringify(result.errors)}`);
  }
  return { decision: result.overallResult === 'Allowed' ? 'allowed' : 'denied', overall: result.overallResult };
}
