import { inspect } from 'util';
import {
  DEFAULT_API_URL,
  OrchestratorApiError,
  OrchestratorClient,
  OrchestratorClientOptions,
  diffRunner,
  tuningFromEnv,
  updateBodyFromCreateBody,
} from '../../../src/registration/runtime/api-client';
import { backoff, parseRetryAfter } from '../../../src/registration/runtime/transport';
import { FakeOrchestrator, sampleBody, useFakeOrchestrator } from '../../support/fake-orchestrator';
import { validateSchema } from '../../support/openapi';

const TOKEN = `hum-test-${Math.random().toString(36).slice(2)}-token`;
const ORG = 'test-org';
const T0 = Date.parse('2030-06-01T12:00:00Z');

// THEN (every test, in useFakeOrchestrator): nothing the client sent broke the OpenAPI schema,
// the fake stayed faithful, and every scripted fault was used.
const runningFake = useFakeOrchestrator({ token: TOKEN, maxPageSize: 2 });
let fake: FakeOrchestrator;
beforeAll(() => {
  fake = runningFake();
});

/** A client with a fake clock that only moves when the client sleeps, and recorded delays. */
function client(overrides: Partial<OrchestratorClientOptions> = {}) {
  let now = T0;
  const sleeps: number[] = [];
  const logs: string[] = [];
  const c = new OrchestratorClient({
    orgId: ORG,
    token: TOKEN,
    apiUrl: fake.url,
    requestTimeoutMs: 300,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxAttempts: 5,
    deadlineMs: 60_000,
    random: () => 0.5,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    log: (l) => logs.push(l),
    ...overrides,
  });
  return { c, sleeps, logs, advance: (ms: number) => (now += ms) };
}

async function failure(p: Promise<unknown>): Promise<OrchestratorApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OrchestratorApiError);
    return e as OrchestratorApiError;
  }
  throw new Error('expected the call to fail');
}

