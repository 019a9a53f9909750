/*
 * Bringing the orchestrator to a runner's desired state, shared by the registration Lambda
 * handler and the po-ecs-runner CLI. Every call goes through api-client.ts.
 *
 * What the API server does decides the order of calls (stellwerk-labs/platform-orchestrator-cp):
 * - a runner rule's (project, environment type) pair is unique in the organization, whatever its
 *   runner: a second rule for a pair is a 409, so a rule moves from one runner to another by
 *   deleting it, then creating it for the new runner (there is no rule update);
 * - deleting a runner deletes its rules (ON DELETE CASCADE), and a runner in use by
 *   environments is not deleted (409): so a registration never deletes its rules before its
 *   runner, and a refused delete changes nothing;
 * - a create whose runner exists exactly as sent is a success (a retry or a redelivered event).
 *
 * Ownership of runner rules (a rule has no owner field, so ownership is by content):
 * - a rule is the registration's when it points at the runner and its (environment type,
 *   project) pair is one the registration declares now or declared before (the previous
 *   CloudFormation properties);
 * - missing declared rules are created, or taken over from the registration's other runner
 *   (the old one of a replacement, or the new one when a replacement is rolled back); rules the
 *   registration declared before and no longer declares are deleted; duplicates are reduced to one;
 * - any other rule for the runner (made by hand, or by another tool) is left alone by updates;
 *   the server deletes it with the runner. A hand-made rule identical to a declared one cannot
 *   be told apart from it and is treated as the registration's.
 */
import type { RunnerCreateBody } from '../runner-create-body';
import { OrchestratorClient, Runner, RunnerRule } from './api-client';
import { updateBodyFromCreateBody } from './runner-diff';
import { OrchestratorApiError, isApiError } from './transport';

/** A runner rule as the registration declares it (API field names). */
export interface RuleSpec {
  readonly env_type_id?: string;
  readonly project_id?: string;
}

/**
 * The environment type and project of a rule (or spec), with '' left out: an empty id means
 * "every", as absent does ({@link ruleKey} makes them the same rule), and is never sent.
 */
export function ruleSpec(rule: RuleSpec): RuleSpec {
  return {
    ...(rule.env_type_id ? { env_type_id: rule.env_type_id } : {}),
    ...(rule.project_id ? { project_id: rule.project_id } : {}),
  };
}

/** The identity of a rule for ownership: its environment type and project ('' when unset). */
export function ruleKey(rule: RuleSpec): string {
  return JSON.stringify([rule.env_type_id ?? '', rule.project_id ?? '']);
}

/** Thrown when the runner id is taken by a runner of another configuration and adopting it was not allowed. */
export class RunnerExistsError extends Error {
  constructor(
    public readonly runnerId: string,
    public readonly orgId: string,
    adoptHint: string,
    cause: OrchestratorApiError,
  ) {
    super(
      `Runner "${runnerId}" already exists in organization "${orgId}" with another configuration (${cause.apiMessage}). ` +
        `Set ${adoptHint} to take it over and update it to this configuration, or choose another runner id.`,
    );
    this.name = 'RunnerExistsError';
    Object.setPrototypeOf(this, RunnerExistsError.prototype);
  }
}

/** Thrown when a declared rule's pair is routed to a runner outside the registration. */
export class RuleTakenError extends Error {
  constructor(
    public readonly runnerId: string,
    spec: RuleSpec,
    cause: OrchestratorApiError,
  ) {
    super(
      `The runner rule for ${describeRule(spec)} cannot be created for runner "${runnerId}": ${cause.apiMessage}. ` +
        `The orchestrator keeps one rule per project and environment type in an organization: delete the other ` +
        `rule (or move it with this registration's rules), or drop this one from the registration's rules.`,
    );
    this.name = 'RuleTakenError';
    Object.setPrototypeOf(this, RuleTakenError.prototype);
  }
}

/** `environment type "x" in project "y"`, for messages. */
export function describeRule(spec: RuleSpec): string {
  const env = spec.env_type_id ? `environment type "${spec.env_type_id}"` : 'every environment type';
  const project = spec.project_id ? `project "${spec.project_id}"` : 'every project';
  return `${env} in ${project}`;
}

/**
 * - created: this call registered it;
 * - existed: it was registered already, exactly as sent (a repeated create);
 * - adopted: it was registered with another configuration and updated to this one (adoptExisting).
 */
export type EnsureOutcome = 'created' | 'existed' | 'adopted';

/**
 * Create the runner. When its id is taken (409): by a runner exactly as sent, that is success
 * (`existed`); by another configuration, update it to the body's state if `adoptExisting`, else
 * throw {@link RunnerExistsError} naming the id, org and `adoptHint`.
 */
