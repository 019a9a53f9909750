/**
 * Whole CloudFormation sequences, delivered as the Provider framework delivers them (see
 * provider-replay.ts), to the real handler against a fake that follows the real API server
 * (org-unique rules removed with their runner, in-use 409, strict decoding, shallow PATCH).
 * After every sequence: the server holds exactly the runners and rules it should (none lost,
 * duplicated or orphaned), no request broke the OpenAPI schema, every scripted fault was used,
 * and no log line or error holds the token.
 */
import { randomUUID } from 'crypto';
import { diffRunner } from '../../src/registration/runtime/api-client';
import { REPORT_RESERVE_MS, UNDO_DEADLINE_MS } from '../../src/registration/runtime/registration.lambda';
import { FakeOrchestrator, sampleBody, useFakeOrchestrator } from '../support/fake-orchestrator';
import { CREATE_FAILED_MARKER, Props, ReplayedResource } from './provider-replay';
import { registrationProps, useHandlerEnvironment } from '../support/handler-env';

const TOKEN = `hum-${randomUUID()}`;
const ORG = 'acme';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/token-AbCdEf';
const STALE_SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/stale-token-StUvWx';
const RUNNERS = `/orgs/${ORG}/runners`;
const RULES = `/orgs/${ORG}/runner-rules`;

const runningFake = useFakeOrchestrator({
  token: TOKEN,
  secrets: { [SECRET_ARN]: TOKEN, [STALE_SECRET_ARN]: `${TOKEN}-revoked` },
  maxPageSize: 2,
});
let fake: FakeOrchestrator;
beforeAll(() => {
  fake = runningFake();
});
const { logs } = useHandlerEnvironment(() => fake);
let resources: ReplayedResource[] = [];

beforeEach(() => {
  resources = [];
});

afterEach(() => {
  // THEN (every sequence): the token nowhere, in no log line and no error
  for (const line of [...logs, ...resources.flatMap((r) => r.errorTexts())]) expect(line).not.toContain(TOKEN);
});

// ------------------------------------------------------------------ helpers

type Rule = { env_type_id?: string; project_id?: string };

function props(runnerId: string, rules: Rule[] = [], over: Props = {}, bodyOver: Record<string, unknown> = {}): Props {
  return registrationProps(
    { orgId: ORG, apiUrl: fake.url, tokenSecretArn: SECRET_ARN },
    runnerId,
    rules,
    over,
    bodyOver,
  );
}

function resource(remainingMs?: number): ReplayedResource {
  const r = new ReplayedResource(remainingMs);
  resources.push(r);
  return r;
}