describe('OrchestratorClient: happy path', () => {
  test('creates, reads, updates, lists and deletes runners and rules with a Bearer token', async () => {
    // GIVEN an empty orchestrator
    const { c, sleeps, logs } = client();
    const body = sampleBody('alpha');

    // WHEN the client goes through every operation
    const created = await c.createRunner(body);
    const read = await c.getRunner('alpha');
    const updated = await c.updateRunner('alpha', { ...updateBodyFromCreateBody(body), description: 'changed' });
    const rule = await c.createRunnerRule({ runner_id: 'alpha', env_type_id: 'development' });
    const listed = await c.listRunnerRules({ byRunnerId: 'alpha' });
    const gotRule = await c.getRunnerRule(rule.id);
    const ruleDeleted = await c.deleteRunnerRule(rule.id);
    const deleted = await c.deleteRunner('alpha');

    // THEN each call returns the API's view, with no retries
    expect(created.id).toBe('alpha');
    expect(diffRunner(body, read!)).toEqual([]);
    expect(updated.description).toBe('changed');
    expect(listed.map((r) => r.id)).toEqual([rule.id]);
    expect(gotRule?.env_type_id).toBe('development');
    expect([ruleDeleted, deleted]).toEqual([true, true]);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(sleeps).toEqual([]);
    // AND every request was authorized and logged once, without the token
    const calls = fake.apiCalls();
    expect(calls.every((r) => r.authorized)).toBe(true);
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /orgs/${ORG}/runners`,
      `GET /orgs/${ORG}/runners/alpha`,
      `PATCH /orgs/${ORG}/runners/alpha`,
      `POST /orgs/${ORG}/runner-rules`,
      `GET /orgs/${ORG}/runner-rules`,
      `GET /orgs/${ORG}/runner-rules/${rule.id}`,
      `DELETE /orgs/${ORG}/runner-rules/${rule.id}`,
      `DELETE /orgs/${ORG}/runners/alpha`,
    ]);
    expect(logs).toHaveLength(calls.length);
    expect(logs[0]).toMatch(new RegExp(`^orchestrator-api POST /orgs/${ORG}/runners -> 201 \\(attempt 1/5`));
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  test('getRunner and deletes treat 404 as "not there"', async () => {
    // GIVEN no runner and no rule
    const { c } = client();
    // WHEN they are read and deleted
    // THEN 404 is reported as undefined / false, without retries
    await expect(c.getRunner('nope')).resolves.toBeUndefined();
    await expect(c.deleteRunner('nope')).resolves.toBe(false);
    await expect(c.deleteRunnerRule('01234567-89ab-cdef-0123-456789abcdef')).resolves.toBe(false);
    await expect(c.getRunnerRule('01234567-89ab-cdef-0123-456789abcdef')).resolves.toBeUndefined();
    expect(fake.apiCalls()).toHaveLength(4);
  });

  test('lists every page of rules, filtered by runner', async () => {
    // GIVEN five rules of one runner and one of another, and a server that pages by 2
    fake.seedRunner(ORG, sampleBody('paged'));
    fake.seedRunner(ORG, sampleBody('other'));
    const envTypes = ['a1', 'b2', 'c3', 'd4', 'e5'];
    for (const e of envTypes) fake.seedRule(ORG, { runner_id: 'paged', env_type_id: e });
    fake.seedRule(ORG, { runner_id: 'other', env_type_id: 'a1' });
    const { c } = client();
    // WHEN the runner's rules are listed
    const rules = await c.listRunnerRules({ byRunnerId: 'paged' });
    // THEN all five come back, over three pages, each asked with the filter
    expect(rules.map((r) => r.env_type_id).sort()).toEqual(envTypes);
    const calls = fake.apiCalls();
    expect(calls).toHaveLength(3);
    expect(calls.every((r) => r.query.byRunnerId === 'paged')).toBe(true);
    expect(calls.map((r) => r.query.page)).toEqual([undefined, expect.any(String), expect.any(String)]);
  });

  test('normalises the base URL and defaults to the hosted orchestrator', () => {
    // GIVEN / WHEN clients with and without apiUrl
    // THEN the URL is kept without trailing slashes, with its path (self-hosted Stellwerk)
    expect(new OrchestratorClient({ orgId: ORG, token: TOKEN }).apiUrl).toBe(DEFAULT_API_URL);
    expect(new OrchestratorClient({ orgId: ORG, token: TOKEN, apiUrl: 'https://po.example.com/api//' }).apiUrl).toBe(
      'https://po.example.com/api',
    );
    // AND URLs with credentials, queries or other schemes are refused
    for (const apiUrl of [
      'https://user:pw@po.example.com',
      'ftp://po.example.com',
      'https://po.example.com/?x=1',
      'po.example.com',
    ]) {
      expect(() => new OrchestratorClient({ orgId: ORG, token: TOKEN, apiUrl })).toThrow(/API URL/);
    }
  });
});

describe('OrchestratorClient: retries', () => {
  test.each([500, 502, 503, 504])('retries HTTP %s with full-jitter exponential backoff', async (status) => {
    // GIVEN three failures before the runner can be read
    fake.seedRunner(ORG, sampleBody('flaky'));
    fake.inject({ method: 'GET', fault: { kind: 'status', status }, times: 3 });
    const { c, sleeps, logs } = client();
    // WHEN it is read
    const runner = await c.getRunner('flaky');
    // THEN it succeeds on the 4th attempt after delays of random * min(max, base * 2^(n-1))
    expect(runner?.id).toBe('flaky');
    expect(sleeps).toEqual([50, 100, 200]);
    expect(fake.apiCalls().map((r) => r.status)).toEqual([status, status, status, 200]);
    expect(logs[0]).toContain(`-> ${status} (attempt 1/5`);
    expect(logs[0]).toContain('retrying in 50 ms');
  });

  test('429 waits exactly the Retry-After seconds', async () => {
    // GIVEN a rate limit that asks for 7 seconds
    fake.inject({ method: 'POST', fault: { kind: 'retry-after', retryAfter: '7' } });
    const { c, sleeps } = client();
    // WHEN a runner is created
    await c.createRunner(sampleBody('limited'));
    // THEN the client waited 7 s once, and created exactly one runner
    expect(sleeps).toEqual([7000]);
    expect(fake.runnerIds(ORG)).toEqual(['limited']);
  });

  test('429 with an HTTP-date Retry-After waits until that time', async () => {
    // GIVEN a rate limit until 3 seconds after the client's "now"
    fake.inject({ fault: { kind: 'retry-after', retryAfter: new Date(T0 + 3000).toUTCString() } });
    const { c, sleeps } = client();
    // WHEN a list is requested
    await c.listRunnerRules();
    // THEN the client waited 3 s
    expect(sleeps).toEqual([3000]);
  });

  test('a Retry-After beyond the deadline fails at once with the 429', async () => {
    // GIVEN a rate limit of an hour and a deadline of a minute
    fake.inject({ fault: { kind: 'retry-after', retryAfter: '3600' } });
    const { c, sleeps } = client({ deadlineMs: 60_000 });
    // WHEN a runner is read
    const e = await failure(c.getRunner('x'));
    // THEN the 429 is reported without waiting
    expect(e.status).toBe(429);
    expect(e.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test('a hung connection is aborted after the request timeout and retried', async () => {
    // GIVEN a server that never answers the first request
    fake.seedRunner(ORG, sampleBody('slow'));
    fake.inject({ method: 'GET', fault: { kind: 'hang' } });
    const { c, sleeps, logs } = client({ requestTimeoutMs: 150 });
    // WHEN the runner is read
    const started = Date.now();
    const runner = await c.getRunner('slow');
    // THEN the first attempt timed out (in real time) and the second succeeded
    expect(runner?.id).toBe('slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sleeps).toHaveLength(1);
    expect(logs[0]).toContain('-> TIMEOUT (attempt 1/5');
  });

  test('a reset connection is retried', async () => {
    // GIVEN a server that drops the first connection
    fake.inject({ method: 'POST', fault: { kind: 'reset' } });
    const { c, logs } = client();
    // WHEN a runner is created
    await c.createRunner(sampleBody('reset'));
    // THEN it exists once
    expect(fake.runnerIds(ORG)).toEqual(['reset']);
    expect(logs[0]).toMatch(/-> (ECONNRESET|UND_ERR_SOCKET|[A-Z_]+) \(attempt 1\/5/);
  });

  test('a malformed JSON body on a read is retried', async () => {
    // GIVEN a server whose first answer is not JSON
    fake.seedRunner(ORG, sampleBody('garbled'));
    fake.inject({ method: 'GET', fault: { kind: 'malformed' } });
    const { c } = client();
    // WHEN the runner is read
    // THEN the second attempt's answer is returned
    await expect(c.getRunner('garbled')).resolves.toMatchObject({ id: 'garbled' });
    expect(fake.apiCalls()).toHaveLength(2);
  });

  test.each(['reset', 'malformed', 'hang'] as const)(
    'a create whose response was lost (%s after processing) is verified with GET, not duplicated',
    async (kind) => {
      // GIVEN a server that creates the runner and then loses the response
      fake.inject({ method: 'POST', fault: { kind, when: 'after' } });
      const { c } = client({ requestTimeoutMs: 150 });
      const body = sampleBody('lost-response');
      // WHEN the runner is created
      const runner = await c.createRunner(body);
      // THEN the retried POST met 409, the GET showed our runner, and the create succeeded once
      expect(runner.id).toBe('lost-response');
      expect(fake.apiCalls().map((r) => `${r.method} ${r.status ?? kind}`)).toEqual([
        `POST ${kind === 'malformed' ? 201 : kind}`,
        'POST 409',
        'GET 200',
      ]);
      expect(fake.runnerIds(ORG)).toEqual(['lost-response']);
    },
  );

  test('a retried create that meets a different runner fails with the 409', async () => {
    // GIVEN someone else's runner with the id, and a first attempt that fails with 503
    fake.seedRunner(ORG, sampleBody('taken', { description: 'not ours' }));
    fake.inject({ method: 'POST', fault: { kind: 'status', status: 503 } });
    const { c } = client();
    // WHEN the runner is created
    const e = await failure(c.createRunner(sampleBody('taken')));
    // THEN the 409 is reported with the API's error body, and the other runner is untouched
    expect(e.status).toBe(409);
    expect(e.operation).toBe('createRunner');
    expect(e.apiError).toEqual({
      error: 'HTTP-409',
      message: 'runner with id taken already exists',
      details: undefined,
    });
    expect(fake.runners.get(`${ORG}/taken`).description).toBe('not ours');
  });

  test('a 409 on the first create attempt is success when the runner exists exactly as sent', async () => {
    // GIVEN an identical runner exists already (a repeated create)
    fake.seedRunner(ORG, sampleBody('exists'));
    const { c } = client();
    // WHEN it is created again
    const r = await c.createRunnerOrFindIdentical(sampleBody('exists'));
    // THEN the 409 was checked with one GET, and the create reports the runner as existing
    expect(r.existed).toBe(true);
    expect(r.runner.id).toBe('exists');
    expect(fake.apiCalls().map((x) => `${x.method} ${x.status}`)).toEqual(['POST 409', 'GET 200']);
  });

  test('a 409 on the first create attempt for another configuration is thrown, after one GET', async () => {
    // GIVEN a runner with the id and another description
    fake.seedRunner(ORG, sampleBody('other', { description: 'made by hand' }));
    const { c } = client();
    // WHEN it is created
    const e = await failure(c.createRunner(sampleBody('other')));
    // THEN the 409 is thrown, and nothing may have been created by this call
    expect(e.status).toBe(409);
    expect(e.mayHaveSucceeded).toBe(false);
    expect(fake.apiCalls()).toHaveLength(2);
  });

  test('a create whose response was lost and whose check fails says it may have succeeded', async () => {
    // GIVEN a server that creates the runner but answers 503, then 409, then fails every GET
    fake.inject({ method: 'POST', fault: { kind: 'status', status: 503, when: 'after' } });
    fake.inject({ method: 'GET', fault: { kind: 'status', status: 503 }, times: 5 });
    const { c } = client();
    // WHEN the runner is created
    const e = await failure(c.createRunner(sampleBody('lost')));
    // THEN the error is the GET's, marked as "the create may have succeeded", and says why
    expect(e.operation).toBe('getRunner');
    expect(e.mayHaveSucceeded).toBe(true);
    expect(e.message).toContain('after createRunner answered 409 to a retry whose earlier attempt may have created it');
    expect(fake.runnerIds(ORG)).toEqual(['lost']);
  });

  test('a rule create whose response was lost is resolved from the list, not duplicated', async () => {
    // GIVEN a runner and a server that creates a rule and then resets the connection
    fake.seedRunner(ORG, sampleBody('ruled'));
    fake.inject({ method: 'POST', path: `/orgs/${ORG}/runner-rules`, fault: { kind: 'reset', when: 'after' } });
    const { c } = client();
    // WHEN the rule is created
    const rule = await c.createRunnerRule({ runner_id: 'ruled', project_id: 'shop' });
    // THEN exactly one rule exists and it is the one returned
    expect(fake.ruleKeys(ORG)).toEqual(['ruled::shop']);
    expect(fake.rules.has(rule.id)).toBe(true);
  });

  test('client errors (4xx) are not retried', async () => {
    // GIVEN a PATCH of a runner that does not exist
    const { c, sleeps } = client();
    // WHEN it is updated
    const e = await failure(c.updateRunner('ghost', { description: 'x' }));
    // THEN the 404 is reported after one attempt
    expect(e.status).toBe(404);
    expect(e.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test('a wrong token is a 401 without retries', async () => {
    // GIVEN a client with another token
    const { c } = client({ token: 'wrong-token' });
    // WHEN it reads
    const e = await failure(c.getRunner('x'));
    // THEN the 401 is reported once
    expect(e.status).toBe(401);
    expect(fake.apiCalls()).toHaveLength(1);
  });

  test('gives up after maxAttempts with the last status', async () => {
    // GIVEN a server that keeps failing
    fake.inject({ fault: { kind: 'status', status: 503 }, times: 3 });
    const { c, sleeps } = client({ maxAttempts: 3 });
    // WHEN a runner is read
    const e = await failure(c.getRunner('x'));
    // THEN three attempts were made, two delays slept
    expect(e.status).toBe(503);
    expect(e.attempts).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(e.message).toMatch(/getRunner \(GET \/orgs\/test-org\/runners\/x\) failed with HTTP 503.*after 3 attempts/);
  });

  test('gives up when the next retry would pass the overall deadline', async () => {
    // GIVEN a deadline of 1 s and backoff delays that would pass it (792 ms, then 1584 ms)
    fake.inject({ fault: { kind: 'status', status: 500 }, times: 2 });
    const { c, sleeps, logs } = client({
      deadlineMs: 1000,
      baseDelayMs: 800,
      maxDelayMs: 10_000,
      random: () => 0.99,
      maxAttempts: 10,
    });
    // WHEN a runner is read
    const e = await failure(c.getRunner('x'));
    // THEN it slept once, made a second attempt and stopped instead of sleeping past the deadline
    expect(e.status).toBe(500);
    expect(e.attempts).toBe(2);
    expect(fake.apiCalls()).toHaveLength(2);
    expect(sleeps).toEqual([792]);
    expect(logs[logs.length - 1]).toContain('next retry would pass the deadline');
  });

  test('a request after the deadline fails without being sent', async () => {
    // GIVEN a client whose deadline has passed
    const { c, advance } = client({ deadlineMs: 100 });
    advance(200);
    // WHEN it reads
    const e = await failure(c.getRunner('x'));
    // THEN nothing was sent
    expect(e.networkCode).toBe('DEADLINE');
    expect(fake.apiCalls()).toHaveLength(0);
  });

  test('network errors when nothing listens are retried and reported by code', async () => {
    // GIVEN an API URL where nothing listens (a closed server's port)
    const closed = await FakeOrchestrator.start({ token: TOKEN });
    const url = closed.url;
    await closed.close();
    const { c, sleeps } = client({ apiUrl: url, maxAttempts: 3 });
    // WHEN a runner is read
    const e = await failure(c.getRunner('x'));
    // THEN each attempt failed to connect
    expect(e.status).toBeUndefined();
    expect(e.networkCode).toBe('ECONNREFUSED');
    expect(sleeps).toHaveLength(2);
    // AND the message names the cause with the address refused
    expect(e.message).toContain(`failed: ECONNREFUSED ${new URL(url).host} (network error), after 3 attempts`);
    expect(e.mayHaveSucceeded).toBe(false);
  });
});

describe('OrchestratorClient: the token never leaks', () => {
  test('not from an error body that echoes the Authorization header, nor from inspecting the client', async () => {
    // GIVEN a careless API that echoes request headers in its error body
    fake.inject({ fault: { kind: 'echo-auth' }, times: 2 });
    const { c, logs } = client({ maxAttempts: 2 });
    // WHEN a call fails with it
    const e = await failure(c.getRunner('x'));
    // THEN the error, its body, its JSON and its inspection hold no token
    const views = [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }), JSON.stringify(e.apiError)];
    for (const v of views) expect(v).not.toContain(TOKEN);
    expect(e.apiMessage).toContain('Bearer ***');
    // AND neither do the logs or the client itself
    expect(logs.join('\n')).not.toContain(TOKEN);
    expect(inspect(c, { depth: 10, showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(TOKEN);
  });
});

describe('OrchestratorClient: the token never leaks through JSON escapes', () => {
  const ESCAPABLE = 'abc/def+ghi=';

  test.each([
    ['an escaped slash in the message', String.raw`{"error":"API-400","message":"token abc\/def+ghi= is not valid"}`],
    [
      'a \\u002b escape in the message and details',
      String.raw`{"error":"API-400","message":"token abc/def\u002bghi= is not valid","details":{"echo":"abc\/def\u002bghi="}}`,
    ],
    [
      'an escaped echo in a body that is not the error form',
      String.raw`{"problem":"token abc\/def\u002bghi= rejected"}`,
    ],
  ])('%s', async (_name, body) => {
    // GIVEN an API whose token JSON escapes can hide, and an error body that echoes it escaped
    const own = await FakeOrchestrator.start({ token: ESCAPABLE });
    try {
      own.inject({ method: 'GET', fault: { kind: 'body', status: 400, body } });
      const { c, logs } = client({ apiUrl: own.url, token: ESCAPABLE });
      // WHEN a call fails with it
      const e = await failure(c.getRunner('x'));
      // THEN the escapes were not a way around the redaction: no view of the error holds the token
      expect(e.status).toBe(400);
      const views = [
        e.message,
        e.stack ?? '',
        e.apiMessage,
        JSON.stringify(e),
        JSON.stringify(e.apiError) ?? '',
        e.responseText ?? '',
        inspect(e, { depth: 10 }),
        logs.join('\n'),
      ];
      for (const v of views) expect(v).not.toContain(ESCAPABLE);
      expect(e.apiMessage).toContain('***');
    } finally {
      await own.close();
    }
  });
});

describe('OrchestratorClient: path segments', () => {
  test('ids that are empty, "." or ".." are refused before anything is sent', async () => {
    // GIVEN clients of a normal org and of the orgs "..", "." (their URLs would resolve to other paths)
    const { c } = client();
    const dotdotOrg = client({ orgId: '..' }).c;
    const dotOrg = client({ orgId: '.' }).c;
    // WHEN calls are made with such ids
    const attempts: [string, string, () => Promise<unknown>][] = [
      ["deleteRunner('..')", '..', () => c.deleteRunner('..')],
      ["deleteRunnerRule('.')", '.', () => c.deleteRunnerRule('.')],
      ["getRunner('')", '', () => c.getRunner('')],
      ["updateRunner('..')", '..', () => c.updateRunner('..', { description: 'x' })],
      ["getRunnerRule('..')", '..', () => c.getRunnerRule('..')],
      ["org '..' createRunner", '..', () => dotdotOrg.createRunner(sampleBody('x'))],
      ["org '..' listRunnerRules", '..', () => dotdotOrg.listRunnerRules()],
      ["org '.' deleteRunner", '.', () => dotOrg.deleteRunner('x')],
    ];
    const outcomes: string[] = [];
    for (const [name, , call] of attempts) {
      const outcome = await call().then(
        () => 'resolved',
        (e: Error) => e.message,
      );
      outcomes.push(`${name}: ${outcome}`);
    }
    // THEN each rejects, naming the segment
    expect(outcomes).toEqual(
      attempts.map(
        ([name, segment]) =>
          `${name}: Orchestrator API: ${JSON.stringify(segment)} cannot be an organization, runner or rule id ` +
          '(empty, "." and ".." would change the path called); nothing was sent',
      ),
    );
    // AND no request reached the API
    expect(fake.apiCalls()).toEqual([]);
  });
});

describe('OrchestratorClient: long API messages', () => {
  test('a 409 with a 6000-character message gives a short error that keeps the useful start', async () => {
    // GIVEN an API whose conflict message is 6000 characters long
    const message = `runner long already exists; ${'x'.repeat(6000)}`;
    fake.inject({
      method: 'POST',
      fault: { kind: 'body', status: 409, body: JSON.stringify({ error: 'API-409', message }) },
    });
    const { c } = client();
    // WHEN a runner is created
    const e = await failure(c.createRunner(sampleBody('long')));
    // THEN the error is under 1000 characters, starts with what failed and the API's own words, and says it was cut
    expect(e.status).toBe(409);
    expect(e.message.length).toBeLessThan(1000);
    expect(
      e.message.startsWith(
        `Orchestrator API createRunner (POST /orgs/${ORG}/runners) failed with HTTP 409: API-409: runner long already exists; xxx`,
      ),
    ).toBe(true);
    expect(e.message).toContain('... (5528 more characters)');
    expect(e.apiMessage.length).toBeLessThan(600);
    expect(e.apiMessage.startsWith('runner long already exists; ')).toBe(true);
  });
});

describe('OrchestratorClient: responses are checked', () => {
  test.each([
    ['createRunnerRule, 201 {}', 'POST', 201, '{}'],
    ['createRunnerRule, 201 without runner_id', 'POST', 201, '{"id":"01234567-89ab-cdef-0123-456789abcdef"}'],
    ['createRunnerRule, 201 with a numeric id', 'POST', 201, '{"id":7,"runner_id":"ruled"}'],
    ['getRunnerRule, 200 {}', 'GET', 200, '{}'],
  ] as const)(
    'a rule response without a string id and runner_id is unreadable: %s',
    async (_name, method, status, body) => {
      // GIVEN a runner, and an API that answers the rule call with a body that is no rule
      fake.seedRunner(ORG, sampleBody('ruled'));
      fake.inject({ method, path: /runner-rules/, fault: { kind: 'body', status, body }, times: 2 });
      const { c } = client({ maxAttempts: 2 });
      // WHEN the rule is created or read
      const e = await failure(
        method === 'POST'
          ? c.createRunnerRule({ runner_id: 'ruled', env_type_id: 'development' })
          : c.getRunnerRule('01234567-89ab-cdef-0123-456789abcdef'),
      );
      // THEN the client reports an unreadable response instead of returning a rule without an id
      expect(e.status).toBe(status);
      expect(e.message).toContain(`failed with HTTP ${status} (unreadable response body)`);
      expect(
        fake
          .apiCalls()
          .map((r) => r.path)
          .join(' '),
      ).not.toContain('undefined');
    },
  );

  test.each([
    ['a null item', '{"items":[null]}'],
    ['an empty item', '{"items":[{}]}'],
    ['an item without runner_id', '{"items":[{"id":"01234567-89ab-cdef-0123-456789abcdef"}]}'],
    ['an item with a numeric id', '{"items":[{"id":7,"runner_id":"r"}]}'],
    ['a numeric page token', '{"items":[],"next_page_token":5}'],
  ])('a rule list with %s is unreadable', async (_name, body) => {
    // GIVEN an API whose rule list holds something that is no rule
    fake.inject({ method: 'GET', fault: { kind: 'body', status: 200, body }, times: 2 });
    const { c } = client({ maxAttempts: 2 });
    // WHEN the rules are listed
    const e = await failure(c.listRunnerRules({ byRunnerId: 'r' }));
    // THEN the client reports an unreadable response (not a TypeError, not a list with holes)
    expect(e.status).toBe(200);
    expect(e.operation).toBe('listRunnerRules');
    expect(e.message).toContain('failed with HTTP 200 (unreadable response body)');
  });
});

describe('pure helpers', () => {
  test('backoff is full jitter under an exponential cap', () => {
    // GIVEN base 100 ms and cap 1 s
    // WHEN / THEN the delay is random * min(cap, base * 2^(attempt-1))
    expect(backoff(1, 100, 1000, () => 0.999)).toBe(99);
    expect(backoff(4, 100, 1000, () => 0.5)).toBe(400);
    expect(backoff(10, 100, 1000, () => 0.5)).toBe(500);
    expect(backoff(3, 100, 1000, () => 0)).toBe(0);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    // GIVEN a fixed "now"
    // WHEN / THEN
    expect(parseRetryAfter('5', T0)).toBe(5000);
    expect(parseRetryAfter(new Date(T0 + 2000).toUTCString(), T0)).toBe(2000);
    expect(parseRetryAfter(new Date(T0 - 2000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
  });

  test('tuning comes from PO_API_* variables and rejects nonsense', () => {
    // GIVEN / WHEN / THEN
    expect(tuningFromEnv({ PO_API_TIMEOUT_MS: '100', PO_API_MAX_ATTEMPTS: '2' })).toEqual({
      requestTimeoutMs: 100,
      deadlineMs: undefined,
      maxAttempts: 2,
      baseDelayMs: undefined,
      maxDelayMs: undefined,
    });
    expect(() => tuningFromEnv({ PO_API_DEADLINE_MS: 'soon' })).toThrow(/PO_API_DEADLINE_MS/);
  });

  test('diffRunner ignores read-only fields, empty defaults and set order; reports field paths', () => {
    // GIVEN a body and the API's view of it, with empty defaults and subnets in another order
    const body = sampleBody('d');
    const actual = {
      ...JSON.parse(JSON.stringify(body)),
      org_id: ORG,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: '2025-01-01T00:00:00Z',
    };
    actual.runner_configuration.job.subnets.reverse();
    actual.runner_configuration.job.security_groups = [];
    actual.runner_configuration.job.environment = {};
    // WHEN / THEN they are equal
    expect(diffRunner(body, actual)).toEqual([]);
    // AND a changed cluster and an added variable are reported by path
    actual.runner_configuration.job.cluster = 'elsewhere';
    actual.runner_configuration.job.environment = { TF_LOG: 'DEBUG' };
    expect(diffRunner(body, actual)).toEqual([
      { path: 'runner_configuration.job.cluster', desired: 'd-cluster', actual: 'elsewhere' },
      { path: 'runner_configuration.job.environment.TF_LOG', desired: undefined, actual: 'DEBUG' },
    ]);
  });

  test('updateBodyFromCreateBody is a valid RunnerUpdateBody that clears a missing description', () => {
    // GIVEN a body without description
    const { description: _d, ...body } = sampleBody('u');
    // WHEN it becomes an update
    const update = updateBodyFromCreateBody(body as any);
    // THEN it is schema-valid and clears the description
    expect(validateSchema('RunnerUpdateBody', update).errors).toEqual([]);
    expect(update.description).toBe('');
  });
});

describe('the fake follows the real API server (platform-orchestrator-cp)', () => {
  test('a PATCH replaces the top-level keys of runner_configuration it names and keeps the others', async () => {
    // GIVEN a runner with a session name
    const { c } = client();
    const body = sampleBody('shallow');
    body.runner_configuration.auth.session_name = 'kept-session';
    await c.createRunner(body);
    // WHEN a PATCH names only `type` and `job`
    const job = { ...body.runner_configuration.job, cluster: 'other-cluster' };
    const r = await c.updateRunner('shallow', { runner_configuration: { type: 'serverless-ecs', job } });
    // THEN the job is the new one, the auth the stored one, and description and state storage are kept
    expect(r.runner_configuration).toMatchObject({
      job: { cluster: 'other-cluster' },
      auth: { session_name: 'kept-session' },
    });
    expect(r.description).toBe('runner shallow');
    expect(r.state_storage_configuration).toEqual(body.state_storage_configuration);
  });

  test('strict decoding and reserved variables are 400s with the server messages, on create and update', async () => {
    const { c } = client();
    const unknown = sampleBody('strict-fake');
    unknown.runner_configuration.auth.external_id = 'x';
    const e1 = await failure(c.createRunner(unknown));
    expect(e1.status).toBe(400);
    expect(e1.apiMessage).toBe(
      'the supplied runner configuration does not match the specified runner type serverless-ecs: json: unknown field "external_id"',
    );
    await c.createRunner(sampleBody('strict-fake'));
    const sensitive = sampleBody('strict-fake');
    sensitive.runner_configuration.job.environment = { RUNNER_GIT_SSH_KEYS: 'k' };
    const e2 = await failure(c.updateRunner('strict-fake', updateBodyFromCreateBody(sensitive)));
    expect(e2.apiMessage).toBe(
      'the supplied runner configuration does not match the specified runner type serverless-ecs: environment variable RUNNER_GIT_SSH_KEYS is sensitive and must be set using a secret',
    );
    // AND a map (job.environment) may hold any name that is not reserved
    const fine = sampleBody('strict-fake');
    fine.runner_configuration.job.environment = { ANYTHING: 'v' };
    await c.updateRunner('strict-fake', updateBodyFromCreateBody(fine));
  });

  test('rules: one per (project, environment type) in the org, whatever the runner; removed with their runner', async () => {
    // GIVEN two runners and a rule for one of them
    const { c } = client();
    await c.createRunner(sampleBody('one'));
    await c.createRunner(sampleBody('two'));
    const rule = await c.createRunnerRule({ runner_id: 'one', env_type_id: 'development' });
    // WHEN the other runner asks for the same pair
    const e = await failure(c.createRunnerRule({ runner_id: 'two', env_type_id: 'development' }));
    // THEN 409 naming the rule and its runner
    expect(e.status).toBe(409);
    expect(e.apiMessage).toBe(`runner rule conflicts with existing rule '${rule.id}' for runner 'one'`);
    // AND a rule for a runner that does not exist is a 409 too
    expect((await failure(c.createRunnerRule({ runner_id: 'three', project_id: 'p' }))).apiMessage).toBe(
      "runner 'three' not found",
    );
    // AND byEnvTypeId lists the rules effective there (a rule without env type applies everywhere)
    await c.createRunnerRule({ runner_id: 'two', project_id: 'shop' });
    expect((await c.listRunnerRules({ byEnvTypeId: 'development' })).map((r) => r.runner_id).sort()).toEqual([
      'one',
      'two',
    ]);
    // WHEN runner one is deleted
    await c.deleteRunner('one');
    // THEN its rule went with it
    expect(fake.ruleKeys(ORG)).toEqual(['two::shop']);
  });

  test('DELETE of a runner in use is a 409 listing at most 10 environments, and changes nothing', async () => {
    const { c } = client();
    await c.createRunner(sampleBody('used'));
    await c.createRunnerRule({ runner_id: 'used', project_id: 'shop' });
    fake.useRunner(
      ORG,
      'used',
      Array.from({ length: 12 }, (_, i) => `p/e${i}`),
    );
    const e = await failure(c.deleteRunner('used'));
    expect(e.status).toBe(409);
    expect(e.apiMessage).toBe(
      `runner used is in use by the environments: ${Array.from({ length: 10 }, (_, i) => `p/e${i}`).join(', ')}`,
    );
    expect(fake.runnerIds(ORG)).toEqual(['used']);
    expect(fake.ruleKeys(ORG)).toEqual(['used::shop']);
  });
});
