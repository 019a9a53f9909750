/**
 * The contract's calls, decided by AWS: `iam:SimulatePrincipalPolicy` on the deployed role, with
 * the request context each call carries. What the simulator cannot take from a role's point of
 * view is decided from the deployed policies themselves, by the offline engine's evaluator
 * (../evaluator.ts) over the deployed template as the engine's resolver reads it (../resolve.ts):
 * - a web identity's `sts:AssumeRoleWithWebIdentity`: the deployed trust policy (`iam:GetRole`);
 * - the state bucket's policy and a KMS key's policy, when the stack holds them: the simulator
 *   accepts a `ResourcePolicy` only with an IAM user as `CallerArn`, never a role, so the role's
 *   identity policies are simulated and the resource policy is evaluated from the deployed
 *   template.
 */
import { GetRoleCommand, SimulatePrincipalPolicyCommand, type ContextEntry } from '@aws-sdk/client-iam';
import { CheckCallError, LiveClients, checkCall } from './aws';
import { DeployedRunner, DeployedStack, deployedTemplate } from './stack';
import type { CallResult, ContractCall } from '../contract';
import { Evaluation, LocatedStatement, Statement, UndecidablePolicyError, evaluate } from '../evaluator';
import { bucketPolicyOf, keyPolicyOf } from '../model';
import { UnresolvedError } from '../resolve';

type Json = any;

/** Condition keys whose IAM type is not `string` (the IAM global and service condition key references). */
const KEY_TYPES: Record<string, 'boolean' | 'numeric' | 'date' | 'ip'> = {
  'aws:securetransport': 'boolean',
  'aws:viaawsservice': 'boolean',
  'aws:principalisawsservice': 'boolean',
  'aws:multifactorauthpresent': 'boolean',
  'kms:grantisforawsresource': 'boolean',
  'aws:multifactorauthage': 'numeric',
  'aws:epochtime': 'numeric',
  's3:max-keys': 'numeric',
  's3:signatureage': 'numeric',
  'aws:currenttime': 'date',
  'aws:tokenissuetime': 'date',
  'aws:sourceip': 'ip',
};

/** The simulator's context entries for a call's context, each with its ContextKeyType. */
export function contextEntries(context: Readonly<Record<string, string | readonly string[]>>): ContextEntry[] {
  return Object.entries(context).map(([name, value]) => {
    const base = KEY_TYPES[name.toLowerCase()] ?? 'string';
    const list = Array.isArray(value);
    return {
      ContextKeyName: name,
      ContextKeyValues: list ? [...(value as readonly string[])] : [value as string],
      ContextKeyType: (list ? `${base}List` : base) as ContextEntry['ContextKeyType'],
    };
  });
}

/** The deployed ARN of each principal of a runner, from its registered body (when a call's role is not in the stack). */
export function principalArns(runner: DeployedRunner): Record<ContractCall['principal'], string | undefined> {
  const cfg = runner.body.runner_configuration as Json;
  return {
    'web-identity': cfg?.auth?.role_arn,
    'task-manager': cfg?.auth?.role_arn,
    execution: cfg?.job?.execution_role_arn,
    task: cfg?.job?.task_role_arn,
  };
}

/** A call with its `${...}` references (Fn::Sub notation) resolved against the deployed stack. */
export function resolveCall(stack: DeployedStack, call: ContractCall): ContractCall {
  const { template } = deployedTemplate(stack);
  const sub = (s: string) => (s.includes('${') ? String(template.resolve({ 'Fn::Sub': s })) : s);
  return {
    ...call,
    resource: sub(call.resource),
    context: Object.fromEntries(
      Object.entries(call.context).map(([k, v]) => [k, Array.isArray(v) ? (v as string[]).map(sub) : sub(v as string)]),
    ),
  };
}

const PRINCIPAL_PROP: Record<ContractCall['principal'], string> = {
  'web-identity': 'the task-manager role (taskManagerRole)',
  'task-manager': 'the task-manager role (taskManagerRole)',
  execution: 'the execution role (executionRole)',
  task: 'the task role (taskRole)',
};