/** API calls since the last reset, with rule ids shown as {id}. */
const calls = () => fake.apiCalls().map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}$/, '{id}')}`);
/** API answers since the last reset, as `METHOD status`. */
const statuses = () => fake.apiCalls().map((r) => `${r.method} ${r.status}`);

/** THEN: the server holds exactly these runners and rules (`runner:envType:project`). */
function expectServer(runners: string[], rules: string[]): void {
  expect(fake.runnerIds(ORG)).toEqual([...runners].sort());
  expect(fake.ruleKeys(ORG)).toEqual([...rules].sort());
}

const DEV = { env_type_id: 'development' };
const SHOP = { project_id: 'shop' };

// -------------------------------------------------------------- happy paths

describe('happy path: Create, Update, Delete', () => {
  test('API calls: Create 1 + (1 list + 1 per rule), Update 1 (+1 list), Delete 1', async () => {
    const r = resource();
    // GIVEN / WHEN created without rules: one POST
    expect((await r.create(props('plain'))).result?.PhysicalResourceId).toBe(`${ORG}/plain`);
    expect(calls()).toEqual([`POST ${RUNNERS}`]);
    // WHEN updated: one PATCH
    fake.resetLog();
    await r.update(props('plain', [], {}, { description: 'second' }));
    expect(calls()).toEqual([`PATCH ${RUNNERS}/plain`]);
    // WHEN deleted: one DELETE
    fake.resetLog();
    await r.delete();
    expect(calls()).toEqual([`DELETE ${RUNNERS}/plain`]);
    expectServer([], []);

    // GIVEN / WHEN created with two rules: POST, one list, one POST per rule
    const ruled = resource();
    fake.resetLog();
    await ruled.create(props('ruled', [DEV, SHOP]));
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RULES}`, `POST ${RULES}`, `POST ${RULES}`]);
    expectServer(['ruled'], ['ruled:development:', 'ruled::shop']);
    // WHEN updated with a third rule: PATCH, list, one POST
    fake.resetLog();
    await ruled.update(props('ruled', [DEV, SHOP, { env_type_id: 'staging' }]));
    expect(calls()).toEqual([`PATCH ${RUNNERS}/ruled`, `GET ${RULES}`, `POST ${RULES}`]);
    expectServer(['ruled'], ['ruled:development:', 'ruled::shop', 'ruled:staging:']);
    // WHEN deleted: one DELETE; the server deletes the rules with the runner
    fake.resetLog();
    await ruled.delete();
    expect(calls()).toEqual([`DELETE ${RUNNERS}/ruled`]);
    expectServer([], []);
  });

  test("an Update replaces job and auth as a whole (the server's shallow merge) and matches the body", async () => {
    // GIVEN a runner with security groups and a session name
    const r = resource();
    const first = sampleBody('merged');
    first.runner_configuration.job.security_groups = ['sg-0123456789abcdef0'];
    first.runner_configuration.auth.session_name = 'first-session';
    await r.create(props('merged', [], { Body: JSON.stringify(first) }));
    // WHEN the stack drops both
    const second = sampleBody('merged');
    await r.update(props('merged', [], { Body: JSON.stringify(second) }));
    // THEN the orchestrator's runner is exactly the new body: nothing of the old job or auth is left
    const stored = fake.runners.get(`${ORG}/merged`);
    expect(stored.runner_configuration.auth.session_name).toBeUndefined();
    expect(stored.runner_configuration.job.security_groups).toEqual([]);
    expect(diffRunner(second, stored)).toEqual([]);
    await r.delete();
    expectServer([], []);
  });
});

// --------------------------------------------------------------- replacement

