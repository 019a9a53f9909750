/*
 * CloudFormation custom resource handler (onEvent of custom_resources.Provider) that registers
 * a runner with the Platform Orchestrator. Bundled by scripts/bundle.mjs into
 * assets/registration-handler/index.js; the AWS SDK v3 comes from the Lambda runtime.
 *
 * ResourceProperties (all strings):
 * - OrgId, ApiUrl, Body (JSON RunnerCreateBody), RunnerId (optional; must equal Body.id)
 * - TokenSecretArn: a Secrets Manager secret holding the API token, either the raw token or
 *   JSON {"token": "..."} (surrounding whitespace is ignored). Read at run time, never logged.
 * - AdoptExisting, RetainOnDelete: 'true' | 'false'
 * - Rules: JSON array of {env_type_id?, project_id?}
 *
 * PhysicalResourceId: `<orgId>/<runnerId>`.
 * - Create: POST. A 409 for a runner exactly as sent is success (a retry or a redelivered
 *   event); for another configuration it adopts (PATCH) with AdoptExisting, else fails naming
 *   the id, the org and `adoptExisting`. Then the rules. When a later step fails, or the POST
 *   may have committed although it failed, what this event created is deleted again: the
 *   Provider framework ignores the Delete that follows a failed Create, so nothing else would.
 * - Update: a new org or runner id is a replacement: the new runner is created and takes the
 *   old runner's declared rules over (each deleted, then created for the new runner), and its id
 *   is returned; CloudFormation then sends Delete for the old one. A failed replacement moves the
 *   rules back and deletes the runner it created. Otherwise PATCH (re-created when it was deleted
 *   outside the stack) and reconcile the rules, taking back any the old properties' runner holds
 *   (the rollback of a replacement).
 * - Delete: DELETE the runner; the server deletes its rules with it. 404 is success; 409 (in
 *   use by environments) fails with the API's message and changes nothing; RetainOnDelete
 *   leaves both in place (and reads no secret).
 * Every outbound call is bounded: the token read by its own timeout, the API calls by the
 * client's deadline, both inside the function's remaining time less what an undo and the
 * failure report need. See runner-sync.ts for which rules are the registration's.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_API_URL, DEFAULT_DEADLINE_MS } from '../api-defaults';
import { RUNNER_CREATE_BODY_SHAPE, RunnerCreateBody, isRunnerCreateBody } from '../runner-create-body';
import { OrchestratorClient, RunnerRule } from './api-client';
import { diffRunner } from './runner-diff';
import {
  EnsureOutcome,
  RuleChange,
  RuleSpec,
  ensureRunner,
  reconcileRules,
  ruleSpec,
  updateOrRecreateRunner,
} from './runner-sync';
import { OrchestratorApiError, clip, isApiError, tuningFromEnv } from './transport';

/** The subset of a CloudFormation custom resource event the handler reads. */
export interface RegistrationEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  readonly LogicalResourceId?: string;
  readonly RequestId?: string;
  readonly StackId?: string;
}

/** The part of the Lambda context the handler reads: how long it may still run. */
export interface RegistrationContext {
  getRemainingTimeInMillis(): number;
}

