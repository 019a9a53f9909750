/*
 * HTTP transport of the orchestrator API client: Node's built-in fetch (no runtime dependencies;
 * the Lambda bundle stays small), one retry policy, and errors that never carry the token.
 *
 * - `Authorization: Bearer <token>`. The token is kept in a private field, never logged, and
 *   removed from every error message and error body (an API that echoes the header must not
 *   leak it into CloudFormation events or a terminal).
 * - {@link RetryPolicy} is the one place that decides timeouts, which failures are retried and how
 *   long to wait: network errors (reset, refused, DNS, timeouts), 408, 429 (honouring
 *   Retry-After in seconds or as an HTTP date) and 5xx, with exponential backoff and full jitter,
 *   bounded by a number of attempts, a per-request timeout and an overall deadline per client.
 *
 * Run-time code: bundled into the registration handler and the CLI, never loaded by constructs.
 */
import { DEFAULT_API_URL, DEFAULT_DEADLINE_MS } from '../api-defaults';
import type { components } from '../api-types.generated';

export type ApiErrorBody = components['schemas']['Error'];

/** Longest API-provided text (error message, non-JSON body) an error message carries. */
export const MAX_API_TEXT = 500;

/** `text` cut to `max` characters, with a marker saying how much was left out. */
export function clip(text: string, max = MAX_API_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters)` : text;
}

/** `o` without its undefined entries (0, '', false and null are kept: they are values). */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ------------------------------------------------------------ retry policy

/** Time one HTTP request may take before it is aborted and retried. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;
/** Attempts per call, the first included. */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** Backoff cap of the first retry; doubles per attempt up to {@link DEFAULT_MAX_DELAY_MS}. */
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 20_000;

/** The numbers of a {@link RetryPolicy}; each left out takes its default. */
export type RetrySettings = {
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** Overall deadline of a client, counted from its creation. @default DEFAULT_DEADLINE_MS */
  readonly deadlineMs?: number;
  /** @default DEFAULT_MAX_ATTEMPTS */
  readonly maxAttempts?: number;
  /** @default DEFAULT_BASE_DELAY_MS */
  readonly baseDelayMs?: number;
  /** @default DEFAULT_MAX_DELAY_MS */
  readonly maxDelayMs?: number;
};

/** What one attempt came back with. */
export type Attempt =
  | { kind: 'response'; status: number; text: string; retryAfter: string | null }
  | { kind: 'network'; code: string; detail: string };

/** How an attempt that was not a success is treated. */
export interface FailureVerdict {
  readonly retryable: boolean;
  /** The server may have done the work (no response, a 5xx, an unreadable success). */
  readonly mayHaveBeenProcessed: boolean;
}

/**
 * Timeouts, which failures are retried, and how long to wait before the next attempt: every
 * retry decision of the client, in one object.
 */
export class RetryPolicy {
  public readonly requestTimeoutMs: number;
  public readonly deadlineMs: number;
  public readonly maxAttempts: number;
  public readonly baseDelayMs: number;
  public readonly maxDelayMs: number;
  readonly #random: () => number;

  /** @param random a number in [0, 1), injectable for tests */
  constructor(settings: RetrySettings = {}, random: () => number = Math.random) {
    this.requestTimeoutMs = settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deadlineMs = settings.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.maxAttempts = Math.max(1, Math.floor(settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.baseDelayMs = settings.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = settings.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.#random = random;
  }

  /**
   * A failed attempt: network errors are retried (the request may have arrived); so are 408,
   * 429 and 5xx but 501 and 505 (which a retry cannot change); a success status whose body is
   * unreadable is retried, and only a GET is known not to have changed anything.
   */
  public verdict(outcome: Attempt, method: string, unreadableSuccess: boolean): FailureVerdict {
    if (outcome.kind === 'network') return { retryable: true, mayHaveBeenProcessed: true };
    if (unreadableSuccess) return { retryable: true, mayHaveBeenProcessed: method !== 'GET' };
    const { status } = outcome;
    return {
      retryable: status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505),
      mayHaveBeenProcessed: status >= 500,
    };
  }

  /** Wait before attempt `attempt + 1`: the server's Retry-After when readable, else {@link backoff}. */
  public delay(attempt: number, outcome: Attempt, nowMs: number): number {
    const jittered = backoff(attempt, this.baseDelayMs, this.maxDelayMs, this.#random);
    if (outcome.kind === 'response' && outcome.retryAfter !== null) {
      return parseRetryAfter(outcome.retryAfter, nowMs) ?? jittered;
    }
    return jittered;
  }
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

/**
 * Retry settings read from the environment: lets tests (and operators) shorten or lengthen
 * waits. Only the variables that are set appear in the result.
 */
export function tuningFromEnv(env: Record<string, string | undefined>): RetrySettings {
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`${name} must be a non-negative number of milliseconds, got "${raw}"`);
    return n;
  };
  return definedOnly({
    requestTimeoutMs: num('PO_API_TIMEOUT_MS'),
    deadlineMs: num('PO_API_DEADLINE_MS'),
    maxAttempts: num('PO_API_MAX_ATTEMPTS'),
    baseDelayMs: num('PO_API_RETRY_BASE_MS'),
    maxDelayMs: num('PO_API_RETRY_MAX_MS'),
  });
}

// ------------------------------------------------------------------ errors

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

// --------------------------------------------------------------- transport

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One API call. */
export interface CallSpec {
  readonly operation: string;
  readonly method: Method;
  /** Path below the API URL, already encoded. */
  readonly path: string;
  readonly query?: Record<string, string | number | undefined>;
  readonly body?: unknown;
  /** Statuses that are success. */
  readonly expect: readonly number[];
  /** Statuses handed back to the caller instead of thrown. */
  readonly allow?: readonly number[];
  /** Whether a success body (a JSON object) is what the operation returns; unreadable otherwise. @default - any object */
  readonly accept?: (value: object) => boolean;
}

export interface CallResult {
  readonly status: number;
  readonly body: unknown;
  readonly attempts: number;
  /** An earlier attempt may have been processed by the server (network error, timeout, 5xx, unreadable 2xx). */
  readonly ambiguous: boolean;
  /** The error to throw when the caller does not accept an allowed status. */
  readonly error: () => OrchestratorApiError;
}

export interface TransportOptions {
  /** Base URL of the API, with an optional path. @default DEFAULT_API_URL */
  readonly apiUrl?: string;
  readonly token: string;
  /** The organization, for the messages of 403 answers. */
  readonly orgId: string;
  readonly policy: RetryPolicy;
  readonly log: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly userAgent: string;
  /** Appended to the message of a 401 or 403. */
  readonly authHint: string;
}

/** Sends calls to one API URL with one token, retrying by one policy until one deadline. */
export class Transport {
  public readonly apiUrl: string;
  readonly #token: string;
  readonly #o: TransportOptions;
  readonly #deadline: number;

  constructor(options: TransportOptions) {
    this.apiUrl = normalizeApiUrl(options.apiUrl ?? DEFAULT_API_URL);
    this.#token = options.token;
    this.#o = options;
    this.#deadline = options.now() + options.policy.deadlineMs;
  }

  /** Never shows the token, whatever inspects the transport. */
  public toJSON(): Record<string, string> {
    return { apiUrl: this.apiUrl };
  }

  public async call(spec: CallSpec): Promise<CallResult> {
    const o = this.#o;
    const policy = o.policy;
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
      const outcome = await this.attempt(
        url,
        spec.method,
        headers,
        payload,
        Math.min(policy.requestTimeoutMs, remaining),
      );
      const took = o.now() - started;
      const label = `${spec.method} ${spec.path}`;
      const shown = outcome.kind === 'response' ? String(outcome.status) : `${outcome.code}`;

      let unreadableSuccess = false;
      let failure: Attempt = outcome;
      if (outcome.kind === 'response') {
        const { status } = outcome;
        if (spec.expect.includes(status) || spec.allow?.includes(status)) {
          const parsed = parseSuccess(outcome.text, status, spec);
          if (parsed.ok) {
            o.log(`orchestrator-api ${label} -> ${status} (attempt ${attempt}/${policy.maxAttempts}, ${took} ms)`);
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
          unreadableSuccess = true;
          failure = { kind: 'response', status, text: outcome.text, retryAfter: null };
        }
      }
      const { retryable, mayHaveBeenProcessed } = policy.verdict(outcome, spec.method, unreadableSuccess);

      const last = attempt >= policy.maxAttempts;
      const delay = retryable && !last ? policy.delay(attempt, outcome, o.now()) : 0;
      const beyondDeadline = o.now() + delay >= this.#deadline;
      const giveUp = !retryable || last || beyondDeadline;
      o.log(
        `orchestrator-api ${label} -> ${shown} (attempt ${attempt}/${policy.maxAttempts}, ${took} ms)` +
          (giveUp
            ? retryable
              ? last
                ? '; no attempts left'
                : '; next retry would pass the deadline'
              : ''
            : `; retrying in ${Math.round(delay)} ms`),
      );
      if (mayHaveBeenProcessed) ambiguous = true;
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
          ? `. The token may not ${spec.operation} in organization "${this.#o.orgId}". ${this.#o.authHint}`
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
  if (spec.accept !== undefined && !spec.accept(value)) return { ok: false };
  return { ok: true, value };
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