describe('a changed runner id with rules (replacement)', () => {
  test('the new runner takes the rules over, pair by pair, without a 409; the cleanup Delete removes the old runner', async () => {
    // GIVEN runner "old-id" routing two pairs
    const r = resource();
    await r.create(props('old-id', [DEV, SHOP]));
    fake.resetLog();
    // WHEN the runner id changes (CloudFormation: Update, then the cleanup Delete of the old id)
    await r.update(props('new-id', [DEV, SHOP]));
    // THEN the Update succeeded under the new physical id, and the old one was deleted afterwards
    expect(r.deliveries.map((d) => `${d.event.RequestType} ${d.event.PhysicalResourceId ?? ''}`)).toEqual([
      'Create ',
      `Update ${ORG}/old-id`,
      `Delete ${ORG}/old-id`,
    ]);
    expect(r.physicalId).toBe(`${ORG}/new-id`);
    // AND each pair moved by a DELETE immediately followed by its POST: unrouted for one call at most
    expect(calls()).toEqual([
      `POST ${RUNNERS}`,
      `GET ${RULES}`,
      `GET ${RULES}`,
      `DELETE ${RULES}/{id}`,
      `POST ${RULES}`,
      `DELETE ${RULES}/{id}`,
      `POST ${RULES}`,
      `DELETE ${RUNNERS}/old-id`,
    ]);
    expect(fake.apiCalls()[1].query.byRunnerId).toBe('new-id');
    expect(fake.apiCalls()[2].query.byRunnerId).toBe('old-id');
    // AND the server never answered 409
    expect(statuses().filter((s) => s.endsWith(' 409'))).toEqual([]);
    expectServer(['new-id'], ['new-id:development:', 'new-id::shop']);
  });

  test('the same replacement delivered twice changes nothing the second time', async () => {
    // GIVEN a replacement that has run once
    const r = resource();
    await r.create(props('twice-old', [DEV]));
    const update = {
      RequestType: 'Update' as const,
      PhysicalResourceId: `${ORG}/twice-old`,
      ResourceProperties: props('twice-new', [DEV]),
      OldResourceProperties: props('twice-old', [DEV]),
    };
    const requestId = randomUUID();
    const first = await r.deliver(update, requestId);
    // WHEN the same event is delivered again
    const second = await r.deliver(update, requestId);
    // THEN both succeed with the same result, and the server holds one of each
    expect(second.result).toEqual(first.result);
    expectServer(['twice-new', 'twice-old'], ['twice-new:development:']);
    // AND the cleanup Delete leaves only the new runner with its rule
    await r.deliver({
      RequestType: 'Delete',
      PhysicalResourceId: `${ORG}/twice-old`,
      ResourceProperties: update.OldResourceProperties,
    });
    expectServer(['twice-new'], ['twice-new:development:']);
  });

  test('a replacement rolled back by a later failure gives the rules back to the old runner', async () => {
    // GIVEN runner "keep-id" with a rule
    const r = resource();
    await r.create(props('keep-id', [DEV]));
    // WHEN the id changes, the Update succeeds, and a later resource of the stack fails:
    // CloudFormation updates back to the old properties, then deletes the new physical id
    await r.update(props('try-id', [DEV]), true);
    // THEN the old runner is back in CloudFormation and in the orchestrator, with its rule
    expect(r.deliveries.map((d) => `${d.event.RequestType} ${d.event.PhysicalResourceId}`).slice(1)).toEqual([
      `Update ${ORG}/keep-id`,
      `Update ${ORG}/try-id`,
      `Delete ${ORG}/try-id`,
    ]);
    expect(r.deliveries.every((d) => d.error === undefined)).toBe(true);
    expect(r.physicalId).toBe(`${ORG}/keep-id`);
    expectServer(['keep-id'], ['keep-id:development:']);
  });

  test('a replacement that fails while taking the rules over puts everything back; the rollback Update succeeds', async () => {
    // GIVEN runner "stay-id" with two rules, and an API that refuses the second rule's POST for the new runner
    const r = resource();
    await r.create(props('stay-id', [DEV, SHOP]));
    fake.inject({ method: 'POST', path: RULES, skip: 1, fault: { kind: 'status', status: 400 } });
    // WHEN the id changes
    const d = await r.update(props('fail-id', [DEV, SHOP]));
    // THEN the Update failed with the API's error
    expect(d.error?.message).toMatch(/createRunnerRule .* failed with HTTP 400/);
    // AND the handler moved the first rule back and deleted the runner it created, and the
    // rollback Update (old properties, old physical id) succeeded
    expect(r.deliveries.at(-1)?.event).toMatchObject({ RequestType: 'Update', PhysicalResourceId: `${ORG}/stay-id` });
    expect(r.deliveries.at(-1)?.error).toBeUndefined();
    expect(r.physicalId).toBe(`${ORG}/stay-id`);
    expectServer(['stay-id'], ['stay-id:development:', 'stay-id::shop']);
  });

  test('a declared pair routed to a runner outside the stack fails clearly, and the new runner is undone', async () => {
    // GIVEN runner "mine" without rules, and another runner that routes the "development" pair
    fake.seedRunner(ORG, sampleBody('theirs'));
    const theirs = fake.seedRule(ORG, { runner_id: 'theirs', env_type_id: 'development' });
    const r = resource();
    await r.create(props('mine'));
    // WHEN the id changes and the new runner declares that pair
    const d = await r.update(props('mine-2', [DEV]));
    // THEN the error names the pair, the other rule and its runner
    expect(d.error?.message).toContain(
      `The runner rule for environment type "development" in every project cannot be created for runner "mine-2": ` +
        `runner rule conflicts with existing rule '${theirs.id}' for runner 'theirs'`,
    );
    // AND nothing of the failed replacement is left; the other runner keeps its rule
    expectServer(['mine', 'theirs'], ['theirs:development:']);
  });
});