export interface RegistrationResult {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

interface Properties {
  readonly orgId: string;
  readonly apiUrl: string;
  readonly body: RunnerCreateBody;
  readonly tokenSecretArn: string;
  readonly adoptExisting: boolean;
  readonly retainOnDelete: boolean;
  readonly rules: RuleSpec[];
}

const ADOPT_HINT = 'adoptExisting: true (custom resource property AdoptExisting)';

/**
 * The time budget of one event. The function's timeout (runner-registration.ts: 300 s) is
 * split, from the start: the token read ({@link SECRET_TIMEOUT_MS}), the event's API calls (the
 * client deadline, PO_API_DEADLINE_MS, cut to what the remaining time allows), an undo of a
 * failed create with a client of its own ({@link UNDO_DEADLINE_MS}: the event's client may have
 * spent its deadline, often why the create failed), and {@link REPORT_RESERVE_MS} in which the
 * handler still throws its own error, so CloudFormation shows that error and not "Task timed out".
 */
export const SECRET_TIMEOUT_MS = 10_000;
export const UNDO_DEADLINE_MS = 45_000;
export const REPORT_RESERVE_MS = 10_000;

/**
 * Longest message the handler throws. The provider framework sends the error's stack as the
 * CloudFormation Reason, and a response over 4096 bytes is rejected (the stack then hangs until
 * its timeout).
 */
const MAX_ERROR_MESSAGE = 2000;

function log(line: string): void {
  console.log(line);
}

export async function onEvent(event: RegistrationEvent, context?: RegistrationContext): Promise<RegistrationResult> {
  const budget = Budget.of(context);
  try {
    switch (event.RequestType) {
      case 'Create':
        return await onCreate(parseProperties(event.ResourceProperties, 'ResourceProperties'), budget);
      case 'Update':
        return await onUpdate(event, budget);
      case 'Delete':
        return await onDelete(event, budget);
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}`);
    }
  } catch (e) {
    throw capMessage(e);
  }
}

/** Deadlines derived from the function's remaining time (none without a Lambda context: tests, tools). */
class Budget {
  public static of(context: RegistrationContext | undefined): Budget {
    const remaining = context?.getRemainingTimeInMillis?.();
    return new Budget(typeof remaining === 'number' && remaining > 0 ? Date.now() + remaining : undefined);
  }

  private constructor(private readonly end: number | undefined) {}

  private left(): number {
    return this.end === undefined ? Number.POSITIVE_INFINITY : this.end - Date.now();
  }

  /** The token read: its own timeout, within what is left. */
  public secretTimeout(): number {
    const configured = envMs('PO_SECRET_TIMEOUT_MS') ?? SECRET_TIMEOUT_MS;
    return Math.max(1, Math.min(configured, this.left() - UNDO_DEADLINE_MS - REPORT_RESERVE_MS));
  }

  /** The event's client: its configured deadline, leaving room for an undo and the report. */
  public apiDeadline(configured: number): number {
    return Math.max(1, Math.min(configured, this.left() - UNDO_DEADLINE_MS - REPORT_RESERVE_MS));
  }

  /** The undo's client: what is left but the report's reserve. */
  public undoDeadline(): number {
    const configured = envMs('PO_UNDO_DEADLINE_MS') ?? UNDO_DEADLINE_MS;
    return Math.max(1, Math.min(configured, this.left() - REPORT_RESERVE_MS));
  }
}

function envMs(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of milliseconds, got "${raw}"`);
  return n;
}

/** The error with its message (and the message in its stack) cut to {@link MAX_ERROR_MESSAGE}. */
function capMessage(e: unknown): unknown {
  if (!(e instanceof Error) || e.message.length <= MAX_ERROR_MESSAGE) return e;
  const full = e.message;
  e.message = clip(full, MAX_ERROR_MESSAGE);
  if (e.stack !== undefined) e.stack = e.stack.replace(full, () => e.message);
  return e;
}

export function physicalId(orgId: string, runnerId: string): string {
  return `${orgId}/${runnerId}`;
}

async function onCreate(p: Properties, budget: Budget): Promise<RegistrationResult> {
  log(`Create: registering runner ${p.body.id} in organization ${p.orgId} at ${p.apiUrl}`);
  // A POST that failed after an attempt the server may have processed: a runner found exactly
  // as sent is that attempt's (its body names this stack's roles, cluster and bucket), deleted again.
  const rules = await createWithRules(await clientsFor(p, budget), p, { undoLostCreate: true, takeOverFrom: [] });
  return result(p, rules);
}

async function onUpdate(event: RegistrationEvent, budget: Budget): Promise<RegistrationResult> {
  const p = parseProperties(event.ResourceProperties, 'ResourceProperties');
  const old = event.OldResourceProperties ? parsePropertiesLenient(event.OldResourceProperties) : undefined;
  const newId = physicalId(p.orgId, p.body.id);
  const clients = await clientsFor(p, budget);
  const previous = parsePhysicalId(event.PhysicalResourceId);
  if (event.PhysicalResourceId !== newId) {
    // The old runner's rules move over when it is in the same organization (rules are per org).
    const takeOverFrom = previous !== undefined && previous.orgId === p.orgId ? [previous.runnerId] : [];
    log(
      `Update: runner ${event.PhysicalResourceId} becomes ${newId}: creating the replacement` +
        (takeOverFrom.length > 0 && p.rules.length > 0 ? `, which takes over the rules of ${takeOverFrom[0]}` : ''),
    );
    // A runner with the new id may be the one this registration had before (the rollback of a
    // replacement returns to it): never deleted after a lost create response.
    const rules = await createWithRules(clients, p, {
      undoLostCreate: false,
      takeOverFrom,
      previouslyDeclared: old !== undefined && old.orgId === p.orgId ? old.rules : [],
    });
    return result(p, rules);
  }
  const client = clients();
  log(`Update: updating runner ${p.body.id} in organization ${p.orgId} at ${p.apiUrl}`);
  const { outcome } = await updateOrRecreateRunner(client, p.body);
  if (outcome === 'created') log(`Update: runner ${p.body.id} was missing in the orchestrator and was created again`);
  // Old properties naming another runner of the org: a replacement being rolled back; its rules come back.
  const takeOverFrom = old !== undefined && old.orgId === p.orgId && old.runnerId !== p.body.id ? [old.runnerId] : [];
  const r = await reconcileRules(client, p.body.id, p.rules, old?.rules ?? [], { takeOverFrom });
  logRules(r.created, r.moved, r.deleted);
  return result(p, r.rules);
}

async function onDelete(event: RegistrationEvent, budget: Budget): Promise<RegistrationResult> {
  const id = event.PhysicalResourceId ?? '';
  const parsed = parsePhysicalId(id);
  if (!parsed) {
    log(`Delete: ${JSON.stringify(id)} is not a registration's id (<org>/<runner>): nothing to do`);
    return { PhysicalResourceId: id, Data: {} };
  }
  const { orgId, runnerId } = parsed;
  const p = parseProperties(event.ResourceProperties, 'ResourceProperties');
  if (p.retainOnDelete) {
    log(`Delete: RetainOnDelete is set: runner ${runnerId} stays registered in organization ${orgId}`);
    return { PhysicalResourceId: id, Data: {} };
  }
  log(`Delete: deregistering runner ${runnerId} from organization ${orgId} at ${p.apiUrl}`);
  const client = (await clientsFor({ ...p, orgId }, budget))();
  // No rule is deleted first: the server deletes a runner's rules with it, and a refused delete
  // must leave the runner routed as it was.
  try {
    const existed = await client.deleteRunner(runnerId);
    log(
      existed
        ? `Delete: runner ${runnerId} deleted, and with it its runner rules`
        : `Delete: runner ${runnerId} was not registered`,
    );
  } catch (e) {
    if (isApiError(e, 409)) {
      throw new Error(
        `Cannot deregister runner "${runnerId}" from organization "${orgId}": the orchestrator refuses (HTTP 409: ` +
          `${e.apiMessage}). Nothing was changed: the runner and its rules are still registered. Move those ` +
          `environments to another runner (or delete them), then retry the deletion; or set the registration's ` +
          `removalPolicy to RETAIN to leave it registered.`,
      );
    }
    throw e;
  }
  return { PhysicalResourceId: id, Data: {} };
}

function parsePhysicalId(id: string | undefined): { orgId: string; runnerId: string } | undefined {
  const match = /^([^/]+)\/([^/]+)$/.exec(id ?? '');
  return match ? { orgId: match[1], runnerId: match[2] } : undefined;
}

interface CreateOptions {
  /**
   * Whether a runner found exactly as sent after a create that may have committed is deleted
   * (Create: yes; replacement: no). After a failure in the rules, only a runner this call
   * created is deleted: one that existed exactly as sent may be the registration of an earlier
   * delivery of the same event, which CloudFormation already counts as created.
   */
  readonly undoLostCreate: boolean;
  /** Runners of this registration whose declared rules the new runner takes over. */
  readonly takeOverFrom: readonly string[];
  readonly previouslyDeclared?: readonly RuleSpec[];
}

/**
 * Create (or adopt) the runner and its rules; on failure, undo what this call changed, with a
 * client of its own: the failure may have used up the first client's deadline.
 */
async function createWithRules(clients: Clients, p: Properties, o: CreateOptions): Promise<RunnerRule[]> {
  const client = clients();
  let outcome: EnsureOutcome;
  try {
    outcome = (await ensureRunner(client, p.body, p.adoptExisting, ADOPT_HINT)).outcome;
  } catch (e) {
    if (e instanceof OrchestratorApiError && e.mayHaveSucceeded) {
      throw await undoLostCreate(clients, p, e, o.undoLostCreate);
    }
    throw e;
  }
  log(`runner ${p.body.id} ${outcome === 'existed' ? 'exists exactly as sent' : outcome}`);
  const changes: RuleChange[] = [];
  try {
    const r = await reconcileRules(client, p.body.id, p.rules, o.previouslyDeclared ?? [], {
      takeOverFrom: o.takeOverFrom,
      onChange: (c) => changes.push(c),
    });
    logRules(r.created, r.moved, r.deleted);
    return r.rules;
  } catch (e) {
    log(`the rules of runner ${p.body.id} failed: undoing what this event changed`);
    const undo = clients(true);
    const failures: string[] = [];
    const attempt = async (what: string, call: () => Promise<unknown>): Promise<void> => {
      try {
        await call();
      } catch (u) {
        // Client errors never carry the token.
        const line = `could not ${what}: ${(u as Error)?.message ?? String(u)}`;
        log(line);
        failures.push(line);
      }
    };
    // Newest first: a rule taken over goes back to the runner it came from.
    for (const c of [...changes].reverse()) {
      if (c.kind === 'created') {
        await attempt(`delete rule ${c.rule.id}`, () => undo.deleteRunnerRule(c.rule.id));
      } else if (c.kind === 'moved' || c.kind === 'moved-away') {
        if (c.kind === 'moved') await attempt(`delete rule ${c.rule.id}`, () => undo.deleteRunnerRule(c.rule.id));
        const back = { runner_id: c.from.runner_id, ...ruleSpec(c.from) };
        await attempt(`give rule ${ruleKeyText(c.from)} back to runner ${c.from.runner_id}`, () =>
          undo.createRunnerRule(back),
        );
      }
    }
    const ours = outcome === 'created';
    if (ours) await attempt(`delete runner ${p.body.id}`, () => undo.deleteRunner(p.body.id));
    if (failures.length === 0) throw e;
    throw new Error(
      `${(e as Error)?.message ?? String(e)}. Undoing it failed too, so ` +
        (ours ? `runner "${p.body.id}" may still be registered in organization "${p.orgId}", and ` : '') +
        `runner rules may be left as this event changed them: check them before deploying again (${failures.join('; ')})`,
    );
  }
}

/**
 * The create failed after an attempt the server may have processed (its response was lost):
 * the runner may exist. Look with a fresh client and delete it when it is exactly what was sent
 * (and `identicalIsOurs`); the returned error says what happened.
 */
async function undoLostCreate(
  clients: Clients,
  p: Properties,
  cause: OrchestratorApiError,
  deleteIdentical: boolean,
): Promise<Error> {
  const where = `runner "${p.body.id}" in organization "${p.orgId}"`;
  log(`the create of runner ${p.body.id} failed after an attempt the server may have processed: checking`);
  const undo = clients(true);
  try {
    const found = await undo.getRunner(p.body.id);
    if (found === undefined) return new Error(`${cause.message}. The create did not register ${where}.`);
    if (diffRunner(p.body, found).length !== 0 || !deleteIdentical) {
      return new Error(
        `${cause.message}. ${where} exists (it may be an earlier one, or this create's): it was left in place. ` +
          `A deploy with the same configuration takes an identical runner over; otherwise set ${ADOPT_HINT} or delete it.`,
      );
    }
    await undo.deleteRunner(p.body.id);
    log(`runner ${p.body.id} had been created by the failed create: deleted again`);
    return new Error(`${cause.message}. The create had registered ${where} nonetheless; it was deleted again.`);
  } catch (u) {
    const why = (u as Error)?.message ?? String(u);
    log(`could not check or delete runner ${p.body.id}: ${why}`);
    return new Error(
      `${cause.message}. The create may have registered ${where} (an attempt's response was lost), and checking ` +
        `failed too (${why}). A deploy with the same configuration takes an identical runner over without ` +
        `adoptExisting; to remove it instead: po-ecs-runner deregister --org ${p.orgId} --runner-id ${p.body.id}`,
    );
  }
}

function ruleKeyText(rule: RunnerRule): string {
  return `${rule.env_type_id || '*'}/${rule.project_id || '*'}`;
}

function result(p: Properties, rules: RunnerRule[]): RegistrationResult {
  return {
    PhysicalResourceId: physicalId(p.orgId, p.body.id),
    Data: { OrgId: p.orgId, RunnerId: p.body.id, RuleIds: rules.map((r) => r.id).join(',') },
  };
}

function logRules(created: RunnerRule[], moved: { from: RunnerRule; rule: RunnerRule }[], deleted: string[]): void {
  if (created.length > 0) log(`rules created: ${created.map((r) => r.id).join(', ')}`);
  for (const m of moved)
    log(`rule ${ruleKeyText(m.rule)} taken over from runner ${m.from.runner_id}: ${m.from.id} -> ${m.rule.id}`);
  if (deleted.length > 0) log(`rules deleted: ${deleted.join(', ')}`);
}

/** Makes clients of one event: the event's own, or (`forUndo`) a fresh one with the undo's deadline. */
type Clients = (forUndo?: boolean) => OrchestratorClient;

/** Reads the token once; the clients it returns share it. */
async function clientsFor(p: Properties, budget: Budget): Promise<Clients> {
  const token = await readToken(p.tokenSecretArn, budget.secretTimeout());
  const tuning = tuningFromEnv(process.env);
  return (forUndo) => {
    const deadlineMs = forUndo ? budget.undoDeadline() : budget.apiDeadline(tuning.deadlineMs ?? DEFAULT_DEADLINE_MS);
    return new OrchestratorClient({
      orgId: p.orgId,
      apiUrl: p.apiUrl,
      token,
      log,
      ...tuning,
      deadlineMs,
      authHint:
        `The token is read from Secrets Manager secret ${p.tokenSecretArn} (the raw token or {"token": "..."}); ` +
        `it must be a valid API token of organization "${p.orgId}" at ${p.apiUrl} (not expired or revoked) ` +
        `with permission to create, read, update and delete runners and runner rules there. Store a working ` +
        `token in the secret, then retry.`,
    });
  };
}

/**
 * The API token from Secrets Manager: the secret string is either the token itself or JSON
 * with a string `token` field. Errors name the secret, never its value. Bounded by `timeoutMs`
 * (the SDK's own timeouts, and an abort for whatever they miss).
 */
export async function readToken(secretArn: string, timeoutMs: number = SECRET_TIMEOUT_MS): Promise<string> {
  // A secret is read in its own region (from its ARN), whatever the function's region is.
  const region = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretArn)?.[1];
  const sm = new SecretsManagerClient({
    ...(region !== undefined ? { region } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: Math.min(3_000, timeoutMs), requestTimeout: timeoutMs },
  });
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new Error(
          `Reading the API token from Secrets Manager secret ${secretArn} took longer than ${timeoutMs} ms: ` +
            `Secrets Manager in ${region ?? "the function's region"} did not answer. Nothing was sent to the ` +
            `orchestrator. Retry the deployment; if it persists, check the Secrets Manager endpoint the function reaches.`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const out = await Promise.race([
      sm.send(new GetSecretValueCommand({ SecretId: secretArn }), { abortSignal: controller.signal }),
      timedOut,
    ]);
    const raw =
      out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined) ?? '';
    const token = tokenFromSecretString(raw);
    if (token === undefined) {
      throw new Error(`Secret ${secretArn} holds neither an API token nor JSON with a non-empty string "token" field`);
    }
    return token;
  } catch (e) {
    if (controller.signal.aborted) throw await timedOut.catch((t: Error) => t);
    if (e instanceof Error && e.message.startsWith(`Secret ${secretArn} holds`)) throw e;
    const err = e as Error;
    throw new Error(
      `Cannot read the API token from Secrets Manager secret ${secretArn}: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`,
    );
  } finally {
    clearTimeout(timer);
    sm.destroy();
  }
}

