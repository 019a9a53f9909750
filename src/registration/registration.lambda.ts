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
 * - Create: POST; 409 adopts (PATCH to the desired state) with AdoptExisting, else fails naming
 *   the id, the org and `adoptExisting`. Then the rules. When a later step fails, what this
 *   event created is deleted again (the Provider framework ignores the Delete that follows a
 *   failed Create, so nothing else would).
 * - Update: a new org or runner id is a replacement: the new runner is created (same rules as
 *   Create) and its id returned; CloudFormation then sends Delete for the old one. Otherwise
 *   PATCH (re-created when it was deleted outside the stack) and reconcile the rules.
 * - Delete: declared rules, then the runner; 404 is success, 409 (in use) fails with the API's
 *   message; RetainOnDelete leaves both in place (and reads no secret).
 * See runner-sync.ts for which rules are the registration's.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DEFAULT_API_URL,
  OrchestratorClient,
  RunnerCreateBody,
  RunnerRule,
  clip,
  isApiError,
  tuningFromEnv,
} from './api-client';
import { RuleSpec, deleteDeclaredRules, ensureRunner, reconcileRules, updateOrRecreateRunner } from './runner-sync';

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
 * Deadline of the client that undoes a failed create. The event's client may have spent its own
 * deadline (that is often why the create failed); the function's timeout is that deadline plus
 * 60 s (runner-registration.ts), of which this leaves 15 s for reading the secret and reporting.
 */
const UNDO_DEADLINE_MS = 45_000;

/**
 * Longest message the handler throws. The provider framework sends the error's stack as the
 * CloudFormation Reason, and a response over 4096 bytes is rejected (the stack then hangs until
 * its timeout).
 */
const MAX_ERROR_MESSAGE = 2000;

function log(line: string): void {
  console.log(line);
}

export async function onEvent(event: RegistrationEvent): Promise<RegistrationResult> {
  try {
    switch (event.RequestType) {
      case 'Create':
        return await onCreate(parseProperties(event.ResourceProperties, 'ResourceProperties'));
      case 'Update':
        return await onUpdate(event);
      case 'Delete':
        return await onDelete(event);
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}`);
    }
  } catch (e) {
    throw capMessage(e);
  }
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

async function onCreate(p: Properties): Promise<RegistrationResult> {
  log(`Create: registering runner ${p.body.id} in organization ${p.orgId} at ${p.apiUrl}`);
  const rules = await createWithRules(await clientsFor(p), p);
  return result(p, rules);
}

async function onUpdate(event: RegistrationEvent): Promise<RegistrationResult> {
  const p = parseProperties(event.ResourceProperties, 'ResourceProperties');
  const old = event.OldResourceProperties ? parsePropertiesLenient(event.OldResourceProperties) : undefined;
  const newId = physicalId(p.orgId, p.body.id);
  const clients = await clientsFor(p);
  if (event.PhysicalResourceId !== newId) {
    log(`Update: runner ${event.PhysicalResourceId} becomes ${newId}: creating the replacement`);
    const rules = await createWithRules(clients, p);
    return result(p, rules);
  }
  const client = clients();
  log(`Update: updating runner ${p.body.id} in organization ${p.orgId} at ${p.apiUrl}`);
  const { outcome } = await updateOrRecreateRunner(client, p.body);
  if (outcome === 'created') log(`Update: runner ${p.body.id} was missing in the orchestrator and was created again`);
  const r = await reconcileRules(client, p.body.id, p.rules, old?.rules ?? []);
  logRules(r.created, r.deleted);
  return result(p, r.rules);
}

async function onDelete(event: RegistrationEvent): Promise<RegistrationResult> {
  const id = event.PhysicalResourceId ?? '';
  const match = /^([^/]+)\/([^/]+)$/.exec(id);
  if (!match) {
    log(`Delete: ${JSON.stringify(id)} is not a registration's id (<org>/<runner>): nothing to do`);
    return { PhysicalResourceId: id, Data: {} };
  }
  const [, orgId, runnerId] = match;
  const p = parseProperties(event.ResourceProperties, 'ResourceProperties');
  if (p.retainOnDelete) {
    log(`Delete: RetainOnDelete is set: runner ${runnerId} stays registered in organization ${orgId}`);
    return { PhysicalResourceId: id, Data: {} };
  }
  log(`Delete: deregistering runner ${runnerId} from organization ${orgId} at ${p.apiUrl}`);
  const client = (await clientsFor({ ...p, orgId }))();
  const declared = p.body.id === runnerId && p.orgId === orgId ? p.rules : [];
  const deleted = await deleteDeclaredRules(client, runnerId, declared);
  logRules([], deleted);
  try {
    const existed = await client.deleteRunner(runnerId);
    log(existed ? `Delete: runner ${runnerId} deleted` : `Delete: runner ${runnerId} was not registered`);
  } catch (e) {
    if (isApiError(e, 409)) {
      throw new Error(
        `Cannot deregister runner "${runnerId}" from organization "${orgId}": the orchestrator refuses (HTTP 409: ` +
          `${e.apiMessage}). Move what still uses it (environments, runner rules) to another runner, ` +
          `or set the registration's removalPolicy to RETAIN to leave it registered.`,
      );
    }
    throw e;
  }
  return { PhysicalResourceId: id, Data: {} };
}