// -------------------------------------------------------------------- delete

describe('Delete', () => {
  test('a refused Delete changes nothing and names the environments; the retry after they move succeeds', async () => {
    // GIVEN a runner with two rules, used by two environments
    const r = resource();
    await r.create(props('busy', [DEV, SHOP]));
    fake.useRunner(ORG, 'busy', ['shop/dev', 'shop/prod']);
    fake.resetLog();
    // WHEN the stack is deleted
    const refused = await r.delete();
    // THEN it fails with the server's list of environments and says nothing changed
    expect(refused.error?.message).toContain(
      'Cannot deregister runner "busy" from organization "acme": the orchestrator refuses (HTTP 409: runner busy is in use by the environments: shop/dev, shop/prod). Nothing was changed',
    );
    // AND only the DELETE was sent: the runner and both rules are still there
    expect(calls()).toEqual([`DELETE ${RUNNERS}/busy`]);
    expectServer(['busy'], ['busy:development:', 'busy::shop']);
    // WHEN the environments move away and the deletion is retried
    fake.useRunner(ORG, 'busy', []);
    expect((await r.delete()).error).toBeUndefined();
    // THEN runner and rules are gone
    expectServer([], []);
  });

  test('the same Delete twice: the second finds nothing and succeeds', async () => {
    const r = resource();
    await r.create(props('gone-twice', [DEV]));
    const requestId = randomUUID();
    const event = {
      RequestType: 'Delete' as const,
      PhysicalResourceId: `${ORG}/gone-twice`,
      ResourceProperties: r.props!,
    };
    // WHEN / THEN
    expect((await r.deliver(event, requestId)).error).toBeUndefined();
    expect((await r.deliver(event, requestId)).error).toBeUndefined();
    expectServer([], []);
  });
});

// ------------------------------------------------------- the same event twice

