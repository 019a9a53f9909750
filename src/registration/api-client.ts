/*
 * The one module through which every call to the Platform Orchestrator's API goes: the
 * registration Lambda handler and the po-ecs-runner CLI both use it, so tests can point it at a
 * local server and one place decides about retries, timeouts, errors and what gets logged.
 *
 * - Node's built-in fetch only (no runtime dependencies; the Lambda bundle stays small).
 * - `Authorization: Bearer <token>`. The token is kept in a private field, never logged, and
 *   removed from every error message and error body (an API that echoes the header must not
 *   leak it into CloudFormation events or a terminal).
 * - Retries with exponential backoff and full jitter on network errors (reset, refused, DNS,
 *   timeouts), 408, 429 (honouring Retry-After in seconds or as an HTTP date) and 5xx, bounded
 *   by a number of attempts, a per-request timeout and an overall deadline per client.
 * - Types generated from spec/openapi.yaml (`npm run gen:api`).
 */
import { DEFAULT_API_URL, DEFAULT_DEADLINE_MS } from './api-defaults';
import type { components, operations } from './api-types.generated';

type Schemas = components['schemas'];
export type RunnerCreateBody = Schemas['RunnerCreateBody'];
export type RunnerUpdateBody = Schemas['RunnerUpdateBody'];
export type Runner = Schemas['Runner'];
export type RunnerRule = Schemas['RunnerRule'];
export type RunnerRuleCreateBody = Schemas['RunnerRuleCreateBody'];
export type RunnerRulePage = Schemas['RunnerRulePage'];
export type ApiErrorBody = Schemas['Error'];
export type RunnerRuleFilter = Pick<
  NonNullable<operations['listRunnerRulesInOrg']['parameters']['query']>,
  'byRunnerId' | 'byEnvTypeId' | 'byProjectId'
>;

export { DEFAULT_API_URL, DEFAULT_DEADLINE_MS };
/** Time one HTTP request may take before it is aborted and retried. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;
/** Attempts per call, the first included. */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** Backoff cap of the first retry; doubles per attempt up to {@link DEFAULT_MAX_DELAY_MS}. */
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 20_000;
/** Page size asked for when listing. */
export const DEFAULT_PAGE_SIZE = 50;
/** Longest API-provided text (error message, non-JSON body) an error message carries. */
export const MAX_API_TEXT = 500;