export async function ensureRunner(
  client: OrchestratorClient,
  body: RunnerCreateBody,
  adoptExisting: boolean,
  adoptHint: string,
): Promise<{ runner: Runner; outcome: EnsureOutcome }> {
  try {
    const { runner, existed } = await client.createRunnerOrFindIdentical(body);
    return { runner, outcome: existed ? 'existed' : 'created' };
  } catch (e) {
    if (!isApiError(e, 409) || e.idTaken === false) throw e;
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

/** One change {@link reconcileRules} made, as soon as it is made: enough to undo it. */
export type RuleChange =
  | { readonly kind: 'created'; readonly rule: RunnerRule }
  | { readonly kind: 'moved-away'; readonly from: RunnerRule }
  | { readonly kind: 'moved'; readonly from: RunnerRule; readonly rule: RunnerRule };

/** What {@link reconcileRules} did; `rules` are the registration's rules afterwards. */
export interface RuleReconciliation {
  readonly created: RunnerRule[];
  /** Rules taken over from another runner: the old rule (deleted) and the new one. */
  readonly moved: { readonly from: RunnerRule; readonly rule: RunnerRule }[];
  readonly deleted: string[];
  readonly rules: RunnerRule[];
}

export interface ReconcileOptions {
  /**
   * Other runners of the registration (same organization) whose rules for declared pairs are
   * taken over: each such rule is deleted and at once created for this runner, one pair at a
   * time, so no pair goes unrouted for longer than one call and no create meets a 409.
   * @default - none
   */
  readonly takeOverFrom?: readonly string[];
  /** Told about every change as soon as it is made, so a caller can undo a partial run. */
  readonly onChange?: (change: RuleChange) => void;
}

/**
 * Make the runner's rules match `desired` (see the module comment for ownership).
 * Makes no API call when nothing is or was declared.
 */
export async function reconcileRules(
  client: OrchestratorClient,
  runnerId: string,
  desired: readonly RuleSpec[],
  previouslyDeclared: readonly RuleSpec[],
  options: ReconcileOptions = {},
): Promise<RuleReconciliation> {
  const onChange = options.onChange ?? (() => undefined);
  if (desired.length === 0 && previouslyDeclared.length === 0) {
    return { created: [], moved: [], deleted: [], rules: [] };
  }
  const existing = (await client.listRunnerRules({ byRunnerId: runnerId })).filter((r) => r.runner_id === runnerId);
  const desiredKeys = new Set(desired.map(ruleKey));
  const owned = new Set([...desiredKeys, ...previouslyDeclared.map(ruleKey)]);

  const kept = new Map<string, RunnerRule>();
  const extra: RunnerRule[] = [];
  for (const rule of existing) {
    const key = ruleKey(rule);
    if (!owned.has(key)) continue; // not ours: left alone
    if (desiredKeys.has(key) && !kept.has(key)) kept.set(key, rule);
    else extra.push(rule); // no longer declared, or a duplicate
  }

  // The declared pairs the registration's other runners still hold.
  const missing = dedupe(desired).filter((spec) => !kept.has(ruleKey(spec)));
  const heldElsewhere = new Map<string, RunnerRule>();
  if (missing.length > 0) {
    for (const other of new Set(options.takeOverFrom ?? [])) {
      if (other === runnerId) continue;
      for (const rule of await client.listRunnerRules({ byRunnerId: other })) {
        if (rule.runner_id === other && !heldElsewhere.has(ruleKey(rule))) heldElsewhere.set(ruleKey(rule), rule);
      }
    }
  }

  const created: RunnerRule[] = [];
  const moved: { from: RunnerRule; rule: RunnerRule }[] = [];
  for (const spec of missing) {
    const key = ruleKey(spec);
    const from = heldElsewhere.get(key);
    if (from !== undefined) {
      await client.deleteRunnerRule(from.id);
      onChange({ kind: 'moved-away', from });
    }
    let rule: RunnerRule;
    try {
      rule = await client.createRunnerRule({ runner_id: runnerId, ...ruleSpec(spec) });
    } catch (e) {
      if (isApiError(e, 409)) throw new RuleTakenError(runnerId, spec, e);
      throw e;
    }
    if (from !== undefined) {
      onChange({ kind: 'moved', from, rule });
      moved.push({ from, rule });
    } else {
      onChange({ kind: 'created', rule });
      created.push(rule);
    }
    kept.set(key, rule);
  }
  // Pairs differ from the ones created above, so deleting last never leaves a declared pair unrouted.
  const deleted: string[] = [];
  for (const rule of extra) {
    await client.deleteRunnerRule(rule.id);
    deleted.push(rule.id);
  }
  // In declared order, so a repeated event returns the same result.
  const rules = dedupe(desired).flatMap((spec) => kept.get(ruleKey(spec)) ?? []);
  return { created, moved, deleted, rules };
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
