/**
 * A real local HTTP server (127.0.0.1, a free port) standing in for:
 * - the orchestrator's runner and runner-rule endpoints, in memory, validating every request
 *   body against spec/openapi.yaml (400 and a recorded violation when invalid) and every
 *   response it produces (recorded as a self-check), checking the Bearer token;
 * - Secrets Manager's GetSecretValue (AWS JSON 1.1; point the SDK at it with
 *   AWS_ENDPOINT_URL_SECRETS_MANAGER);
 * - CloudFormation's DescribeStacks (query protocol, XML; AWS_ENDPOINT_URL_CLOUDFORMATION).
 *
 * Faults are scripted per request: a matching fault is consumed by the next matching request,
 * either instead of processing it (`when: 'before'`, the default) or after the request has
 * changed the state (`when: 'after'`: the response is lost, the effect is not).
 *
 * Beyond the spec, it follows the real API server (stellwerk-labs/platform-orchestrator-cp,
 * internal/api/runners.go, runners_utils.go, runner_rules.go, internal/model/runner_rules.go,
 * runners.go and the runner_rules migration), with its status codes and messages:
 * - `runner_configuration` is decoded strictly (Go's DisallowUnknownFields, nested objects
 *   included; maps such as `job.environment` excepted): an unknown field is a 400;
 * - job environment variables ORG_ID, DEPLOYMENT_ID, MODE, TOKEN, ENCRYPTING_KEY and
 *   PLATFORM_ORCHESTRATOR_BASE_URL are reserved, RUNNER_GIT_SSH_KEYS must be a secret (400);
 * - a PATCH's `runner_configuration` must keep the runner type and replaces the stored one's
 *   top-level keys (`job`, `auth`) one by one (a shallow merge); an absent description or state
 *   storage configuration is kept;
 * - a runner rule's (project, environment type) pair is unique in the organization, whatever its
 *   runner (409 naming the rule and its runner); a rule for an unknown runner is a 409 too;
 * - DELETE of a runner that environments use is a 409 listing up to 10 of them as
 *   `<project>/<env>` ({@link FakeOrchestrator.useRunner} marks them); otherwise the runner's
 *   rules are deleted with it (ON DELETE CASCADE);
 * - error bodies are `{"error": "HTTP-<status>", "message": ...}`.
 * Optional job fields come back as empty defaults ([] / {} / false), as a Go server with
 * non-pointer fields returns them.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { loadSpec, validateSchema } from './openapi';

export type FaultKind =
  | 'status' // respond with `status` (500, 502, 503, ...) and an Error body
  | 'retry-after' // 429 with a Retry-After header (`retryAfter`: seconds or HTTP date)
  | 'hang' // accept the request and never respond
  | 'reset' // destroy the socket
  | 'malformed' // respond with the normal status and a body that is not JSON
  | 'conflict' // 409 with an Error body
  | 'not-found' // 404 with an Error body
  | 'echo-auth' // 500 with an error body that echoes the Authorization header (a careless API)
  | 'body'; // respond with `status` (default 200) and `body` exactly as given (any API's odd answer)

export interface Fault {
  readonly kind: FaultKind;
  readonly status?: number;
  readonly retryAfter?: string;
  /** The raw response text of a 'body' fault (sent as application/json, unchanged). */
  readonly body?: string;
  /** 'before': instead of processing (default); 'after': process, then fail the response. */
  readonly when?: 'before' | 'after';
}

export interface FaultRule {
  /** Which service the fault applies to; Secrets Manager's path is its target (`secretsmanager.GetSecretValue`). @default 'orchestrator' */
  readonly service?: 'orchestrator' | 'secretsmanager';
  readonly method?: string;
  /** Matches the request path (string: exact; RegExp: test). @default - any path */
  readonly path?: string | RegExp;
  readonly fault: Fault;
  /** How many matching requests it applies to. @default 1 */
  readonly times?: number;
  /** Matching requests to let through before it applies. @default 0 */
  readonly skip?: number;
}