/** What to change, in EcsRunner's terms, when a call is not decided as the contract expects. */
export function hint(call: ContractCall): string {
  const a = call.action.toLowerCase();
  if (call.expect === 'denied') {
    return `this call must be denied but is allowed: remove the statement that allows it (taskRoleStatements, taskRoleManagedPolicies or a policy attached outside the library to ${PRINCIPAL_PROP[call.principal]})`;
  }
  if (call.principal === 'web-identity') {
    return 'the trust policy must allow the orchestrator\'s token: check orchestrator (the token\'s issuer), orgId and runnerId (sub "<orgId>+<runnerId>"), and oidcProviderArn';
  }
  if (a.startsWith('ecs:') && /registertaskdefinition|deletetaskdefinitions|tagresource|runtask/.test(a)) {
    return 'check orchestrator (its task definition families: humanitec_ for Orchestrator.humanitec(), platform_orchestrator_env_<orgId>_ for Orchestrator.stellwerk()) and cluster; a permissionsBoundary or an SCP may deny it';
  }
  if (a.startsWith('ecs:'))
    return 'check cluster (the job cluster the runner was given); a permissionsBoundary or an SCP may deny it';
  if (a === 'iam:passrole') {
    return "the task-manager role may pass only the runner's executionRole and taskRole to ecs-tasks.amazonaws.com: redeploy the stack if the roles were changed outside it";
  }
  if (a.startsWith('secretsmanager:') || a.startsWith('ssm:'))
    return 'add the secret to secrets (the execution role may read exactly those)';
  if (a.startsWith('kms:') && call.principal === 'execution') {
    return "add the secret's key to secretsEncryptionKeys, and let the key policy delegate to IAM or allow the execution role";
  }
  if (a.startsWith('kms:')) {
    return 'give the state key as encryption: RunnerEncryption.fromKey(key) (or import the StateBucket.fromBucket bucket with its encryptionKey), and let the key policy delegate to IAM or allow the task role';
  }
  if (a.startsWith('s3:')) {
    return 'check state.bucket and state.pathPrefix; with StateBucket.create({ restrictAccess }) only the task role and administrators may touch state';
  }
  return `check the policies of ${PRINCIPAL_PROP[call.principal]}; a permissionsBoundary or an SCP may deny it`;
}

function result(call: ContractCall, decision: CallResult['decision'], detail: string): CallResult {
  const ok = decision !== 'could-not-check' && decision === call.expect;
  return {
    call,
    decision,
    ok,
    detail: ok ? detail : decision === 'could-not-check' ? detail : `${detail}; ${hint(call)}`,
  };
}

function couldNotCheck(call: ContractCall, e: unknown): CallResult {
  if (e instanceof CheckCallError) return result(call, 'could-not-check', e.message);
  if (e instanceof UnresolvedError || e instanceof UndecidablePolicyError) {
    return result(call, 'could-not-check', (e as Error).message);
  }
  return result(call, 'could-not-check', `unexpected error: ${(e as Error)?.message ?? String(e)}`);
}

/** The issuer of a web-identity call: its `<issuer>:aud` context key, else the runner's metadata. */
function issuerOf(runner: DeployedRunner, call: ContractCall): string | undefined {
  const fromContext = Object.keys(call.context)
    .find((k) => k.endsWith(':aud'))
    ?.slice(0, -':aud'.length);
  const fromMetadata: unknown = runner.metadata?.orchestrator?.issuer;
  return fromContext ?? (typeof fromMetadata === 'string' ? fromMetadata : undefined);
}

/** The deployed ARN of the call's role (`roleLogicalId`), when the stack has it. */
function roleOf(stack: DeployedStack, call: ContractCall): string | undefined {
  if (stack.resources.get(call.roleLogicalId)?.type !== 'AWS::IAM::Role') return undefined;
  try {
    return deployedTemplate(stack).template.arnOf(call.roleLogicalId);
  } catch (e) {
    if (e instanceof UnresolvedError) return undefined;
    throw e;
  }
}

