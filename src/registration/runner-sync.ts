/*
 * Bringing the orchestrator to a runner's desired state, shared by the registration Lambda
 * handler and the po-ecs-runner CLI. Every call goes through api-client.ts.
 *
 * Ownership of runner rules (a rule has no owner field, so ownership is by content):
 * - a rule is the registration's when it points at the runner and its (environment type,
 *   project) pair is one the registration declares now or declared before (the previous
 *   CloudFormation properties);
 * - missing declared rules are created; rules the registration declared before and no longer
 *   declares are deleted; duplicates of a declared pair are reduced to one;
 * - any other rule for the runner (made by hand, or by another tool) is left alone, also when
 *   the registration is deleted. A hand-made rule identical to a declared one cannot be told
 *   apart from it and is treated as the registration's.
 */
import {
  OrchestratorApiError,
  OrchestratorClient,
  Runner,
  RunnerCreateBody,
  RunnerRule,
  isApiError,
  updateBodyFromCreateBody,
} from './api-client';

/** A runner rule as the registration declares it (API field names). */
export interface RuleSpec {
  readonly env_type_id?: string;
  readonly project_id?: string;
}

/** The identity of a rule for ownership: its environment type and project ('' when unset). */
export function ruleKey(rule: RuleSpec): string {
  return JSON.stringify([rule.env_type_id ?? '', rule.project_id ?? '']);
}

/** Thrown when the runner id is taken and adopting it was not allowed. */
export class RunnerExistsError extends Error {
  constructor(
    public readonly runnerId: string,
    public readonly orgId: string,
    adoptHint: string,
    cause: OrchestratorApiError,
  ) {
    super(
      `Runner "${runnerId}" already exists in organization "${orgId}" (${cause.apiMessage}). ` +
        `Set ${adoptHint} to take it over and update it to this configuration, or choose another runner id.`,
    );
    this.name = 'RunnerExistsError';
    Object.setPrototypeOf(this, RunnerExistsError.prototype);
  }
}

export type EnsureOutcome = 'created' | 'adopted';

/**
 * Create the runner; when its id is taken (409), update it to the body's state if
 * `adoptExisting`, else throw {@link RunnerExistsError} naming the id, org and `adoptHint`.
 */
export async function ensureRunner(
  client: OrchestratorClient,
  body: RunnerCreateBody,
  adoptExisting: boolean,
  adoptHint: string,
): Promise<{ runner: Runner; outcome: EnsureOutcome }> {
  try {
    return { runner: await client.createRunner(body), outcome: 'created' };
  } catch (e) {
    if (!isApiError(e, 409)) throw e;
    if (!adoptExisting) throw new RunnerExistsError(body.id, client.orgId, adoptHint, e);
    return { runner: await client.updateRunner(body.id, updateBodyFromCreateBody(body)), outcome: 'adopted' };
  }
}

/**
 * Update the runner to the body's state; when it is gone (deleted outside the stack), create it
 * again.
 */
export async function updateOrRecreateRunner(
  client: OrchestratorClient,
  body: RunnerCreateBody,
): Promise<{ runner: Runner; outcome: 'updated' | 'created' }> {
  try {
    return { runner: await client.updateRunner(body.id, updateBodyFromCreateBody(body)), outcome: 'updated' };
  } catch (e) {
    if (!isApiError(e, 404)) throw e;
    return { runner: await client.createRunner(body), outcome: 'created' };
  }
}

/** What {@link reconcileRules} did; `rules` are the registration's rules afterwards. */
export interface RuleReconciliation {
  readonly created: RunnerRule[];
  readonly deleted: string[];
  readonly rules: RunnerRule[];
}

/**
 * Make the runner's rules match `desired` (see the module comment for ownership).
 * `onCreated` is told about every rule as soon as it exists, so a caller can undo a partial run.
 * Makes no API call when nothing is or was declared.
 */
export async function reconcileRules(
  client: OrchestratorClient,
  runnerId: string,
  desired: readonly RuleSpec[],
  previouslyDeclared: readonly RuleSpec[],
  onCreated: (rule: RunnerRule) => void = () => undefined,
): Promise<RuleReconciliation> {
  if (desired.length === 0 && previouslyDeclared.length === 0) return { created: [], deleted: [], rules: [] };
  const existing = (await client.listRunnerRules({ byRunnerId: runnerId })).filter((r) => r.runner_id === runnerId);
  const desiredKeys = new Set(desired.map(ruleKey));
  const owned = new Set([...desiredKeys, ...previouslyDeclared.map(ruleKey)]);

  const created: RunnerRule[] = [];
  const kept = new Map<string, RunnerRule>();
  const extra: RunnerRule[] = [];
  for (const rule of existing) {
    const key = ruleKey(rule);
    if (!owned.has(key)) continue; // not ours: left alone
    if (desiredKeys.has(key) && !kept.has(key)) kept.set(key, rule);
    else extra.push(rule); // no longer declared, or a duplicate
  }
  for (const spec of dedupe(desired)) {
    const key = ruleKey(spec);
    if (kept.has(key)) continue;
    const rule = await client.createRunnerRule({ runner_id: runnerId, ...definedOnly(spec) });
    onCreated(rule);
    created.push(rule);
    kept.set(key, rule);
  }
  // Create before delete: a changed rule never leaves a gap in which nothing routes to the runner.
  const deleted: string[] = [];
  for (const rule of extra) {
    await client.deleteRunnerRule(rule.id);
    deleted.push(rule.id);
  }
  return { created, deleted, rules: [...kept.values()] };
}

/** Delete the runner's rules that the registration declares; returns their ids. */
export async function deleteDeclaredRules(
  client: OrchestratorClient,
  runnerId: string,
  declared: readonly RuleSpec[],
): Promise<string[]> {
  const r = await reconcileRules(client, runnerId, [], declared);
  return r.deleted;
}

function dedupe(specs: readonly RuleSpec[]): RuleSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => {
    const k = ruleKey(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function definedOnly(spec: RuleSpec): RuleSpec {
  const out: { env_type_id?: string; project_id?: string } = {};
  if (spec.env_type_id) out.env_type_id = spec.env_type_id;
  if (spec.project_id) out.project_id = spec.project_id;
  return out;
}