export interface RecordedRequest {
  readonly service: 'orchestrator' | 'secretsmanager' | 'cloudformation';
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorized: boolean;
  status?: number;
  fault?: FaultKind;
}

export interface StackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
}

export interface FakeOrchestratorOptions {
  /** The API token the orchestrator accepts. */
  readonly token: string;
  /** Secrets Manager secrets by ARN (or name): their SecretString. */
  readonly secrets?: Record<string, string>;
  /** CloudFormation stacks by name: their outputs. */
  readonly stacks?: Record<string, StackOutput[]>;
  /** Largest page the list endpoint returns, whatever per_page asks. @default 50 */
  readonly maxPageSize?: number;
}

type Json = any;

const SCHEMAS = [
  'RunnerCreateBody',
  'RunnerUpdateBody',
  'RunnerRuleCreateBody',
  'Runner',
  'RunnerRule',
  'RunnerRulePage',
  'Error',
];

export class FakeOrchestrator {
  public static async start(options: FakeOrchestratorOptions): Promise<FakeOrchestrator> {
    // Compile the validators first: compiling on the first request would look like a hung server.
    for (const schema of SCHEMAS) validateSchema(schema, {});
    const fake = new FakeOrchestrator(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Runners by `<org>/<id>`, as the API returns them. */
  public readonly runners = new Map<string, Json>();
  /** Runner rules by id. */
  public readonly rules = new Map<string, Json>();
  /** Environments (`<project>/<env>`) that use a runner, by `<org>/<runner>`: the server refuses to delete it. */
  public readonly environmentsUsing = new Map<string, string[]>();
  /** Every request, in order. */
  public readonly requests: RecordedRequest[] = [];
  /** Request bodies that broke the OpenAPI schema (each also answered 400). */
  public readonly violations: string[] = [];
  /** Responses of this fake that broke the schema (a self-check; should stay empty). */
  public readonly responseViolations: string[] = [];
  public readonly secrets: Map<string, string>;
  public readonly stacks: Map<string, StackOutput[]>;

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly faults: { rule: FaultRule; left: number; skip: number }[] = [];
  private readonly options: FakeOrchestratorOptions;
  private clock = Date.parse('2025-01-01T00:00:00Z');

  private constructor(options: FakeOrchestratorOptions) {
    this.options = options;
    this.secrets = new Map(Object.entries(options.secrets ?? {}));
    this.stacks = new Map(Object.entries(options.stacks ?? {}));
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'FAKE-500', message: `fake server bug: ${(e as Error).message}` }));
        }
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Base URL, e.g. http://127.0.0.1:54321 */
  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Script a fault for the next matching request(s). */
  public inject(rule: FaultRule): this {
    this.faults.push({ rule, left: rule.times ?? 1, skip: rule.skip ?? 0 });
    return this;
  }

  /** Faults not yet consumed. */
  public pendingFaults(): number {
    return this.faults.reduce((n, f) => n + f.left, 0);
  }

  /** Requests to the orchestrator API only. */
  public apiCalls(): RecordedRequest[] {
    return this.requests.filter((r) => r.service === 'orchestrator');
  }

  /** Forget recorded requests and unconsumed faults (state stays). */
  public resetLog(): void {
    this.requests.length = 0;
    this.faults.length = 0;
  }

  /** A fresh server for the next test: no runners, rules, recorded requests, faults or violations. */
  public reset(): void {
    this.runners.clear();
    this.rules.clear();
    this.environmentsUsing.clear();
    this.violations.length = 0;
    this.resetLog();
  }

  /** Put a runner in place without an API call (something that exists already). */
  public seedRunner(orgId: string, body: Json): Json {
    const runner = this.toRunner(orgId, body);
    this.runners.set(`${orgId}/${body.id}`, runner);
    return runner;
  }

  /** Put a rule in place without an API call (e.g. one made by hand). */
  public seedRule(orgId: string, body: { runner_id: string; env_type_id?: string; project_id?: string }): Json {
    const rule = this.toRule(orgId, body);
    this.rules.set(rule.id, rule);
    return rule;
  }

  /** Mark environments (`<project>/<env>`) as using a runner (none: no longer used). */
  public useRunner(orgId: string, runnerId: string, environments: string[]): void {
    if (environments.length === 0) this.environmentsUsing.delete(`${orgId}/${runnerId}`);
    else this.environmentsUsing.set(`${orgId}/${runnerId}`, [...environments]);
  }

  /** Runner ids in an org, sorted. */
  public runnerIds(orgId: string): string[] {
    return [...this.runners.values()]
      .filter((r) => r.org_id === orgId)
      .map((r) => r.id)
      .sort();
  }

  /** Rules in an org as sorted `runner:envType:project` strings. */
  public ruleKeys(orgId: string): string[] {
    return [...this.rules.values()]
      .filter((r) => r.org_id === orgId)
      .map((r) => `${r.runner_id}:${r.env_type_id}:${r.project_id}`)
      .sort();
  }

  // ------------------------------------------------------------------ dispatch

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
      return this.secretsManager(req, res, target, raw);
    }
    if (req.method === 'POST' && url.pathname === '/' && /Action=DescribeStacks/.test(raw)) {
      return this.cloudFormation(req, res, raw);
    }
    return this.orchestrator(req, res, url, raw);
  }

  private takeFault(method: string, path: string, service: 'orchestrator' | 'secretsmanager'): Fault | undefined {
    for (const f of this.faults) {
      if (f.left <= 0) continue;
      if ((f.rule.service ?? 'orchestrator') !== service) continue;
      const m = f.rule.method === undefined || f.rule.method === method;
      const p =
        f.rule.path === undefined || (typeof f.rule.path === 'string' ? f.rule.path === path : f.rule.path.test(path));
      if (m && p) {
        if (f.skip > 0) {
          f.skip -= 1;
          continue;
        }
        f.left -= 1;
        return f.rule.fault;
      }
    }
    return undefined;
  }

  private async orchestrator(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string) {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const authorized = req.headers.authorization === `Bearer ${this.options.token}`;
    const record: RecordedRequest = {
      service: 'orchestrator',
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      authorized,
    };
    this.requests.push(record);
    const send = (status: number, body?: Json, headers: Record<string, string> = {}) => {
      record.status = status;
      if (body === undefined) {
        res.writeHead(status, headers);
        res.end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      }
    };

    if (!authorized) {
      return send(401, { error: 'HTTP-401', message: 'missing or invalid bearer token' });
    }

    const fault = this.takeFault(method, path, 'orchestrator');
    if (fault) record.fault = fault.kind;
    if (fault && (fault.when ?? 'before') === 'before') {
      return this.applyFault(fault, req, res, record, undefined);
    }

    const result = this.route(method, path, url.searchParams, raw, req.headers['content-type']);
    if (fault) return this.applyFault(fault, req, res, record, result);
    return send(result.status, result.body);
  }

  private applyFault(
    fault: Fault,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RecordedRequest,
    processed: { status: number; body?: Json } | undefined,
  ): void {
    const json = (status: number, body: Json, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    switch (fault.kind) {
      case 'status':
        return json(fault.status ?? 500, { error: `HTTP-${fault.status ?? 500}`, message: 'scripted server error' });
      case 'retry-after':
        return json(
          fault.status ?? 429,
          { error: 'HTTP-429', message: 'too many requests' },
          { 'retry-after': fault.retryAfter ?? '1' },
        );
      case 'hang':
        record.status = undefined;
        return; // never respond; close() destroys the socket
      case 'reset':
        record.status = undefined;
        req.socket.destroy();
        return;
      case 'malformed': {
        const status = processed?.status ?? fault.status ?? 200;
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{"id": "truncated');
        return;
      }
      case 'conflict':
        return json(409, { error: 'HTTP-409', message: 'scripted conflict' });
      case 'not-found':
        return json(404, { error: 'HTTP-404', message: 'scripted not found' });
      case 'echo-auth':
        return json(500, {
          error: 'HTTP-500',
          message: `internal error while handling Authorization: ${String(req.headers.authorization)}`,
          details: { headers: req.headers },
        });
      case 'body':
        record.status = fault.status ?? 200;
        res.writeHead(record.status, { 'content-type': 'application/json' });
        res.end(fault.body ?? '');
        return;
    }
  }

  // --------------------------------------------------------------------- API

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    raw: string,
    contentType: string | undefined,
  ): { status: number; body?: Json } {
    const runners = /^\/orgs\/([^/]+)\/runners$/.exec(path);
    const runner = /^\/orgs\/([^/]+)\/runners\/([^/]+)$/.exec(path);
    const rules = /^\/orgs\/([^/]+)\/runner-rules$/.exec(path);
    const rule = /^\/orgs\/([^/]+)\/runner-rules\/([^/]+)$/.exec(path);
    const dec = decodeURIComponent;

    const body = (schema: string): { ok: true; value: Json } | { ok: false; status: number; body: Json } => {
      if (!/^application\/json\b/.test(contentType ?? '')) {
        return this.invalid(`${method} ${path}: content-type ${String(contentType)} is not application/json`);
      }
      let value: Json;
      try {
        value = JSON.parse(raw);
      } catch {
        return this.invalid(`${method} ${path}: body is not JSON`);
      }
      const v = validateSchema(schema, value);
      if (!v.valid) return this.invalid(`${method} ${path}: not a valid ${schema}: ${v.errors.join('; ')}`);
      return { ok: true, value };
    };

    if (runners && method === 'POST') {
      const org = dec(runners[1]);
      const b = body('RunnerCreateBody');
      if (!b.ok) return b;
      const refused = checkRunnerConfiguration(b.value.runner_configuration, 'create');
      if (refused !== undefined) return this.error(400, refused);
      const key = `${org}/${b.value.id}`;
      if (this.runners.has(key)) return this.error(409, `runner with id ${b.value.id} already exists`);
      const created = this.toRunner(org, b.value);
      this.runners.set(key, created);
      return this.respond(201, created, 'Runner');
    }
    if (runner) {
      const org = dec(runner[1]);
      const key = `${org}/${dec(runner[2])}`;
      const existing = this.runners.get(key);
      if (method === 'GET') {
        return existing ? this.respond(200, existing, 'Runner') : this.error(404, 'runner not found');
      }
      if (method === 'PATCH') {
        const b = body('RunnerUpdateBody');
        if (!b.ok) return b;
        if (!existing) return this.error(404, 'runner not found');
        const patch = b.value.runner_configuration;
        let cfg = existing.runner_configuration;
        if (patch !== undefined) {
          const refused = checkRunnerConfiguration(patch, 'update');
          if (refused !== undefined) return this.error(400, refused);
          if (patch.type !== existing.runner_configuration.type) {
            return this.error(
              400,
              `runner type ${patch.type} does not match existing runner type ${existing.runner_configuration.type}`,
            );
          }
          // The server copies the patch's top-level keys over the stored configuration (maps.Copy).
          cfg = { ...existing.runner_configuration, ...this.withJobDefaults(patch) };
        }
        const updated: Json = {
          ...existing,
          updated_at: this.now(),
          runner_configuration: cfg,
          state_storage_configuration: clone(
            b.value.state_storage_configuration ?? existing.state_storage_configuration,
          ),
        };
        if (b.value.description !== undefined) updated.description = b.value.description;
        this.runners.set(key, updated);
        return this.respond(200, updated, 'Runner');
      }
      if (method === 'DELETE') {
        if (!existing) return this.error(404, 'runner not found');
        const envs = (this.environmentsUsing.get(key) ?? []).slice(0, 10);
        if (envs.length > 0) {
          return this.error(409, `runner ${existing.id} is in use by the environments: ${envs.join(', ')}`);
        }
        this.runners.delete(key);
        // runner_rules (org_id, runner_id) REFERENCES runners ON DELETE CASCADE
        for (const r of [...this.rules.values()]) {
          if (r.org_id === org && r.runner_id === existing.id) this.rules.delete(r.id);
        }
        return { status: 204 };
      }
    }
    if (rules && method === 'POST') {
      const org = dec(rules[1]);
      const b = body('RunnerRuleCreateBody');
      if (!b.ok) return b;
      if (!b.value.runner_id) return this.error(400, 'runner_id is mandatory to create a runner rule');
      // One rule per (project, environment type) in the organization, whatever its runner.
      const taken = [...this.rules.values()].find(
        (r) =>
          r.org_id === org &&
          r.env_type_id === (b.value.env_type_id ?? '') &&
          r.project_id === (b.value.project_id ?? ''),
      );
      if (taken) {
        return this.error(
          409,
          `runner rule conflicts with existing rule '${taken.id}' for runner '${taken.runner_id}'`,
        );
      }
      if (!this.runners.has(`${org}/${b.value.runner_id}`)) {
        return this.error(409, `runner '${b.value.runner_id}' not found`);
      }
      const created = this.toRule(org, b.value);
      this.rules.set(created.id, created);
      return this.respond(201, created, 'RunnerRule');
    }
    if (rules && method === 'GET') {
      const org = dec(rules[1]);
      const known = new Set(['per_page', 'page', 'byRunnerId', 'byEnvTypeId', 'byProjectId']);
      for (const k of query.keys()) {
        if (!known.has(k)) return this.invalid(`GET ${path}: unknown query parameter ${k}`);
      }
      // byRunnerId is exact; byProjectId and byEnvTypeId select the rules effective there (unset matches).
      const all = [...this.rules.values()]
        .filter(
          (r) =>
            r.org_id === org &&
            (!query.get('byRunnerId') || r.runner_id === query.get('byRunnerId')) &&
            (!query.get('byEnvTypeId') || r.env_type_id === '' || r.env_type_id === query.get('byEnvTypeId')) &&
            (!query.get('byProjectId') || r.project_id === '' || r.project_id === query.get('byProjectId')),
        )
        .sort((a, b) => (a.runner_id === b.runner_id ? cmp(a.id, b.id) : cmp(a.runner_id, b.runner_id)));
      const size = Math.min(Number(query.get('per_page') ?? 50) || 50, this.options.maxPageSize ?? 50);
      const offset = query.get('page') ? Number(Buffer.from(query.get('page')!, 'base64').toString('utf8')) : 0;
      const items = all.slice(offset, offset + size);
      const page: Json = { items };
      if (offset + size < all.length) page.next_page_token = Buffer.from(String(offset + size)).toString('base64');
      return this.respond(200, page, 'RunnerRulePage');
    }
    if (rule) {
      const existing = this.rules.get(dec(rule[2]));
      const mine = existing && existing.org_id === dec(rule[1]) ? existing : undefined;
      if (method === 'GET') {
        return mine ? this.respond(200, mine, 'RunnerRule') : this.error(404, 'runner rule not found');
      }
      if (method === 'DELETE') {
        if (!mine) return this.error(404, 'runner rule not found');
        this.rules.delete(mine.id);
        return { status: 204 };
      }
    }
    return this.error(404, `no route ${method} ${path}`);
  }

  private invalid(violation: string): { ok: false; status: number; body: Json } {
    this.violations.push(violation);
    return { ok: false, status: 400, body: { error: 'HTTP-400', message: violation } };
  }

  private error(status: number, message: string): { status: number; body: Json } {
    return this.respond(status, { error: `HTTP-${status}`, message }, 'Error');
  }

  private respond(status: number, body: Json, schema: string): { status: number; body: Json } {
    const v = validateSchema(schema, body);
    if (!v.valid) this.responseViolations.push(`${schema}: ${v.errors.join('; ')}`);
    return { status, body };
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** A configuration as the Go server stores it: non-pointer job fields get their empty values. */
  private withJobDefaults(config: Json): Json {
    const cfg = clone(config);
    if (cfg?.type === 'serverless-ecs' && cfg.job) {
      cfg.job.security_groups = cfg.job.security_groups ?? [];
      cfg.job.is_public_ip_enabled = cfg.job.is_public_ip_enabled ?? false;
      cfg.job.environment = cfg.job.environment ?? {};
      cfg.job.secrets = cfg.job.secrets ?? {};
    }
    return cfg;
  }

  private toRunner(orgId: string, body: Json): Json {
    const cfg = this.withJobDefaults(body.runner_configuration);
    const now = this.now();
    const runner: Json = {
      org_id: orgId,
      id: body.id,
      created_at: now,
      updated_at: now,
      runner_configuration: cfg,
      state_storage_configuration: JSON.parse(JSON.stringify(body.state_storage_configuration)),
    };
    if (body.description !== undefined) runner.description = body.description;
    return runner;
  }

  private toRule(orgId: string, body: { runner_id: string; env_type_id?: string; project_id?: string }): Json {
    return {
      org_id: orgId,
      id: randomUUID(),
      runner_id: body.runner_id,
      created_at: this.now(),
      env_type_id: body.env_type_id ?? '',
      project_id: body.project_id ?? '',
    };
  }

  // ------------------------------------------------------------- AWS services

  private secretsManager(req: http.IncomingMessage, res: http.ServerResponse, target: string, raw: string): void {
    const record: RecordedRequest = {
      service: 'secretsmanager',
      method: req.method ?? 'POST',
      path: target,
      query: {},
      authorized: /^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization)),
    };
    this.requests.push(record);
    const send = (status: number, body: Json) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const fault = this.takeFault(record.method, target, 'secretsmanager');
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === 'hang') return; // never respond; close() destroys the socket
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      return send(fault.status ?? 500, { __type: 'InternalServiceError', message: 'scripted Secrets Manager error' });
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return send(400, { __type: 'UnknownOperationException', message: `${target} is not implemented by the fake` });
    }
    const { SecretId } = JSON.parse(raw) as { SecretId: string };
    const value = this.secrets.get(SecretId);
    if (value === undefined) {
      return send(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    return send(200, {
      ARN: SecretId,
      Name: SecretId.split(':').pop(),
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1735689600,
    });
  }

  private cloudFormation(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const params = new URLSearchParams(raw);
    const name = params.get('StackName') ?? '';
    const record: RecordedRequest = {
      service: 'cloudformation',
      method: req.method ?? 'POST',
      path: 'DescribeStacks',
      query: { StackName: name },
      authorized: /^AWS4-HMAC-SHA256 /.test(String(req.headers.authorization)),
    };
    this.requests.push(record);
    const outputs = this.stacks.get(name);
    if (outputs === undefined) {
      record.status = 400;
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>` +
          `<Code>ValidationError</Code><Message>Stack with id ${xml(name)} does not exist</Message></Error>` +
          `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    const members = outputs
      .map(
        (o) =>
          `<member><OutputKey>${xml(o.OutputKey)}</OutputKey><OutputValue>${xml(o.OutputValue)}</OutputValue>` +
          (o.Description !== undefined ? `<Description>${xml(o.Description)}</Description>` : '') +
          '</member>',
      )
      .join('');
    record.status = 200;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks>` +
        `<member><StackName>${xml(name)}</StackName>` +
        `<StackId>arn:aws:cloudformation:eu-central-1:123456789012:stack/${xml(name)}/${randomUUID()}</StackId>` +
        `<CreationTime>2025-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>` +
        `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  }
}

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RESERVED_ENV = ['ORG_ID', 'DEPLOYMENT_ID', 'MODE', 'TOKEN', 'ENCRYPTING_KEY', 'PLATFORM_ORCHESTRATOR_BASE_URL'];
const SENSITIVE_ENV = ['RUNNER_GIT_SSH_KEYS'];

/**
 * The server's strict check of a runner configuration (checkRunnerConfigurationStrict): the
 * discriminator picks the schema, unknown fields are refused at any depth, and the job's
 * environment must not set reserved or sensitive variables. Undefined when accepted, else the
 * server's 400 message.
 */
function checkRunnerConfiguration(config: Json, kind: 'create' | 'update'): string | undefined {
  const type = String(config?.type);
  const schemas: Record<string, string> =
    kind === 'create'
      ? { 'serverless-ecs': 'ServerlessEcsRunnerConfiguration' }
      : { 'serverless-ecs': 'ServerlessEcsRunnerConfigurationUpdateBody' };
  const schema = schemas[type];
  if (schema === undefined) return `runner type \`${type}\` not supported`;
  const prefix = `the supplied runner configuration does not match the specified runner type ${type}: `;
  const unknown = unknownField(config, { $ref: `#/components/schemas/${schema}` });
  if (unknown !== undefined) return `${prefix}json: unknown field "${unknown}"`;
  for (const name of Object.keys(config?.job?.environment ?? {})) {
    if (RESERVED_ENV.includes(name)) {
      return `${prefix}environment variable ${name} is reserved and cannot be set by the runner`;
    }
    if (SENSITIVE_ENV.includes(name)) {
      return `${prefix}environment variable ${name} is sensitive and must be set using a secret`;
    }
  }
  return undefined;
}

/** The first field of `value` that `schema` (a struct, as Go decodes it) does not declare. */
function unknownField(value: Json, schema: Json): string | undefined {
  let s = schema;
  while (s?.$ref) s = loadSpec().components.schemas[String(s.$ref).replace('#/components/schemas/', '')];
  if (value === null || typeof value !== 'object' || s === undefined) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const u = unknownField(item, s.items);
      if (u !== undefined) return u;
    }
    return undefined;
  }
  if (s.additionalProperties !== undefined || s.properties === undefined) return undefined; // a map
  for (const [k, v] of Object.entries(value)) {
    if (!(k in s.properties)) return k;
    const u = unknownField(v, s.properties[k]);
    if (u !== undefined) return u;
  }
  return undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A valid serverless-ECS RunnerCreateBody for tests; `overrides` replace top-level fields. */
