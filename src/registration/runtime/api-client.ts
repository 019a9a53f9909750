/*
 * The typed calls of the orchestrator's API that the registration handler and the po-ecs-runner
 * CLI make: runners and runner rules in one organization. Every call goes through
 * transport.ts (fetch, timeouts, retries, errors), so tests can point it at a local server and
 * one place decides about retries. Types generated from spec/openapi.yaml (`npm run gen:api`).
 *
 * Run-time code: bundled into the registration handler and the CLI, never loaded by constructs.
 */
import { DEFAULT_API_URL, DEFAULT_DEADLINE_MS } from '../api-defaults';
import type { components, operations } from '../api-types.generated';
import type { RunnerCreateBody } from '../runner-create-body';
import { diffRunner } from './runner-diff';
import { OrchestratorApiError, RetryPolicy, RetrySettings, Transport } from './transport';

type Schemas = components['schemas'];
export type { RunnerCreateBody };
export type RunnerUpdateBody = Schemas['RunnerUpdateBody'];
export type Runner = Schemas['Runner'];
export type RunnerRule = Schemas['RunnerRule'];
export type RunnerRuleCreateBody = Schemas['RunnerRuleCreateBody'];
export type RunnerRulePage = Schemas['RunnerRulePage'];
export type RunnerRuleFilter = Pick<
  NonNullable<operations['listRunnerRulesInOrg']['parameters']['query']>,
  'byRunnerId' | 'byEnvTypeId' | 'byProjectId'
>;

export { DEFAULT_API_URL, DEFAULT_DEADLINE_MS };
// What callers of the client handle besides it: its error, its retry settings, the comparison it
// resolves a 409 with. One import for the handler and the CLI; the code lives in its parts.
export { OrchestratorApiError, RetryPolicy, clip, isApiError, tuningFromEnv } from './transport';
export type { RetrySettings } from './transport';
export { diffRunner, flattenRunner, updateBodyFromCreateBody } from './runner-diff';
export type { FieldDifference } from './runner-diff';
/** Page size asked for when listing. */
export const DEFAULT_PAGE_SIZE = 50;

/** Options of {@link OrchestratorClient}; the retry settings make its {@link RetryPolicy}. */
export interface OrchestratorClientOptions extends RetrySettings {
  /** The organization every call is made in. */
  readonly orgId: string;
  /** The API token, sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Base URL of the API, with an optional path. @default DEFAULT_API_URL */
  readonly apiUrl?: string;
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

/** A client of the orchestrator's runner and runner-rule endpoints in one organization. */
export class OrchestratorClient {
  public readonly orgId: string;
  public readonly apiUrl: string;
  readonly #http: Transport;
  readonly #log: (line: string) => void;
  readonly #pageSize: number;

  constructor(options: OrchestratorClientOptions) {
    if (!options.orgId) throw new Error('OrchestratorClient: orgId is required');
    if (!options.token) throw new Error('OrchestratorClient: an API token is required');
    this.orgId = options.orgId;
    this.#log = options.log ?? (() => undefined);
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.#http = new Transport({
      apiUrl: options.apiUrl,
      token: options.token,
      orgId: options.orgId,
      policy: new RetryPolicy(options, options.random),
      log: this.#log,
      sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
      now: options.now ?? Date.now,
      userAgent: options.userAgent ?? 'platform-orchestrator-ecs-runner',
      authHint:
        options.authHint ??
        `The API token must be valid for organization "${options.orgId}" at this API URL and may manage runners ` +
          'and runner rules there.',
    });
    this.apiUrl = this.#http.apiUrl;
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
    const r = await this.#http.call({
      operation: 'createRunner',
      accept: hasId,
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
      this.#log(
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
    const body = await this.getOne('getRunner', hasId, 'runners', runnerId);
    return body === undefined ? undefined : asRunner(body);
  }

  /** PATCH /orgs/{orgId}/runners/{runnerId}: with the whole desired state, so a retry is harmless. */
  public async updateRunner(runnerId: string, body: RunnerUpdateBody): Promise<Runner> {
    const r = await this.#http.call({
      operation: 'updateRunner',
      accept: hasId,
      method: 'PATCH',
      path: this.orgPath('runners', runnerId),
      body,
      expect: [200],
    });
    return asRunner(r.body);
  }

  /** DELETE /orgs/{orgId}/runners/{runnerId}; `false` when there was none (404). */
  public async deleteRunner(runnerId: string): Promise<boolean> {
    return this.deleteOne('deleteRunner', 'runners', runnerId);
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
    const r = await this.#http.call({
      operation: 'createRunnerRule',
      accept: isRule,
      method: 'POST',
      path: this.orgPath('runner-rules'),
      body,
      expect: [201, 200],
      allow: [409],
    });
    if (r.status !== 409) return asRule(r.body);
    const match = (await this.listRunnerRules({ byRunnerId: body.runner_id })).find((rule) => sameRule(rule, body));
    if (match) {
      this.#log(
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
      const r = await this.#http.call({
        operation: 'listRunnerRules',
        accept: isRulePage,
        method: 'GET',
        path: this.orgPath('runner-rules'),
        query: { ...filter, per_page: this.#pageSize, page },
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
    const body = await this.getOne('getRunnerRule', isRule, 'runner-rules', ruleId);
    return body === undefined ? undefined : asRule(body);
  }

  /** DELETE /orgs/{orgId}/runner-rules/{ruleId}; `false` when there was none (404). */
  public async deleteRunnerRule(ruleId: string): Promise<boolean> {
    return this.deleteOne('deleteRunnerRule', 'runner-rules', ruleId);
  }

  /** GET of one resource of the org (`segments` below it); undefined when there is none (404). */
  private async getOne(operation: string, accept: (value: object) => boolean, ...segments: string[]): Promise<unknown> {
    const r = await this.#http.call({
      operation,
      accept,
      method: 'GET',
      path: this.orgPath(...segments),
      expect: [200],
      allow: [404],
    });
    return r.status === 404 ? undefined : r.body;
  }

  /** DELETE of one resource of the org (`segments` below it); `false` when there was none (404). */
  private async deleteOne(operation: string, ...segments: string[]): Promise<boolean> {
    const r = await this.#http.call({
      operation,
      method: 'DELETE',
      path: this.orgPath(...segments),
      expect: [204, 200],
      allow: [404],
    });
    // A 404 after an ambiguous attempt means that attempt deleted it.
    return r.status !== 404 || r.ambiguous;
  }

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

/** A page of rules: rules as {@link isRule} wants them, and a string page token or none. */
function isRulePage(v: object): boolean {
  const { items, next_page_token: next } = v as RunnerRulePage;
  return (
    Array.isArray(items) && items.every(isRule) && (next === undefined || next === null || typeof next === 'string')
  );
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