/** The raw token, or the `token` field of a JSON object; undefined when neither is there. */
export function tokenFromSecretString(raw: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    const t = (parsed as { token?: unknown }).token;
    return typeof t === 'string' && t.trim() !== '' ? t.trim() : undefined;
  }
  return /\s/.test(text) ? undefined : text;
}

function parseProperties(raw: Record<string, unknown>, what: string): Properties {
  const str = (name: string, required = true): string => {
    const v = raw[name];
    if (v === undefined || v === null || v === '') {
      if (required) throw new Error(`${what}.${name} is missing`);
      return '';
    }
    if (typeof v !== 'string') throw new Error(`${what}.${name} must be a string`);
    return v;
  };
  const bool = (name: string): boolean => {
    const v = str(name, false);
    if (v === '' || v === 'false') return false;
    if (v === 'true') return true;
    throw new Error(`${what}.${name} must be 'true' or 'false', got ${JSON.stringify(v)}`);
  };
  const body = parseJson(str('Body'), `${what}.Body`);
  if (!isRunnerCreateBody(body)) {
    throw new Error(`${what}.Body must be a JSON RunnerCreateBody: ${RUNNER_CREATE_BODY_SHAPE}`);
  }
  const runnerId = str('RunnerId', false);
  if (runnerId !== '' && runnerId !== body.id) {
    throw new Error(`${what}.RunnerId "${runnerId}" differs from the id "${body.id}" in Body`);
  }
  const rulesRaw = str('Rules', false);
  const rules = rulesRaw === '' ? [] : parseJson(rulesRaw, `${what}.Rules`);
  if (!Array.isArray(rules) || !rules.every(isRuleSpec)) {
    throw new Error(`${what}.Rules must be a JSON array of {"env_type_id"?: string, "project_id"?: string}`);
  }
  return {
    orgId: str('OrgId'),
    apiUrl: str('ApiUrl', false) === '' ? DEFAULT_API_URL : str('ApiUrl'),
    body,
    tokenSecretArn: str('TokenSecretArn'),
    adoptExisting: bool('AdoptExisting'),
    retainOnDelete: bool('RetainOnDelete'),
    rules,
  };
}

/** Old properties only matter for their org, runner and rules; unreadable ones mean "none declared". */
function parsePropertiesLenient(
  raw: Record<string, unknown>,
): { orgId: string; runnerId: string; rules: RuleSpec[] } | undefined {
  try {
    const p = parseProperties(raw, 'OldResourceProperties');
    return { orgId: p.orgId, runnerId: p.body.id, rules: p.rules };
  } catch {
    return undefined;
  }
}

function isRuleSpec(x: unknown): x is RuleSpec {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const r = x as Record<string, unknown>;
  return Object.entries(r).every(
    ([k, v]) => (k === 'env_type_id' || k === 'project_id') && (v === undefined || typeof v === 'string'),
  );
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}