/** Evaluates every call of a runner. Calls are independent; at most `concurrency` run at once. */
export async function evaluateCalls(
  clients: LiveClients,
  stack: DeployedStack,
  runner: DeployedRunner,
  calls: readonly ContractCall[],
  concurrency = 4,
): Promise<CallResult[]> {
  const trustPolicies = new Map<string, Promise<Json>>();
  const trustPolicy = (roleArn: string) => {
    if (!trustPolicies.has(roleArn)) {
      const name = roleArn.split('/').pop()!;
      trustPolicies.set(
        roleArn,
        checkCall('iam:GetRole', () => clients.iam.send(new GetRoleCommand({ RoleName: name }))).then((r) =>
          JSON.parse(decodeURIComponent(r.Role?.AssumeRolePolicyDocument ?? '{}')),
        ),
      );
    }
    return trustPolicies.get(roleArn)!;
  };
  const arns = principalArns(runner);

  const one = async (raw: ContractCall): Promise<CallResult> => {
    let call = raw;
    try {
      call = resolveCall(stack, raw);
      const roleArn = roleOf(stack, call) ?? arns[call.principal];
      if (roleArn === undefined) {
        return result(call, 'could-not-check', `the RunnerCreateBody has no ARN for the ${call.principal} role`);
      }
      if (call.principal === 'web-identity') {
        const issuer = issuerOf(runner, call);
        if (issuer === undefined) return result(call, 'could-not-check', 'the issuer of the web identity is not known');
        const provider = `arn:${stack.partition}:iam::${stack.account}:oidc-provider/${issuer}`;
        const d = evaluate({
          action: call.action,
          resource: call.resource,
          principal: { type: 'Federated', id: provider },
          context: call.context,
          identity: [],
          resourcePolicy: located(await trustPolicy(roleArn), roleArn, 'trust'),
          resourcePolicyMode: 'only',
        });
        return result(
          call,
          d.decision,
          d.decision === 'allowed'
            ? `the deployed trust policy allows it (${label(d.allowedBy[0])})`
            : d.deniedBy !== undefined
              ? `the deployed trust policy denies it (${label(d.deniedBy)})`
              : `no statement of the deployed trust policy allows it for ${provider}`,
        );
      }
      return await simulate(clients, stack, call, roleArn);
    } catch (e) {
      return couldNotCheck(call, e);
    }
  };

  const results: CallResult[] = new Array(calls.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, calls.length) }, async () => {
      while (next < calls.length) {
        const i = next++;
        results[i] = await one(calls[i]);
      }
    }),
  );
  return results;
}

async function simulate(
  clients: LiveClients,
  stack: DeployedStack,
  call: ContractCall,
  roleArn: string,
): Promise<CallResult> {
  const res = await checkCall('iam:SimulatePrincipalPolicy', () =>
    clients.iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: [call.action],
        ResourceArns: [call.resource],
        ContextEntries: contextEntries(call.context),
      }),
    ),
  );
  const r = res.EvaluationResults?.[0];
  if (r?.EvalDecision === undefined)
    throw new CheckCallError('iam:SimulatePrincipalPolicy', new Error('no evaluation result'));
  const matched = (r.MatchedStatements ?? []).map((s) => s.SourcePolicyId ?? s.SourcePolicyType ?? '?').join(', ');
  let decision: 'allowed' | 'denied' = r.EvalDecision === 'allowed' ? 'allowed' : 'denied';
  let detail: string;
  if (decision === 'allowed') {
    detail = `IAM simulator: allowed${matched ? ` by ${matched}` : ''}`;
  } else if (r.OrganizationsDecisionDetail?.AllowedByOrganizations === false) {
    detail = 'IAM simulator: denied by a service control policy of your organization (outside the stack)';
  } else if (r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary === false) {
    detail = `IAM simulator: the role's permissions boundary (permissionsBoundary) does not allow ${call.action}`;
  } else if (r.EvalDecision === 'explicitDeny') {
    detail = `IAM simulator: explicitly denied${matched ? ` by ${matched}` : ''}`;
  } else {
    const missing = r.MissingContextValues ?? [];
    detail = `IAM simulator: no statement of the role allows ${call.action} on ${call.resource}${
      missing.length > 0 ? ` (context keys the policies test but the call lacks: ${missing.join(', ')})` : ''
    }`;
  }

  // The resource's own policy, when the stack holds it (the simulator cannot take it for a role).
  const resourcePolicy = resourcePolicyFor(stack, call.resource);
  if (resourcePolicy !== undefined) {
    const d = evaluateResourcePolicy(stack, resourcePolicy, call, roleArn);
    if (d.deniedBy !== undefined) {
      decision = 'denied';
      detail = `${resourcePolicy.what} ${resourcePolicy.logicalId} denies it (${label(d.deniedBy)})`;
    } else if (resourcePolicy.kind === 'key') {
      if (d.decision === 'allowed' && d.delegatedBy === undefined) {
        decision = 'allowed';
        detail = `${resourcePolicy.what} ${resourcePolicy.logicalId} allows the role (${label(d.allowedBy[0])})`;
      } else if (d.delegatedBy !== undefined) {
        detail = `${detail}; ${resourcePolicy.what} ${resourcePolicy.logicalId} lets IAM policies decide (${label(d.delegatedBy[0])})`;
      } else {
        decision = 'denied';
        detail = `${resourcePolicy.what} ${resourcePolicy.logicalId} neither allows the role nor lets IAM policies decide`;
      }
    } else {
      detail = `${detail}; ${resourcePolicy.what} ${resourcePolicy.logicalId} does not deny it`;
    }
  }
  return result(call, decision, detail);
}