export function sampleBody(id: string, overrides: Record<string, unknown> = {}): Json {
  return {
    id,
    description: `runner ${id}`,
    runner_configuration: {
      type: 'serverless-ecs',
      auth: { role_arn: `arn:aws:iam::123456789012:role/${id}-task-manager` },
      job: {
        region: 'eu-central-1',
        cluster: `${id}-cluster`,
        subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        is_public_ip_enabled: false,
        execution_role_arn: `arn:aws:iam::123456789012:role/${id}-execution`,
        task_role_arn: `arn:aws:iam::123456789012:role/${id}-task`,
      },
    },
    state_storage_configuration: { type: 's3', bucket: `${id}-state`, path_prefix: 'runners/' },
    ...overrides,
  };
}

/**
 * One fake for a whole test file, reset before each test, and after each test the checks every
 * suite against it makes: the client sent only requests the OpenAPI spec accepts, the fake
 * answered only responses it accepts, and every scripted fault was used. Call it at the top level
 * of the file; the returned function gives the running fake (from the first `beforeAll` on).
 */
export function useFakeOrchestrator(options: FakeOrchestratorOptions): () => FakeOrchestrator {
  let fake: FakeOrchestrator | undefined;
  const running = (): FakeOrchestrator => {
    if (!fake) throw new Error('the fake orchestrator starts in beforeAll');
    return fake;
  };
  beforeAll(async () => {
    fake = await FakeOrchestrator.start(options);
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => running().reset());
  afterEach(() => {
    expect(running().violations).toEqual([]);
    expect(running().responseViolations).toEqual([]);
    expect(running().pendingFaults()).toBe(0);
  });
  return running;
}