/** `text` cut to `max` characters, with a marker saying how much was left out. */
export function clip(text: string, max = MAX_API_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters)` : text;
}

/** Options of {@link OrchestratorClient}. */
export interface OrchestratorClientOptions {
  /** The organization every call is made in. */
  readonly orgId: string;
  /** The API token, sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Base URL of the API, with an optional path. @default DEFAULT_API_URL */
  readonly apiUrl?: string;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** Overall deadline, counted from the client's creation. @default DEFAULT_DEADLINE_MS */
  readonly deadlineMs?: number;
  /** @default DEFAULT_MAX_ATTEMPTS */
  readonly maxAttempts?: number;
  /** @default DEFAULT_BASE_DELAY_MS */
  readonly baseDelayMs?: number;
  /** @default DEFAULT_MAX_DELAY_MS */
  readonly maxDelayMs?: number;
  /** @default DEFAULT_PAGE_SIZE */
  readonly pageSize?: number;
  /** One line per API call (method, path, status, attempt); never the token or bodies. @default - silent */
  readonly log?: (line: string) => void;
  /** Injectable for tests. @default - setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests: milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Injectable for tests: a number in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Sent as User-Agent. @default 'platform-orchestrator-ecs-runner' */
  readonly userAgent?: string;
  /**
   * Appended to the message of a 401 or 403: where the token comes from and what it needs.
   * @default - a generic sentence about the token and its permissions
   */
  readonly authHint?: string;
}

/** Tuning read from the environment: lets tests (and operators) shorten or lengthen waits. */
export function tuningFromEnv(
  env: Record<string, string | undefined>,
): Pick<OrchestratorClientOptions, 'requestTimeoutMs' | 'deadlineMs' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'> {
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`${name} must be a non-negative number of milliseconds, got "${raw}"`);
    return n;
  };
  return {
    requestTimeoutMs: num('PO_API_TIMEOUT_MS'),
    deadlineMs: num('PO_API_DEADLINE_MS'),
    maxAttempts: num('PO_API_MAX_ATTEMPTS'),
    baseDelayMs: num('PO_API_RETRY_BASE_MS'),
    maxDelayMs: num('PO_API_RETRY_MAX_MS'),
  };
}

/** A failed API call: the HTTP status (undefined for network errors), the operation and the API's error body. */
export class OrchestratorApiError extends Error {
  /** HTTP status of the last attempt; undefined when no response arrived. */
  public readonly status: number | undefined;
  /** The API operation, e.g. `createRunner`. */
  public readonly operation: string;
  public readonly method: string;
  /** Path of the request (no host, no query); never carries credentials. */
  public readonly path: string;
  /** The API's error body, when it sent one in the documented form. */
  public readonly apiError: ApiErrorBody | undefined;
  /** The response text when it was not the documented error form (truncated). */
  public readonly responseText: string | undefined;
  /** The network error code (ECONNRESET, TIMEOUT, ...) when no response arrived. */
  public readonly networkCode: string | undefined;
  /** Attempts made. */
  public readonly attempts: number;
  /**
   * True when the server may have done what was asked although the call failed: an attempt got
   * no response, a 5xx, or an unreadable success. A create that fails this way may have created.
   */
  public readonly mayHaveSucceeded: boolean;
  /**
   * For a createRunner 409: false when no runner has the id (the real server also answers 409
   * for an organization that does not exist), so the conflict is not "already exists".
   */
  public readonly idTaken: boolean | undefined;

  constructor(init: {
    message: string;
    status?: number;
    operation: string;
    method: string;
    path: string;
    apiError?: ApiErrorBody;
    responseText?: string;
    networkCode?: string;
    attempts: number;
    mayHaveSucceeded?: boolean;
    idTaken?: boolean;
  }) {
    super(init.message);
    this.name = 'OrchestratorApiError';
    this.status = init.status;
    this.operation = init.operation;
    this.method = init.method;
    this.path = init.path;
    this.apiError = init.apiError;
    this.responseText = init.responseText;
    this.networkCode = init.networkCode;
    this.attempts = init.attempts;
    this.mayHaveSucceeded = init.mayHaveSucceeded ?? false;
    this.idTaken = init.idTaken;
    Object.setPrototypeOf(this, OrchestratorApiError.prototype);
  }

  /** The API's own message, or the best available description. */
  public get apiMessage(): string {
    return this.apiError?.message ?? this.responseText ?? this.networkCode ?? this.message;
  }
}

/** True when `e` is an {@link OrchestratorApiError} with the given HTTP status. */
export function isApiError(e: unknown, status?: number): e is OrchestratorApiError {
  return e instanceof OrchestratorApiError && (status === undefined || e.status === status);
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface CallSpec {
  readonly operation: string;
  readonly method: Method;
  readonly path: string;
  readonly query?: Record<string, string | number | undefined>;
  readonly body?: unknown;
  /** Statuses that are success. */
  readonly expect: readonly number[];
  /** Statuses handed back to the caller instead of thrown. */
  readonly allow?: readonly number[];
}

interface CallResult {
  readonly status: number;
  readonly body: unknown;
  readonly attempts: number;
  /** An earlier attempt may have been processed by the server (network error, timeout, 5xx, unreadable 2xx). */
  readonly ambiguous: boolean;
  /** The error to throw when the caller does not accept an allowed status. */
  readonly error: () => OrchestratorApiError;
}

type Attempt =
  | { kind: 'response'; status: number; text: string; retryAfter: string | null }
  | { kind: 'network'; code: string; detail: string };

/** A client of the orchestrator's runner and runner-rule endpoints in one organization. */
export class OrchestratorClient {
  public readonly orgId: string;
  public readonly apiUrl: string;
  readonly #token: string;
  readonly #o: Required<Omit<OrchestratorClientOptions, 'orgId' | 'token' | 'apiUrl'>>;
  readonly #deadline: number;

  constructor(options: OrchestratorClientOptions) {
    if (!options.orgId) throw new Error('OrchestratorClient: orgId is required');
    if (!options.token) throw new Error('OrchestratorClient: an API token is required');
    this.orgId = options.orgId;
    this.apiUrl = normalizeApiUrl(options.apiUrl ?? DEFAULT_API_URL);
    this.#token = options.token;
    this.#o = {
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
      maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)),
      baseDelayMs: options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
      pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
      log: options.log ?? (() => undefined),
      sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      userAgent: options.userAgent ?? 'platform-orchestrator-ecs-runner',
      authHint:
        options.authHint ??
        `The API token must be valid for organization "${options.orgId}" at this API URL and may manage runners ` +
          'and runner rules there.',
    };
    this.#deadline = this.#o.now() + this.#o.deadlineMs;
  }

  /** Never shows the token, whatever inspects the client. */
  public toJSON(): Record<string, string> {
    return { orgId: this.orgId, apiUrl: this.apiUrl };
  }

  // ---------------------------------------------------------------- runners

  /**
   * POST /orgs/{orgId}/runners.
   *
   * A create is not idempotent, yet it is retried on 5xx, timeouts and network errors: the
   * alternative, failing a deployment on one reset connection, is worse. A retried create can
   * meet its own earlier attempt that the server did process (the response was lost), and a
   * CloudFormation event can be delivered twice; the server then answers 409 ("runner with id
   * <id> already exists"). So every 409 is checked with a GET: when the existing runner equals
   * what we sent (field by field, see {@link diffRunner}), the create succeeded (`existed` tells
   * the caller it did not make it in this call). Otherwise (another configuration with that id)
   * the 409 is thrown. When that GET fails after an ambiguous attempt, the error says the runner
   * may exist ({@link OrchestratorApiError.mayHaveSucceeded}).
   */
  public async createRunner(body: RunnerCreateBody): Promise<Runner> {
    return (await this.createRunnerOrFindIdentical(body)).runner;
  }

  /** {@link createRunner}, also telling whether the runner was there already, exactly as sent. */
  public async createRunnerOrFindIdentical(body: RunnerCreateBody): Promise<{ runner: Runner; existed: boolean }> {
    const r = await this.call({
      operation: 'createRunner',
      method: 'POST',
      path: this.orgPath('runners'),
      body,
      expect: [201, 200],
      allow: [409],
    });
    if (r.status !== 409) return { runner: asRunner(r.body), existed: false };
    let existing: Runner | undefined;
    try {
      existing = await this.getRunner(body.id);
    } catch (e) {
      if (!r.ambiguous || !(e instanceof OrchestratorApiError)) throw e;
      throw new OrchestratorApiError({
        message:
          `${e.message}; it was reading runner ${body.id} after createRunner answered 409 to a retry whose ` +
          `earlier attempt may have created it`,
        status: e.status,
        operation: e.operation,
        method: e.method,
        path: e.path,
        apiError: e.apiError,
        responseText: e.responseText,
        networkCode: e.networkCode,
        attempts: e.attempts,
        mayHaveSucceeded: true,
      });
    }
    if (existing === undefined) {
      // The real server also answers 409 when the organization does not exist ("organization not
      // found"): a conflict that is not about the runner id, so no "already exists".
      const conflict = r.error();
      throw new OrchestratorApiError({
        message:
          `${conflict.message}; yet there is no runner ${body.id} (GET answered 404), so the conflict is not ` +
          `about the runner id: check the organization id "${this.orgId}" and the API URL ${this.apiUrl}`,
        status: conflict.status,
        operation: conflict.operation,
        method: conflict.method,
        path: conflict.path,
        apiError: conflict.apiError,
        responseText: conflict.responseText,
        attempts: conflict.attempts,
        mayHaveSucceeded: false,
        idTaken: false,
      });
    }
    if (diffRunner(body, existing).length === 0) {
      this.#o.log(
        r.ambiguous
          ? `createRunner: ${body.id} exists as sent: an earlier attempt created it`
          : `createRunner: ${body.id} exists as sent (a repeated create): nothing to do`,
      );
      // An earlier attempt of this call made it: this call created it.
      return { runner: existing, existed: !r.ambiguous };
    }
    throw r.error();
  }

  /** GET /orgs/{orgId}/runners/{runnerId}; undefined when there is none (404). */
  public async getRunner(runnerId: string): Promise<Runner | undefined> {
    const r = await this.call({
      operation: 'getRunner',
      method: 'GET',
      path: this.orgPath('runners', runnerId),
      expect: [200],
      allow: [404],
    });
    return r.status === 404 ? undefined : asRunner(r.body);
  }

  /** PATCH /orgs/{orgId}/runners/{runnerId}: with the whole desired state, so a retry is harmless. */
  public async updateRunner(runnerId: string, body: RunnerUpdateBody): Promise<Runner> {
    const r = await this.call({
      operation: 'updateRunner',
      method: 'PATCH',
      path: this.orgPath('runners', runnerId),
      body,
      expect: [200],
    });
    return asRunner(r.body);
  }

  /** DELETE /orgs/{orgId}/runners/{runnerId}; `false` when there was none (404). */
  public async deleteRunner(runnerId: string): Promise<boolean> {
    const r = await this.call({
      operation: 'deleteRunner',
      method: 'DELETE',
      path: this.orgPath('runners', runnerId),
      expect: [204, 200],
      allow: [404],
    });
    // A 404 after an ambiguous attempt means that attempt deleted it.
    return r.status !== 404 || r.ambiguous;
  }

  // ----------------------------------------------------------- runner rules

  /**
   * POST /orgs/{orgId}/runner-rules. Retried like {@link createRunner}. The server keeps one
   * rule per (project, environment type) in the organization and answers 409 to a second; a 409
   * is resolved by listing the runner's rules: when one matches what we sent (an earlier attempt
   * whose response was lost, or a repeated event), that is the result. Otherwise the pair is
   * another runner's, and the 409 is thrown.
   */
  public async createRunnerRule(body: RunnerRuleCreateBody): Promise<RunnerRule> {
    const r = await this.call({
      operation: 'createRunnerRule',
      method: 'POST',
      path: this.orgPath('runner-rules'),
      body,
      expect: [201, 200],
      allow: [409],
    });
    if (r.status !== 409) return asRule(r.body);
    const match = (await this.listRunnerRules({ byRunnerId: body.runner_id })).find((rule) => sameRule(rule, body));
    if (match) {
      this.#o.log(
        `createRunnerRule: rule ${match.id} exists as sent${r.ambiguous ? ': an earlier attempt created it' : ''}`,
      );
      return match;
    }
    throw r.error();
  }

  /** GET /orgs/{orgId}/runner-rules, following every page. */
  public async listRunnerRules(filter: RunnerRuleFilter = {}): Promise<RunnerRule[]> {
    const items: RunnerRule[] = [];
    const seen = new Set<string>();
    let page: string | undefined;
    for (;;) {
      const r = await this.call({
        operation: 'listRunnerRules',
        method: 'GET',
        path: this.orgPath('runner-rules'),
        query: { ...filter, per_page: this.#o.pageSize, page },
        expect: [200],
      });
      const body = r.body as RunnerRulePage;
      items.push(...body.items.map(asRule));
      const next = body.next_page_token;
      if (typeof next !== 'string' || next === '') return items;
      if (seen.has(next)) throw new Error(`listRunnerRules: the API returned page token ${next} twice`);
      seen.add(next);
      page = next;
    }
  }

  /** GET /orgs/{orgId}/runner-rules/{ruleId}; undefined when there is none (404). */
  public async getRunnerRule(ruleId: string): Promise<RunnerRule | undefined> {
    const r = await this.call({
      operation: 'getRunnerRule',
      method: 'GET',
      path: this.orgPath('runner-rules', ruleId),
      expect: [200],
      allow: [404],
    });
    return r.status === 404 ? undefined : asRule(r.body);
  }

  /** DELETE /orgs/{orgId}/runner-rules/{ruleId}; `false` when there was none (404). */
  public async deleteRunnerRule(ruleId: string): Promise<boolean> {
    const r = await this.call({
      operation: 'deleteRunnerRule',
      method: 'DELETE',
      path: this.orgPath('runner-rules', ruleId),
      expect: [204, 200],
      allow: [404],
    });
    return r.status !== 404 || r.ambiguous;
  }

  // -------------------------------------------------------------- transport

  /**
   * The path of an org's resource. encodeURIComponent leaves `.` and `..`, which URL resolution
   * would turn into another path (`runners/..` is the org itself), so such segments are refused
   * before anything is sent, as are empty ones.
   */
  private orgPath(...segments: string[]): string {
    const all = [this.orgId, ...segments];
    const bad = all.find((s) => s === '' || s === '.' || s === '..');
    if (bad !== undefined) {
      throw new Error(
        `Orchestrator API: ${JSON.stringify(bad)} cannot be an organization, runner or rule id ` +
          `(empty, "." and ".." would change the path called); nothing was sent`,
      );
    }
    return ['', 'orgs', ...all].map(encodeURIComponent).join('/');
  }

  private async call(spec: CallSpec): Promise<CallResult> {
    const o = this.#o;
    const url = new URL(this.apiUrl + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#token}`,
      Accept: 'application/json',
      'User-Agent': o.userAgent,
    };
    let payload: string | undefined;
    if (spec.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(spec.body);
    }

    let ambiguous = false;
    for (let attempt = 1; ; attempt++) {
      const remaining = this.#deadline - o.now();
      if (remaining <= 0) {
        throw this.error(
          spec,
          attempt - 1,
          { kind: 'network', code: 'DEADLINE', detail: 'deadline exceeded' },
          ambiguous,
        );
      }
      const started = o.now();
      const outcome = await this.attempt(url, spec.method, headers, payload, Math.min(o.requestTimeoutMs, remaining));
      const took = o.now() - started;
      const label = `${spec.method} ${spec.path}`;
      const shown = outcome.kind === 'response' ? String(outcome.status) : `${outcome.code}`;

      let retryable: boolean;
      let processedMaybe: boolean;
      let failure: Attempt = outcome;
      if (outcome.kind === 'response') {
        const { status } = outcome;
        if (spec.expect.includes(status) || spec.allow?.includes(status)) {
          const parsed = parseSuccess(outcome.text, status, spec);
          if (parsed.ok) {
            o.log(`orchestrator-api ${label} -> ${status} (attempt ${attempt}/${o.maxAttempts}, ${took} ms)`);
            const wasAmbiguous = ambiguous;
            return {
              status,
              body: parsed.value,
              attempts: attempt,
              ambiguous: wasAmbiguous,
              error: () => this.error(spec, attempt, outcome, false),
            };
          }
          // A success status with an unreadable body: the server did the work, we cannot tell the result.
          retryable = true;
          processedMaybe = spec.method !== 'GET';
          failure = { kind: 'response', status, text: outcome.text, retryAfter: null };
        } else {
          retryable = status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
          processedMaybe = status >= 500;
        }
      } else {
        retryable = true;
        processedMaybe = true;
      }

      const last = attempt >= o.maxAttempts;
      let delay = 0;
      if (retryable && !last) {
        delay = backoff(attempt, o.baseDelayMs, o.maxDelayMs, o.random);
        if (outcome.kind === 'response' && outcome.retryAfter !== null) {
          const after = parseRetryAfter(outcome.retryAfter, o.now());
          if (after !== undefined) delay = after;
        }
      }
      const beyondDeadline = o.now() + delay >= this.#deadline;
      const giveUp = !retryable || last || beyondDeadline;
      o.log(
        `orchestrator-api ${label} -> ${shown} (attempt ${attempt}/${o.maxAttempts}, ${took} ms)` +
          (giveUp
            ? retryable
              ? last
                ? '; no attempts left'
                : '; next retry would pass the deadline'
              : ''
            : `; retrying in ${Math.round(delay)} ms`),
      );
      if (processedMaybe) ambiguous = true;
      if (giveUp) throw this.error(spec, attempt, failure, ambiguous && spec.method !== 'GET');
      await o.sleep(delay);
    }
  }

  private async attempt(
    url: URL,
    method: Method,
    headers: Record<string, string>,
    payload: string | undefined,
    timeoutMs: number,
  ): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const res = await fetch(url, { method, headers, body: payload, signal: controller.signal, redirect: 'error' });
      const text = await res.text();
      return { kind: 'response', status: res.status, text, retryAfter: res.headers.get('retry-after') };
    } catch (e) {
      if (timedOut) return { kind: 'network', code: 'TIMEOUT', detail: `no response within ${timeoutMs} ms` };
      return { kind: 'network', code: networkCode(e), detail: networkDetail(e) };
    } finally {
      clearTimeout(timer);
    }
  }

  private error(spec: CallSpec, attempts: number, outcome: Attempt, mayHaveSucceeded: boolean): OrchestratorApiError {
    const where = `${spec.operation} (${spec.method} ${spec.path})`;
    const tries = `after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
    if (outcome.kind === 'network') {
      return new OrchestratorApiError({
        message: `Orchestrator API ${where} at ${this.apiUrl} failed: ${
          outcome.detail.startsWith(outcome.code) ? outcome.detail : `${outcome.code} (${outcome.detail})`
        }, ${tries}`,
        operation: spec.operation,
        method: spec.method,
        path: spec.path,
        networkCode: outcome.code,
        attempts,
        mayHaveSucceeded,
      });
    }
    // The raw text is redacted, and so is every string of the parsed body: JSON escapes
    // (`\/`, `\u002b`) hide the token from the raw text, and parsing brings it back.
    const parsed = tryParse(outcome.text);
    const value = parsed === undefined ? undefined : this.redactDeep(parsed, 0);
    const apiError = parseApiError(value);
    const shortText = apiError
      ? undefined
      : clip(value === undefined ? this.redact(outcome.text) : JSON.stringify(value));
    const reason = apiError
      ? `${apiError.error}: ${apiError.message}`
      : shortText !== undefined && shortText !== ''
        ? shortText
        : 'no body';
    const malformed = outcome.status < 300 ? ' (unreadable response body)' : '';
    const auth =
      outcome.status === 401
        ? `. The API refused the token (wrong, expired or revoked, or another orchestrator's). ${this.#o.authHint}`
        : outcome.status === 403
          ? `. The token may not ${spec.operation} in organization "${this.orgId}". ${this.#o.authHint}`
          : '';
    return new OrchestratorApiError({
      message: `Orchestrator API ${where} failed with HTTP ${outcome.status}${malformed}: ${reason}, ${tries}${auth}`,
      status: outcome.status,
      operation: spec.operation,
      method: spec.method,
      path: spec.path,
      apiError,
      responseText: shortText,
      attempts,
      mayHaveSucceeded,
    });
  }

  /** {@link redact} on every string (and key) of a parsed JSON value. */
  private redactDeep(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.redact(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth > 64) return '[nested too deep]';
    if (Array.isArray(v)) return v.map((x) => this.redactDeep(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), this.redactDeep(x, depth + 1)]));
  }

  /** Removes the token from text that came from elsewhere (an API may echo request headers). */
  private redact(text: string): string {
    let out = text.replace(/Bearer\s+[^\s"',;]+/gi, 'Bearer ***');
    if (this.#token.length > 0) out = out.split(this.#token).join('***');
    return out;
  }
}

function normalizeApiUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`API URL "${raw}" is not an absolute URL such as ${DEFAULT_API_URL}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new Error(`API URL "${raw}" must use https (or http for a local installation)`);
  }
  if (u.username || u.password) throw new Error('API URL must not carry credentials; pass the token separately');
  if (u.search || u.hash) throw new Error(`API URL "${raw}" must not have a query or fragment`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function parseSuccess(text: string, status: number, spec: CallSpec): { ok: true; value: unknown } | { ok: false } {
  if (status === 204 || (spec.method === 'DELETE' && text.trim() === '')) return { ok: true, value: undefined };
  if (spec.allow?.includes(status)) {
    // An allowed error status (404, 409): its body is informational.
    return { ok: true, value: tryParse(text) };
  }
  const value = tryParse(text);
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false };
  const op = spec.operation;
  if (op === 'listRunnerRules') {
    const { items, next_page_token: next } = value as RunnerRulePage;
    if (!Array.isArray(items) || !items.every(isRule)) return { ok: false };
    if (next !== undefined && next !== null && typeof next !== 'string') return { ok: false };
  }
  if ((op === 'createRunner' || op === 'getRunner' || op === 'updateRunner') && !hasId(value)) return { ok: false };
  if ((op === 'createRunnerRule' || op === 'getRunnerRule') && !isRule(value)) return { ok: false };
  return { ok: true, value };
}

/** An object with a non-empty string `id`: what every later call about it needs. */
function hasId(v: unknown): boolean {
  return (
    v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' && (v as Runner).id !== ''
  );
}

/** A rule as the schema requires for what the client reads: `id` and `runner_id` strings. */
function isRule(v: unknown): boolean {
  return hasId(v) && typeof (v as { runner_id?: unknown }).runner_id === 'string';
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The documented error form of a parsed body, its texts clipped to {@link MAX_API_TEXT}. */
function parseApiError(value: unknown): ApiErrorBody | undefined {
  const v = value as Partial<ApiErrorBody> | null | undefined;
  if (v && typeof v === 'object' && typeof v.message === 'string') {
    return {
      error: typeof v.error === 'string' ? clip(v.error, 100) : 'unknown',
      message: clip(v.message),
      details: v.details,
    };
  }
  return undefined;
}

/** Full jitter: a uniformly random delay in [0, min(max, base * 2^(attempt-1))). */
export function backoff(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/** Retry-After as delta-seconds or an HTTP date; undefined when unreadable. */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function networkCode(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  return err?.cause?.code ?? err?.code ?? err?.cause?.name ?? err?.name ?? 'NETWORK_ERROR';
}

/**
 * What failed, for the error message: the code with the address of a refused or reset
 * connection (`ECONNREFUSED 127.0.0.1:8443`) or the host name that did not resolve
 * (`ENOTFOUND api.example.com`), then `(network error)`.
 */
function networkDetail(e: unknown): string {
  type Cause = { code?: string; address?: string; port?: number; hostname?: string; errors?: Cause[] };
  const cause = (e as { cause?: Cause })?.cause;
  const first = cause?.errors?.find((x) => x?.address !== undefined) ?? cause;
  const code = cause?.code ?? first?.code ?? networkCode(e);
  if (first?.address !== undefined) {
    const host = first.address.includes(':') ? `[${first.address}]` : first.address;
    return `${code} ${host}${first.port !== undefined ? `:${first.port}` : ''} (network error)`;
  }
  if (cause?.hostname !== undefined) return `${code} ${cause.hostname} (network error)`;
  return `${code} (network error)`;
}

function asRunner(v: unknown): Runner {
  return v as Runner;
}

function asRule(v: unknown): RunnerRule {
  return v as RunnerRule;
}

/** Whether a rule has the runner, environment type and project of a create body ('' and absent are equal). */
export function sameRule(rule: RunnerRule, body: RunnerRuleCreateBody): boolean {
  return (
    rule.runner_id === body.runner_id &&
    (rule.env_type_id ?? '') === (body.env_type_id ?? '') &&
    (rule.project_id ?? '') === (body.project_id ?? '')
  );
}

// ------------------------------------------------------ desired vs. actual

/** One field whose desired (stack) and actual (orchestrator) values differ. */
export interface FieldDifference {
  /** Dotted path, e.g. `runner_configuration.job.subnets`. */
  readonly path: string;
  readonly desired: unknown;
  readonly actual: unknown;
}

/** Fields the orchestrator sets itself: never compared. */
const READ_ONLY_FIELDS: ReadonlySet<string> = new Set(['org_id', 'created_at', 'updated_at']);

/**
 * The leaf fields of a runner body: primitives, and arrays of primitives as a whole, keyed by
 * dotted path. Read-only fields are left out.
 */
export function flattenRunner(value: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (path === '' && READ_ONLY_FIELDS.has(k)) continue;
        walk(x, path === '' ? k : `${path}.${k}`);
      }
    } else if (path !== '') {
      out.set(path, v);
    }
  };
  walk(value, '');
  return out;
}

/**
 * Absent, null, '', false, [] and {} all mean "not set" (the API returns empty defaults for
 * optional fields); arrays of primitives are sets (subnets, security groups).
 */
function normalize(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '' || v === false) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : JSON.stringify([...v].map((x) => JSON.stringify(x)).sort());
  return JSON.stringify(v);
}

/** The fields in which the orchestrator's runner differs from the desired create body. */
export function diffRunner(desired: RunnerCreateBody, actual: Runner): FieldDifference[] {
  const d = flattenRunner(desired);
  const a = flattenRunner(actual);
  const paths = [...new Set([...d.keys(), ...a.keys()])].sort();
  return paths
    .filter((p) => normalize(d.get(p)) !== normalize(a.get(p)))
    .map((p) => ({ path: p, desired: d.get(p), actual: a.get(p) }));
}

/** The update that brings an existing runner to a create body's state (description cleared when absent). */
export function updateBodyFromCreateBody(body: RunnerCreateBody): RunnerUpdateBody {
  return {
    description: body.description ?? '',
    runner_configuration: body.runner_configuration as RunnerUpdateBody['runner_configuration'],
    state_storage_configuration: body.state_storage_configuration,
  };
}
