/**
 * The offline check: the contract's calls for every runner of a synthesized template, decided by
 * the evaluator (./evaluator.ts) over the template's own policies. Shared by
 * `po-ecs-runner check --template` and the conformance tests; `check --stack` (live) reuses
 * {@link contractCallsFromTemplate} and evaluates the same calls with IAM's simulator.
 */
import { contractCalls } from './calls';
import { CallResult, ContractCall } from './contract';
import {
  Evaluation,
  EvaluationRequest,
  LocatedStatement,
  RequestPrincipal,
  UndecidablePolicyError,
  evaluate,
} from './evaluator';
import {
  ModelOptions,
  RunnerModel,
  TemplateModel,
  boundaryOf,
  bucketPolicyOf,
  identityPolicies,
  keyPolicyOf,
  readTemplate,
  trustPolicyOf,
} from './model';

/** One runner of a template and the calls that prove it. */
export interface RunnerCalls {
  readonly runner: RunnerModel;
  readonly calls: ContractCall[];
}

/** The contract calls (real calls and attacks) of every runner in a synthesized template. */
export function contractCallsFromTemplate(template: unknown, options: ModelOptions = {}): RunnerCalls[] {
  return callsOf(readTemplate(template, options));
}

function callsOf(model: TemplateModel): RunnerCalls[] {
  return model.runners.map((runner) => ({ runner, calls: contractCalls(runner) }));
}

/** The evaluator's input for one call: the principal, the policies that apply, how they combine. */
export function evaluationRequest(
  model: TemplateModel,
  runner: RunnerModel,
  call: ContractCall,
  notes?: string[],
): EvaluationRequest {
  const base = { action: call.action, resource: call.resource, context: call.context };
  if (call.principal === 'web-identity') {
    const principal: RequestPrincipal = { type: 'Federated', id: runner.oidcProviderArn };
    return {
      ...base,
      principal,
      identity: [],
      resourcePolicy: trustPolicyOf(model, call.roleLogicalId),
      resourcePolicyMode: 'only',
    };
  }
  const roleArn = model.template.arnOf(call.roleLogicalId);
  const principal: RequestPrincipal = { type: 'AWS', id: roleArn, account: runner.env.account };
  const identity = identityPolicies(model, call.roleLogicalId, notes);
  const boundary = boundaryOf(model, call.roleLogicalId, notes);
  const service = call.action.split(':')[0].toLowerCase();
  let resourcePolicy: LocatedStatement[] | undefined;
  let resourcePolicyMode: EvaluationRequest['resourcePolicyMode'] = 'either';
  if (service === 'sts' && call.action.toLowerCase().startsWith('sts:assumerole')) {
    const target = model.template.logicalIdOf(call.resource);
    resourcePolicy = target !== undefined ? trustPolicyOf(model, target) : [];
    resourcePolicyMode = 'trust';
  } else if (service === 's3') {
    const bucketName = call.resource.replace(/^arn:[^:]+:s3:::/, '').split('/')[0];
    resourcePolicy = bucketPolicyOf(model, bucketName);
  } else if (service === 'kms') {
    resourcePolicyMode = 'key';
    resourcePolicy = keyPolicyOf(model, call.resource);
    if (resourcePolicy === undefined) {
      notes?.push(
        `key ${call.resource} is not in the template: assumed its key policy delegates to the account's IAM policies`,
      );
      resourcePolicy = [
        {
          source: `${call.resource} (assumed default key policy)`,
          kind: 'key',
          index: 0,
          statement: {
            Effect: 'Allow',
            Principal: { AWS: `arn:${runner.env.partition}:iam::${runner.env.account}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
        },
      ];
    }
  }
  return { ...base, principal, identity, boundary, resourcePolicy, resourcePolicyMode };
}

/** Decides one call of one runner. */
export function evaluateCall(
  model: TemplateModel,
  runner: RunnerModel,
  call: ContractCall,
  request: EvaluationRequest = evaluationRequest(model, runner, call),
): CallResult {
  let evaluation: Evaluation;
  try {
    evaluation = evaluate(request);
  } catch (e) {
    if (e instanceof UndecidablePolicyError) return { call, decision: 'could-not-check', ok: false, detail: e.message };
    throw e;
  }
  const ok = evaluation.decision === call.expect;
  let detail = evaluation.reason;
  if (!ok && evaluation.decision === 'allowed') {
    detail = `should be denied, but is ${evaluation.reason}`;
  } else if (!ok) {
    detail = evaluation.deniedBy !== undefined ? evaluation.reason : `missing permission: ${evaluation.reason}`;
  }
  return { call, decision: evaluation.decision, ok, detail };
}

/** One runner's results. */
export interface RunnerResults {
  readonly runner: RunnerModel;
  readonly results: CallResult[];
  /** What the check assumed or could not see (permissions boundaries, imported keys, ...). */
  readonly notes: string[];
}

/** The offline check of a whole template: every call of every runner, decided. */
export function evaluateOffline(template: unknown, options: ModelOptions = {}): RunnerResults[] {
  const model = readTemplate(template, options);
  return callsOf(model).map(({ runner, calls }) => {
    const notes = [...runner.notes];
    const results = calls.map((call) =>
      evaluateCall(model, runner, call, evaluationRequest(model, runner, call, notes)),
    );
    return { runner, results, notes: [...new Set(notes)] };
  });
}