describe('the same event twice (Lambda or CloudFormation redelivers)', () => {
  test('a Create delivered twice is one runner and one set of rules, and the stack deletes it', async () => {
    // GIVEN a Create that ran once
    const r = resource();
    const p = props('again', [DEV, SHOP]);
    const requestId = randomUUID();
    const first = await r.deliver({ RequestType: 'Create', ResourceProperties: p }, requestId);
    fake.resetLog();
    // WHEN it is delivered again
    const second = await r.deliver({ RequestType: 'Create', ResourceProperties: p }, requestId);
    // THEN it succeeds with the same result, without adoptExisting and without changing anything
    expect(second.error).toBeUndefined();
    expect(second.result).toEqual(first.result);
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RUNNERS}/again`, `GET ${RULES}`]);
    expectServer(['again'], ['again:development:', 'again::shop']);
    // AND the stack owns it: its Delete removes everything
    r.physicalId = first.result!.PhysicalResourceId;
    r.props = p;
    await r.delete();
    expectServer([], []);
  });

  test('an Update delivered twice', async () => {
    const r = resource();
    await r.create(props('upd-twice', [DEV]));
    const event = {
      RequestType: 'Update' as const,
      PhysicalResourceId: `${ORG}/upd-twice`,
      ResourceProperties: props('upd-twice', [SHOP], {}, { description: 'new' }),
      OldResourceProperties: props('upd-twice', [DEV]),
    };
    const requestId = randomUUID();
    expect((await r.deliver(event, requestId)).error).toBeUndefined();
    expect((await r.deliver(event, requestId)).error).toBeUndefined();
    expectServer(['upd-twice'], ['upd-twice::shop']);
    expect(fake.runners.get(`${ORG}/upd-twice`).description).toBe('new');
  });
});

// -------------------------------------------------- failed Create and rollback

describe('a failed Create and the rollback Delete that follows', () => {
  test('a rule the server refuses: the handler undoes the runner; the rollback Delete never reaches it', async () => {
    // GIVEN a pair another runner routes
    fake.seedRunner(ORG, sampleBody('owner'));
    fake.seedRule(ORG, { runner_id: 'owner', project_id: 'shop' });
    const r = resource();
    // WHEN a runner declaring that pair is created
    const d = await r.create(props('late', [DEV, SHOP]));
    // THEN the Create failed, the framework answered the rollback Delete itself
    expect(d.error?.message).toContain('cannot be created for runner "late"');
    expect(r.deliveries.at(-1)).toMatchObject({ skipped: true, event: { PhysicalResourceId: CREATE_FAILED_MARKER } });
    // AND the handler deleted its runner and the rule it had made: no orphan
    expectServer(['owner'], ['owner::shop']);
  });

  test("a reserved environment variable: the server's 400, and nothing registered", async () => {
    const r = resource();
    const body = sampleBody('reserved');
    body.runner_configuration.job.environment = { TOKEN: 'x' };
    const d = await r.create(props('reserved', [], { Body: JSON.stringify(body) }));
    expect(d.error?.message).toContain(
      'HTTP 400: HTTP-400: the supplied runner configuration does not match the specified runner type serverless-ecs: environment variable TOKEN is reserved and cannot be set by the runner',
    );
    expectServer([], []);
  });

  test("an unknown field in runner_configuration: the strict decoder's 400, and nothing registered", async () => {
    const r = resource();
    const body = sampleBody('strict');
    body.runner_configuration.job.log_group = 'x';
    const d = await r.create(props('strict', [], { Body: JSON.stringify(body) }));
    expect(d.error?.message).toContain(
      'the supplied runner configuration does not match the specified runner type serverless-ecs: json: unknown field "log_group"',
    );
    expectServer([], []);
  });

  test('a POST that committed but whose answers were lost: the handler finds the runner and deletes it', async () => {
    // GIVEN a server that creates the runner and answers 503, then 409, and fails the event client's GETs
    fake.inject({ method: 'POST', path: RUNNERS, fault: { kind: 'status', status: 503, when: 'after' } });
    fake.inject({ method: 'GET', path: `${RUNNERS}/lost`, fault: { kind: 'status', status: 503 }, times: 3 });
    const r = resource();
    // WHEN created
    const d = await r.create(props('lost', [DEV]));
    // THEN the Create failed, saying the runner had been registered and was deleted again
    expect(d.error?.message).toMatch(/getRunner .* failed with HTTP 503/);
    expect(d.error?.message).toContain(
      'The create had registered runner "lost" in organization "acme" nonetheless; it was deleted again.',
    );
    // AND nothing is left
    expectServer([], []);
  });

  test('a POST that committed, and checking fails too: the error says so, and the next deploy takes the runner over', async () => {
    // GIVEN a server that creates the runner and then answers nothing readable about it
    fake.inject({ method: 'POST', path: RUNNERS, fault: { kind: 'status', status: 503, when: 'after' } });
    fake.inject({ method: 'GET', path: `${RUNNERS}/limbo`, fault: { kind: 'status', status: 503 }, times: 6 });
    const r = resource();
    // WHEN created
    const d = await r.create(props('limbo'));
    // THEN the error says the runner may be registered, how the next deploy treats it, and how to remove it
    expect(d.error?.message).toContain('The create may have registered runner "limbo" in organization "acme"');
    expect(d.error?.message).toContain(
      'A deploy with the same configuration takes an identical runner over without adoptExisting',
    );
    expect(d.error?.message).toContain('po-ecs-runner deregister --org acme --runner-id limbo');
    expectServer(['limbo'], []);
    // WHEN the stack is deployed again (a new Create, without adoptExisting)
    const again = resource();
    expect((await again.create(props('limbo'))).error).toBeUndefined();
    // THEN the stack owns the one runner, and its Delete removes it
    await again.delete();
    expectServer([], []);
  });
});

// ------------------------------------------------------------ bounded calls

describe('every outbound call is bounded', () => {
  test('a Secrets Manager read that hangs fails within the secret timeout, naming the secret; nothing is sent', async () => {
    // GIVEN Secrets Manager never answers
    fake.inject({
      service: 'secretsmanager',
      method: 'POST',
      path: 'secretsmanager.GetSecretValue',
      fault: { kind: 'hang' },
    });
    process.env.PO_SECRET_TIMEOUT_MS = '1500';
    try {
      const r = resource();
      const started = Date.now();
      // WHEN created
      const d = await r.create(props('no-secret'));
      // THEN it fails after about the timeout with a message that names the secret
      expect(Date.now() - started).toBeLessThan(5000);
      expect(d.error?.message).toContain(
        `Reading the API token from Secrets Manager secret ${SECRET_ARN} took longer than 1500 ms`,
      );
      expect(fake.apiCalls()).toEqual([]);
    } finally {
      delete process.env.PO_SECRET_TIMEOUT_MS;
    }
  });

  test('a hanging API fails before the function would time out, leaving the undo and the report their time', async () => {
    // GIVEN a function with 3 s more than the undo and report reserves, and an API whose POSTs hang
    // (a request timeout longer than that: only the deadline stops the call)
    fake.inject({ method: 'POST', path: RUNNERS, fault: { kind: 'hang' } });
    const remaining = UNDO_DEADLINE_MS + REPORT_RESERVE_MS + 3_000;
    const r = resource(remaining);
    const started = Date.now();
    // WHEN created (with a client deadline of 10 s, more than the function allows)
    process.env.PO_API_TIMEOUT_MS = '20000';
    const d = await r.create(props('slow')).finally(() => {
      process.env.PO_API_TIMEOUT_MS = '1000';
    });
    // THEN the handler threw its own error in time: the event's calls stopped within the 3 s left
    const took = Date.now() - started;
    expect(d.error?.message).toMatch(/createRunner .* failed: (TIMEOUT|DEADLINE)/);
    expect(took).toBeLessThan(remaining - REPORT_RESERVE_MS);
    expect(took).toBeLessThan(8_000);
    // AND the lost create was checked: the hung POSTs never committed, so nothing is registered
    expect(d.error?.message).toContain('The create did not register runner "slow"');
    expectServer([], []);
  });

  test('a secret that cannot be read is named, with the service error; nothing is sent', async () => {
    const missing = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/missing-ZzZzZz';
    const d = await resource().create(props('no-such-secret', [], { TokenSecretArn: missing }));
    expect(d.error?.message).toBe(
      `Cannot read the API token from Secrets Manager secret ${missing}: ResourceNotFoundException: ` +
        "Secrets Manager can't find the specified secret.",
    );
    expect(fake.apiCalls()).toEqual([]);
  });

  test('a 401 names the secret that holds the token and what the token needs', async () => {
    // GIVEN a secret with a revoked token
    const r = resource();
    const d = await r.create(props('unauthorized', [], { TokenSecretArn: STALE_SECRET_ARN }));
    // THEN
    expect(d.error?.message).toContain('failed with HTTP 401');
    expect(d.error?.message).toContain(`The token is read from Secrets Manager secret ${STALE_SECRET_ARN}`);
    expect(d.error?.message).toContain(
      'with permission to create, read, update and delete runners and runner rules there',
    );
    expect(d.error?.message).not.toContain(`${TOKEN}-revoked`);
    expectServer([], []);
  });
});