/**
 * Create (or adopt) the runner and its rules; on failure, undo what this call created, with a
 * client of its own: the failure may have used up the first client's deadline.
 */
async function createWithRules(clients: Clients, p: Properties): Promise<RunnerRule[]> {
  const client = clients();
  const { outcome } = await ensureRunner(client, p.body, p.adoptExisting, ADOPT_HINT);
  log(`runner ${p.body.id} ${outcome}`);
  const createdRules: RunnerRule[] = [];
  try {
    const r = await reconcileRules(client, p.body.id, p.rules, [], (rule) => createdRules.push(rule));
    logRules(r.created, r.deleted);
    return r.rules;
  } catch (e) {
    log(`creating the rules of runner ${p.body.id} failed: undoing what this event created`);
    const undo = clients(UNDO_DEADLINE_MS);
    const failures: string[] = [];
    const attempt = async (what: string, call: () => Promise<unknown>): Promise<void> => {
      try {
        await call();
      } catch (u) {
        // Client errors never carry the token.
        const line = `could not delete ${what}: ${(u as Error)?.message ?? String(u)}`;
        log(line);
        failures.push(line);
      }
    };
    for (const rule of createdRules) await attempt(`rule ${rule.id}`, () => undo.deleteRunnerRule(rule.id));
    if (outcome === 'created') await attempt(`runner ${p.body.id}`, () => undo.deleteRunner(p.body.id));
    if (failures.length === 0) throw e;
    throw new Error(
      `${(e as Error)?.message ?? String(e)}. Undoing the create failed too, so runner "${p.body.id}" may still be ` +
        `registered in organization "${p.orgId}": delete it before deploying again (${failures.join('; ')})`,
    );
  }
}

function result(p: Properties, rules: RunnerRule[]): RegistrationResult {
  return {
    PhysicalResourceId: physicalId(p.orgId, p.body.id),
    Data: { OrgId: p.orgId, RunnerId: p.body.id, RuleIds: rules.map((r) => r.id).join(',') },
  };
}

function logRules(created: RunnerRule[], deleted: string[]): void {
  if (created.length > 0) log(`rules created: ${created.map((r) => r.id).join(', ')}`);
  if (deleted.length > 0) log(`rules deleted: ${deleted.join(', ')}`);
}

/** Makes clients of one event; each has its own deadline, counted from its creation. */
type Clients = (deadlineMs?: number) => OrchestratorClient;

/** Reads the token once; the clients it returns share it. */
async function clientsFor(p: Properties): Promise<Clients> {
  const token = await readToken(p.tokenSecretArn);
  return (deadlineMs) =>
    new OrchestratorClient({
      orgId: p.orgId,
      apiUrl: p.apiUrl,
      token,
      log,
      ...definedOnly(tuningFromEnv(process.env)),
      ...definedOnly({ deadlineMs }),
    });
}

/**
 * The API token from Secrets Manager: the secret string is either the token itself or JSON
 * with a string `token` field. Errors name the secret, never its value.
 */
export async function readToken(secretArn: string): Promise<string> {
  // A secret is read in its own region (from its ARN), whatever the function's region is.
  const region = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretArn)?.[1];
  const sm = new SecretsManagerClient(region !== undefined ? { region } : {});
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const raw =
      out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined) ?? '';
    const token = tokenFromSecretString(raw);
    if (token === undefined) {
      throw new Error(`Secret ${secretArn} holds neither an API token nor JSON with a non-empty string "token" field`);
    }
    return token;
  } finally {
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
  const body = parseJson(str('Body'), `${what}.Body`) as RunnerCreateBody;
  if (body === null || typeof body !== 'object' || typeof body.id !== 'string' || body.id === '') {
    throw new Error(`${what}.Body must be a JSON RunnerCreateBody with a string "id"`);
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

/** Old properties only matter for their rules; unreadable old rules mean "none declared". */
function parsePropertiesLenient(raw: Record<string, unknown>): { rules: RuleSpec[] } | undefined {
  try {
    return parseProperties(raw, 'OldResourceProperties');
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

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