interface ResourcePolicy {
  readonly kind: 'bucket' | 'key';
  readonly what: string;
  readonly logicalId: string;
  /** Its statements, resolved to the deployed values. */
  readonly statements: readonly LocatedStatement[];
}

/** The Sid of a statement, else its position: what the report names it by. */
function label(s: LocatedStatement): string {
  return s.statement.Sid !== undefined && s.statement.Sid !== '' ? s.statement.Sid : `statement ${s.index + 1}`;
}

function located(document: Json, source: string, kind: LocatedStatement['kind']): LocatedStatement[] {
  const statements = document?.Statement;
  return (Array.isArray(statements) ? statements : statements === undefined ? [] : [statements]).map(
    (statement: Statement, index: number) => ({ source, kind, index, statement }),
  );
}

/**
 * What a bucket or key policy says about a role's call, the role's identity policies aside (IAM's
 * simulator decides those): `deniedBy` when it denies; for a key, `allowed` when it names the role
 * and `delegatedBy` when it lets the account's IAM policies decide.
 */
export function evaluateResourcePolicy(
  stack: Pick<DeployedStack, 'account'>,
  policy: ResourcePolicy,
  call: Pick<ContractCall, 'action' | 'resource' | 'context'>,
  roleArn: string,
): Evaluation {
  return evaluate({
    action: call.action,
    resource: call.resource,
    principal: { type: 'AWS', id: roleArn, account: stack.account },
    context: { 'aws:PrincipalArn': roleArn, 'aws:PrincipalAccount': stack.account, ...call.context },
    identity: [],
    resourcePolicy: policy.statements,
    resourcePolicyMode: policy.kind === 'key' ? 'key' : 'either',
  });
}

/** The bucket policy or key policy of a resource of the stack, resolved to deployed values. */
export function resourcePolicyFor(stack: DeployedStack, resource: string): ResourcePolicy | undefined {
  const model = deployedTemplate(stack);
  const bucket = /^arn:[^:]+:s3:::([^/]+)/.exec(resource)?.[1];
  if (bucket !== undefined) {
    const statements = bucketPolicyOf(model, bucket);
    if (statements !== undefined) {
      return { kind: 'bucket', what: 'the bucket policy', logicalId: statements[0]?.source ?? '', statements };
    }
  }
  if (/^arn:[^:]+:kms:/.test(resource)) {
    const statements = keyPolicyOf(model, resource);
    const logicalId = model.template.logicalIdOf(resource);
    if (statements !== undefined && logicalId !== undefined) {
      return { kind: 'key', what: 'the key policy of', logicalId, statements };
    }
  }
  return undefined;
}
