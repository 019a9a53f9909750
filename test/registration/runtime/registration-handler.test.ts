/**
 * The registration handler (the real module, and once the bundle) against the fake
 * orchestrator, with the real Secrets Manager SDK client pointed at the fake.
 * After every sequence the fake must hold exactly the runners and rules it should, no request
 * may have broken the OpenAPI schema, and no log line or error may contain the token.
 */
import { randomUUID } from 'crypto';
import {
  RegistrationEvent,
  onEvent,
  tokenFromSecretString,
} from '../../../src/registration/runtime/registration.lambda';
import { HANDLER_BUNDLE, ensureBundled } from '../../support/bundles';
import { FakeOrchestrator, FaultRule, sampleBody, useFakeOrchestrator } from '../../support/fake-orchestrator';
import { registrationProps, useHandlerEnvironment } from '../../support/handler-env';

const TOKEN = `hum-${randomUUID()}`;
const ORG = 'acme';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/token-AbCdEf';
const JSON_SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/token-json-GhIjKl';
const BAD_SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/not-a-token-MnOpQr';

// THEN (every sequence, in useFakeOrchestrator): valid requests only, every scripted fault used.
const runningFake = useFakeOrchestrator({
  token: TOKEN,
  secrets: {
    [SECRET_ARN]: `${TOKEN}\n`,
    [JSON_SECRET_ARN]: JSON.stringify({ token: TOKEN, note: 'json form' }),
    [BAD_SECRET_ARN]: JSON.stringify({ apiKey: TOKEN }),
  },
  maxPageSize: 2,
});
let fake: FakeOrchestrator;
beforeAll(() => {
  fake = runningFake();
});
const { logs } = useHandlerEnvironment(() => fake, { PO_API_MAX_ATTEMPTS: '4' });
const errors: string[] = [];

beforeEach(() => {
  errors.length = 0;
});

afterEach(() => {
  // THEN (every sequence): the token nowhere.
  for (const line of [...logs, ...errors]) expect(line).not.toContain(TOKEN);
});

// ------------------------------------------------------------------ helpers

type Props = Record<string, string>;

function props(runnerId: string, over: Props = {}, bodyOver: Record<string, unknown> = {}): Props {
  return registrationProps({ orgId: ORG, apiUrl: fake.url, tokenSecretArn: SECRET_ARN }, runnerId, [], over, bodyOver);
}

const rules = (...r: { env_type_id?: string; project_id?: string }[]) => JSON.stringify(r);

function create(p: Props) {
  return run({ RequestType: 'Create', ResourceProperties: p });
}
function update(physicalId: string, p: Props, old: Props) {
  return run({
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: p,
    OldResourceProperties: old,
  });
}
function remove(physicalId: string, p: Props) {
  return run({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: p });
}

async function run(event: Omit<RegistrationEvent, 'RequestId' | 'StackId' | 'LogicalResourceId'>) {
  try {
    return await onEvent({
      ...event,
      RequestId: randomUUID(),
      StackId: 'arn:aws:cloudformation:eu-central-1:123456789012:stack/test/1',
      LogicalResourceId: 'Registration',
    });
  } catch (e) {
    errors.push(String((e as Error).message), String((e as Error).stack), JSON.stringify(e));
    throw e;
  }
}

/** Scripts a fault on the fake orchestrator. */
function withFault(rule: FaultRule): void {
  fake.inject(rule);
}

const RUNNERS = `/orgs/${ORG}/runners`;
const RULES = `/orgs/${ORG}/runner-rules`;
const calls = () => fake.apiCalls().map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}$/, '{id}')}`);

// -------------------------------------------------------------- happy paths

describe('happy path', () => {
  test('create, update and delete make one API call each (no rules)', async () => {
    // GIVEN an empty orchestrator
    const p = props('happy');

    // WHEN the resource is created
    const created = await create(p);
    // THEN one POST registered it, under the physical id <org>/<runner>
    expect(created).toEqual({
      PhysicalResourceId: `${ORG}/happy`,
      Data: { OrgId: ORG, RunnerId: 'happy', RuleIds: '' },
    });
    expect(calls()).toEqual([`POST ${RUNNERS}`]);
    expect(fake.runnerIds(ORG)).toEqual(['happy']);

    // WHEN its description changes
    fake.resetLog();
    const p2 = props('happy', {}, { description: 'second' });
    await update(created.PhysicalResourceId, p2, p);
    // THEN one PATCH updated it
    expect(calls()).toEqual([`PATCH ${RUNNERS}/happy`]);
    expect(fake.runners.get(`${ORG}/happy`).description).toBe('second');

    // WHEN it is deleted
    fake.resetLog();
    await remove(created.PhysicalResourceId, p2);
    // THEN one DELETE removed it
    expect(calls()).toEqual([`DELETE ${RUNNERS}/happy`]);
    expect(fake.runnerIds(ORG)).toEqual([]);
    // AND the token was read from Secrets Manager by the SDK, signed
    const reads = fake.requests.filter((r) => r.service === 'secretsmanager');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.authorized && r.status === 200)).toBe(true);
    // AND each API call was logged once with method, path, status and attempt
    expect(logs.filter((l) => l.startsWith('orchestrator-api '))).toEqual([
      expect.stringMatching(/^orchestrator-api POST \/orgs\/acme\/runners -> 201 \(attempt 1\/4, \d+ ms\)$/),
      expect.stringMatching(/^orchestrator-api PATCH \/orgs\/acme\/runners\/happy -> 200 \(attempt 1\/4, \d+ ms\)$/),
      expect.stringMatching(/^orchestrator-api DELETE \/orgs\/acme\/runners\/happy -> 204 \(attempt 1\/4, \d+ ms\)$/),
    ]);
  });

  test('with one rule: create makes 3 calls, an unchanged update 2, delete 1', async () => {
    // GIVEN a registration with one rule
    const p = props('ruled', { Rules: rules({ env_type_id: 'development' }) });
    // WHEN created
    const { PhysicalResourceId: id, Data } = await create(p);
    // THEN the runner, then its rule
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RULES}`, `POST ${RULES}`]);
    expect(fake.ruleKeys(ORG)).toEqual(['ruled:development:']);
    expect(Data.RuleIds).toMatch(/^[0-9a-f-]{36}$/);
    // WHEN updated without change
    fake.resetLog();
    await update(id, p, p);
    expect(calls()).toEqual([`PATCH ${RUNNERS}/ruled`, `GET ${RULES}`]);
    // WHEN deleted: the runner only; the server deletes its rules with it
    fake.resetLog();
    await remove(id, p);
    expect(calls()).toEqual([`DELETE ${RUNNERS}/ruled`]);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });

  test('reads a token stored as JSON {"token": ...}', async () => {
    // GIVEN the JSON form of the secret
    // WHEN the resource is created
    await create(props('json-secret', { TokenSecretArn: JSON_SECRET_ARN }));
    // THEN the API accepted the token
    expect(fake.apiCalls().every((r) => r.authorized)).toBe(true);
    expect(fake.runnerIds(ORG)).toEqual(['json-secret']);
  });

  test('a secret without a token fails without showing the secret', async () => {
    // GIVEN a secret holding JSON without "token"
    // WHEN the resource is created
    // THEN it fails naming the secret, and nothing was called
    await expect(create(props('bad-secret', { TokenSecretArn: BAD_SECRET_ARN }))).rejects.toThrow(
      `Secret ${BAD_SECRET_ARN} holds neither an API token nor JSON with a non-empty string "token" field`,
    );
    expect(fake.apiCalls()).toEqual([]);
  });

  test('tokenFromSecretString accepts the raw token or JSON {"token"}', () => {
    // GIVEN / WHEN / THEN
    expect(tokenFromSecretString(` ${TOKEN}\n`)).toBe(TOKEN);
    expect(tokenFromSecretString(JSON.stringify({ token: TOKEN }))).toBe(TOKEN);
    expect(tokenFromSecretString(JSON.stringify({ token: '' }))).toBeUndefined();
    expect(tokenFromSecretString('{not json')).toBeUndefined();
    expect(tokenFromSecretString('two words')).toBeUndefined();
    expect(tokenFromSecretString('')).toBeUndefined();
  });
});

// ------------------------------------------------------------- fault matrix

describe('fault matrix', () => {
  test.each([500, 502, 503])('HTTP %s on create is retried; one runner', async (status) => {
    // GIVEN a server error on the first POST
    withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'status', status } });
    // WHEN the resource is created
    await create(props('five-hundred'));
    // THEN the retry registered it once
    expect(calls()).toEqual([`POST ${RUNNERS}`, `POST ${RUNNERS}`]);
    expect(fake.runnerIds(ORG)).toEqual(['five-hundred']);
  });

  test.each([500, 502, 503])(
    'HTTP %s after the server created the runner: no duplicate, no failure',
    async (status) => {
      // GIVEN a server that creates the runner and then answers with an error
      withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'status', status, when: 'after' } });
      // WHEN the resource is created
      await create(props('half-done'));
      // THEN the retry met 409, verified the runner with GET, and succeeded
      expect(calls()).toEqual([`POST ${RUNNERS}`, `POST ${RUNNERS}`, `GET ${RUNNERS}/half-done`]);
      expect(fake.runnerIds(ORG)).toEqual(['half-done']);
    },
  );

  test('HTTP 503 on update is retried', async () => {
    // GIVEN a registered runner and a 503 on the next PATCH
    const p = props('upd');
    await create(p);
    withFault({ method: 'PATCH', fault: { kind: 'status', status: 503 } });
    // WHEN it is updated
    await update(`${ORG}/upd`, props('upd', {}, { description: 'new' }), p);
    // THEN the update arrived
    expect(fake.runners.get(`${ORG}/upd`).description).toBe('new');
    expect(fake.runnerIds(ORG)).toEqual(['upd']);
  });

  test('429 with Retry-After is honoured', async () => {
    // GIVEN a rate limit of 1 second on the first POST
    withFault({ method: 'POST', fault: { kind: 'retry-after', retryAfter: '1' } });
    // WHEN the resource is created
    const started = Date.now();
    await create(props('limited'));
    // THEN the handler waited about a second, and registered once
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.runnerIds(ORG)).toEqual(['limited']);
  });

  test.each(['before', 'after'] as const)(
    'a hung connection (%s processing) times out and is retried',
    async (when) => {
      // GIVEN a server that never answers the first POST
      withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'hang', when } });
      // WHEN the resource is created
      await create(props(`hung-${when}`));
      // THEN exactly one runner exists
      expect(fake.runnerIds(ORG)).toEqual([`hung-${when}`]);
    },
  );

  test.each(['before', 'after'] as const)('a reset connection (%s processing) is retried', async (when) => {
    // GIVEN a server that drops the first POST's connection
    withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'reset', when } });
    // WHEN the resource is created
    await create(props(`reset-${when}`));
    // THEN exactly one runner exists
    expect(fake.runnerIds(ORG)).toEqual([`reset-${when}`]);
  });

  test('a malformed JSON body on create (after processing) is verified, not duplicated', async () => {
    // GIVEN a 201 whose body is not JSON
    withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'malformed', when: 'after' } });
    // WHEN the resource is created
    await create(props('garbled'));
    // THEN one runner
    expect(fake.runnerIds(ORG)).toEqual(['garbled']);
  });

  test('a malformed JSON body on the rule list is retried', async () => {
    // GIVEN a garbled first page of rules
    withFault({ method: 'GET', path: RULES, fault: { kind: 'malformed' } });
    // WHEN a registration with a rule is created
    await create(props('garbled-list', { Rules: rules({ project_id: 'shop' }) }));
    // THEN the runner and its one rule exist
    expect(fake.ruleKeys(ORG)).toEqual(['garbled-list::shop']);
  });

  test('a rule create that lost its response is not duplicated', async () => {
    // GIVEN a server that creates the rule, then resets the connection
    withFault({ method: 'POST', path: RULES, fault: { kind: 'reset', when: 'after' } });
    // WHEN a registration with two rules is created
    await create(props('rule-reset', { Rules: rules({ env_type_id: 'development' }, { env_type_id: 'staging' }) }));
    // THEN each rule exists once
    expect(fake.ruleKeys(ORG)).toEqual(['rule-reset:development:', 'rule-reset:staging:']);
  });

  test('409 on create without adoptExisting fails, naming the runner, the org and adoptExisting', async () => {
    // GIVEN a runner with the id, made elsewhere
    fake.seedRunner(ORG, sampleBody('taken', { description: 'made by hand' }));
    // WHEN the resource is created
    // THEN it fails with a message that says what to do, and the runner is untouched
    const err = await create(props('taken')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/Runner "taken" already exists in organization "acme"/);
    expect((err as Error).message).toContain('adoptExisting');
    expect(fake.runners.get(`${ORG}/taken`).description).toBe('made by hand');
    expect(fake.runnerIds(ORG)).toEqual(['taken']);
  });

  test('409 on create with adoptExisting updates the runner to the desired state', async () => {
    // GIVEN a runner with the id and another configuration
    fake.seedRunner(
      ORG,
      sampleBody('adopt', { description: 'old', state_storage_configuration: { type: 's3', bucket: 'old-bucket' } }),
    );
    // WHEN the resource is created with AdoptExisting
    const r = await create(props('adopt', { AdoptExisting: 'true' }));
    // THEN the 409's runner was read, found different, and PATCHed to the body's state
    expect(r.PhysicalResourceId).toBe(`${ORG}/adopt`);
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RUNNERS}/adopt`, `PATCH ${RUNNERS}/adopt`]);
    expect(fake.runners.get(`${ORG}/adopt`).state_storage_configuration.bucket).toBe('adopt-state');
    expect(fake.runners.get(`${ORG}/adopt`).description).toBe('runner adopt');
  });

  test('a 409 for a runner exactly as sent is success without adoptExisting, and changes nothing', async () => {
    // GIVEN the runner exists already exactly as the body describes it (a redelivered Create)
    const seeded = fake.seedRunner(ORG, sampleBody('scripted-409'));
    // WHEN created without AdoptExisting
    const r = await create(props('scripted-409'));
    // THEN the 409 was checked with a GET, and that is all
    expect(r.PhysicalResourceId).toBe(`${ORG}/scripted-409`);
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RUNNERS}/scripted-409`]);
    expect(fake.runners.get(`${ORG}/scripted-409`)).toEqual(seeded);
  });

  test('a 409 on create for an organization that does not exist is not "already exists"', async () => {
    // GIVEN the real server's answer to a POST into an unknown organization
    withFault({
      method: 'POST',
      path: RUNNERS,
      fault: {
        kind: 'body',
        status: 409,
        body: JSON.stringify({ error: 'HTTP-409', message: 'organization not found' }),
      },
    });
    // WHEN created, even with AdoptExisting
    const err = (await create(props('no-org', { AdoptExisting: 'true' })).catch((e: Error) => e)) as Error;
    // THEN the error says the conflict is not about the runner id, and nothing was adopted or created
    expect(err.message).toContain('failed with HTTP 409: HTTP-409: organization not found');
    expect(err.message).toContain('so the conflict is not about the runner id: check the organization id "acme"');
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RUNNERS}/no-org`]);
    expect(fake.runnerIds(ORG)).toEqual([]);
  });

  test('404 on delete is success, and delete is idempotent', async () => {
    // GIVEN a runner deleted outside the stack, and a scripted 404
    const p = props('gone');
    await create(p);
    fake.runners.clear();
    withFault({ method: 'DELETE', fault: { kind: 'not-found' } });
    // WHEN the resource is deleted twice
    // THEN both succeed
    await expect(remove(`${ORG}/gone`, p)).resolves.toEqual({ PhysicalResourceId: `${ORG}/gone`, Data: {} });
    await expect(remove(`${ORG}/gone`, p)).resolves.toEqual({ PhysicalResourceId: `${ORG}/gone`, Data: {} });
    expect(fake.runnerIds(ORG)).toEqual([]);
  });

  test("409 on delete (still in use) fails with the API's message and keeps the runner", async () => {
    // GIVEN a registered runner the orchestrator answers a scripted 409 for
    const p = props('busy');
    await create(p);
    withFault({ method: 'DELETE', fault: { kind: 'conflict' } });
    // WHEN the resource is deleted
    // THEN it fails with the API's message, and the runner is still there
    await expect(remove(`${ORG}/busy`, p)).rejects.toThrow(
      /Cannot deregister runner "busy" from organization "acme".*HTTP 409: scripted conflict/,
    );
    expect(fake.runnerIds(ORG)).toEqual(['busy']);
    // AND a later retry of the delete succeeds
    await remove(`${ORG}/busy`, p);
    expect(fake.runnerIds(ORG)).toEqual([]);
  });

  test('persistent 5xx fails with status and operation, without the token', async () => {
    // GIVEN a server that fails every attempt
    withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'status', status: 503 }, times: 4 });
    // WHEN the resource is created
    // THEN the error names the operation, the status and the attempts
    await expect(create(props('down'))).rejects.toThrow(
      /createRunner \(POST \/orgs\/acme\/runners\) failed with HTTP 503.*after 4 attempts/,
    );
    expect(fake.runnerIds(ORG)).toEqual([]);
  });

  test('an API that echoes the Authorization header does not leak the token into the error', async () => {
    // GIVEN a careless API error body
    withFault({ method: 'POST', path: RUNNERS, fault: { kind: 'echo-auth' }, times: 4 });
    // WHEN the resource is created
    const err = (await create(props('echo')).catch((e: Error) => e)) as Error;
    // THEN the error carries the echo, redacted (afterEach checks every log and error for the token)
    expect(err.message).toContain('Bearer ***');
    expect(err.message).not.toContain(TOKEN);
  });
});

// --------------------------------------------------------- update semantics

describe('update', () => {
  test('a new runner id is a replacement: the new one is created, Delete then removes the old one', async () => {
    // GIVEN a registered runner with a rule
    const oldP = props('old-id', { Rules: rules({ env_type_id: 'development' }) });
    await create(oldP);
    // WHEN the runner id changes
    const newP = props('new-id', { Rules: rules({ env_type_id: 'development' }) });
    const r = await update(`${ORG}/old-id`, newP, oldP);
    // THEN the new runner and its rule exist next to the old ones, under a new physical id
    expect(r.PhysicalResourceId).toBe(`${ORG}/new-id`);
    expect(fake.runnerIds(ORG)).toEqual(['new-id', 'old-id']);
    // WHEN CloudFormation deletes the old resource (with the old properties)
    await remove(`${ORG}/old-id`, oldP);
    // THEN only the new runner and its rule remain
    expect(fake.runnerIds(ORG)).toEqual(['new-id']);
    expect(fake.ruleKeys(ORG)).toEqual(['new-id:development:']);
  });

  test('a new org is a replacement too', async () => {
    // GIVEN a registered runner
    const oldP = props('moving');
    await create(oldP);
    // WHEN the org changes
    const newP = props('moving', { OrgId: 'other-org' });
    const r = await update(`${ORG}/moving`, newP, oldP);
    await remove(`${ORG}/moving`, oldP);
    // THEN the runner lives in the new org only
    expect(r.PhysicalResourceId).toBe('other-org/moving');
    expect(fake.runnerIds('other-org')).toEqual(['moving']);
    expect(fake.runnerIds(ORG)).toEqual([]);
  });

  test('a replacement whose new id is taken fails without adoptExisting', async () => {
    // GIVEN a registered runner and another runner with the new id
    const oldP = props('first');
    await create(oldP);
    fake.seedRunner(ORG, sampleBody('second', { description: 'made by hand' }));
    // WHEN the id changes to the taken one
    // THEN the update fails and both stay as they were
    await expect(update(`${ORG}/first`, props('second'), oldP)).rejects.toThrow(/already exists.*adoptExisting/);
    expect(fake.runnerIds(ORG)).toEqual(['first', 'second']);
  });

  test('a runner deleted outside the stack is created again on update', async () => {
    // GIVEN a registration whose runner was deleted by hand
    const p = props('drifted');
    await create(p);
    fake.runners.clear();
    // WHEN the stack is updated
    await update(`${ORG}/drifted`, p, p);
    // THEN the runner is back
    expect(calls()).toContain(`POST ${RUNNERS}`);
    expect(fake.runnerIds(ORG)).toEqual(['drifted']);
  });
});

// ------------------------------------------------------------------- rules

describe('rules', () => {
  test('create, change and delete rules; hand-made rules are left alone', async () => {
    // GIVEN a registration with two rules, and a rule made by hand for the runner
    const p1 = props('router', { Rules: rules({ env_type_id: 'development' }, { project_id: 'shop' }) });
    await create(p1);
    fake.seedRule(ORG, { runner_id: 'router', env_type_id: 'sandbox' });
    expect(fake.ruleKeys(ORG)).toEqual(['router::shop', 'router:development:', 'router:sandbox:']);

    // WHEN one rule is replaced by another
    const p2 = props('router', {
      Rules: rules({ env_type_id: 'development' }, { env_type_id: 'staging', project_id: 'shop' }),
    });
    await update(`${ORG}/router`, p2, p1);
    // THEN the new one exists, the dropped one is gone, the hand-made one is still there
    expect(fake.ruleKeys(ORG)).toEqual(['router:development:', 'router:sandbox:', 'router:staging:shop']);

    // WHEN the registration is deleted while an environment uses the runner
    fake.useRunner(ORG, 'router', ['shop/dev']);
    // THEN the orchestrator's refusal is reported, and nothing changed: every rule is still there
    await expect(remove(`${ORG}/router`, p2)).rejects.toThrow(
      /Cannot deregister runner "router".*runner router is in use by the environments: shop\/dev\). Nothing was changed/,
    );
    expect(fake.ruleKeys(ORG)).toEqual(['router:development:', 'router:sandbox:', 'router:staging:shop']);
    expect(fake.runnerIds(ORG)).toEqual(['router']);

    // WHEN the environment moves away and CloudFormation retries the delete
    fake.useRunner(ORG, 'router', []);
    await remove(`${ORG}/router`, p2);
    // THEN nothing is left: the server deleted the rules (the hand-made one too) with the runner
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });

  test('duplicates of a declared rule are reduced to one on update', async () => {
    // GIVEN a registration with a rule, and a second identical rule (e.g. from a lost response on another server)
    const p = props('dedupe', { Rules: rules({ env_type_id: 'development' }) });
    await create(p);
    const existing = [...fake.rules.values()][0];
    fake.rules.set('11111111-2222-3333-4444-555555555555', { ...existing, id: '11111111-2222-3333-4444-555555555555' });
    // WHEN the stack is updated
    await update(`${ORG}/dedupe`, p, p);
    // THEN one rule remains
    expect(fake.ruleKeys(ORG)).toEqual(['dedupe:development:']);
  });

  test('a failing rule on create undoes the runner and the rules this event created', async () => {
    // GIVEN the API refuses the second rule
    withFault({ method: 'POST', path: RULES, skip: 1, fault: { kind: 'status', status: 400 } });
    const p = props('undo', { Rules: rules({ env_type_id: 'development' }, { env_type_id: 'staging' }) });
    // WHEN the resource is created
    // THEN it fails with the API's error
    await expect(create(p)).rejects.toThrow(/createRunnerRule.*HTTP 400/);
    // AND the first rule and the runner were deleted again: nothing of this registration is left
    expect(calls()).toEqual([
      `POST ${RUNNERS}`,
      `GET ${RULES}`,
      `POST ${RULES}`,
      `POST ${RULES}`,
      `DELETE ${RULES}/{id}`,
      `DELETE ${RUNNERS}/undo`,
    ]);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });

  test('an adopted runner is kept when its rules fail', async () => {
    // GIVEN an existing runner to adopt, and a rule the API refuses
    fake.seedRunner(ORG, sampleBody('kept'));
    withFault({ method: 'POST', path: RULES, fault: { kind: 'status', status: 400 } });
    // WHEN created with AdoptExisting
    // THEN it fails, and the adopted runner stays registered
    await expect(
      create(props('kept', { AdoptExisting: 'true', Rules: rules({ project_id: 'shop' }) })),
    ).rejects.toThrow(/HTTP 400/);
    expect(fake.runnerIds(ORG)).toEqual(['kept']);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });
});

// -------------------------------------------------- failures and their reports

/** Runs `body` with PO_API_* variables changed, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    Object.assign(process.env, saved);
  }
}

describe('failures and their reports', () => {
  test('a rule create that hangs past the deadline still undoes the runner, with a fresh client', async () => {
    // GIVEN a short deadline, a request timeout beyond it, and an API that never answers the rule POST
    withFault({ method: 'POST', path: RULES, fault: { kind: 'hang' } });
    const p = props('orphan', { Rules: rules({ env_type_id: 'development' }) });
    // WHEN the resource is created
    const err = (await withEnv({ PO_API_DEADLINE_MS: '1500', PO_API_TIMEOUT_MS: '5000' }, () =>
      create(p).catch((e: Error) => e),
    )) as Error;
    // THEN it fails with the timed-out rule create
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/createRunnerRule \(POST \/orgs\/acme\/runner-rules\) at .* failed: TIMEOUT/);
    // AND the runner was deleted although the first client's deadline was spent: nothing is left
    expect(calls()).toEqual([`POST ${RUNNERS}`, `GET ${RULES}`, `POST ${RULES}`, `DELETE ${RUNNERS}/orphan`]);
    expect(fake.apiCalls()[3].status).toBe(204);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });

  test('a failed undo is logged with its cause, and the error says the runner may remain', async () => {
    // GIVEN an API that refuses the rule, and then the deletion of the runner
    withFault({ method: 'POST', path: RULES, fault: { kind: 'status', status: 400 } });
    withFault({ method: 'DELETE', path: `${RUNNERS}/stuck`, fault: { kind: 'status', status: 400 } });
    // WHEN the resource is created
    const err = (await create(props('stuck', { Rules: rules({ project_id: 'shop' }) })).catch(
      (e: Error) => e,
    )) as Error;
    // THEN the error names the first failure, the failed undo and what to do
    expect(err.message).toMatch(/^Orchestrator API createRunnerRule .* failed with HTTP 400/);
    expect(err.message).toContain(
      'Undoing it failed too, so runner "stuck" may still be registered in organization "acme", and runner rules may be left',
    );
    expect(err.message).toMatch(/could not delete runner stuck: Orchestrator API deleteRunner .* HTTP 400/);
    // AND the log says why the undo failed (afterEach checks that no line holds the token)
    expect(logs).toContainEqual(
      expect.stringMatching(
        /^could not delete runner stuck: Orchestrator API deleteRunner \(DELETE \/orgs\/acme\/runners\/stuck\) failed with HTTP 400/,
      ),
    );
    expect(fake.runnerIds(ORG)).toEqual(['stuck']);
  });

  test('a 409 with a 6000-character message on create gives a short error that starts with the useful part', async () => {
    // GIVEN an API whose conflict message is 6000 characters long
    fake.seedRunner(ORG, sampleBody('long', { description: 'made by hand' }));
    const message = `runner long already exists; ${'x'.repeat(6000)}`;
    withFault({
      method: 'POST',
      path: RUNNERS,
      fault: { kind: 'body', status: 409, body: JSON.stringify({ error: 'API-409', message }) },
    });
    // WHEN the resource is created without adoptExisting
    const err = (await create(props('long')).catch((e: Error) => e)) as Error;
    // THEN the message fits easily into a CloudFormation response and still says what to do
    expect(err.message.length).toBeLessThan(1000);
    expect(
      err.message.startsWith(
        'Runner "long" already exists in organization "acme" with another configuration (runner long already exists; x',
      ),
    ).toBe(true);
    expect(err.message).toContain('more characters)');
    expect(err.message).toContain('adoptExisting');
  });

  test('a 409 with a 6000-character message on delete gives a short error that starts with the useful part', async () => {
    // GIVEN a registered runner and an API that refuses its deletion at length
    const p = props('long-delete');
    await create(p);
    const message = `runner is in use by ${'y'.repeat(6000)}`;
    withFault({
      method: 'DELETE',
      path: `${RUNNERS}/long-delete`,
      fault: { kind: 'body', status: 409, body: JSON.stringify({ error: 'API-409', message }) },
    });
    // WHEN the resource is deleted
    const err = (await remove(`${ORG}/long-delete`, p).catch((e: Error) => e)) as Error;
    // THEN the message is short, names the runner and the API's words, and keeps the advice
    expect(err.message.length).toBeLessThan(1000);
    expect(
      err.message.startsWith(
        'Cannot deregister runner "long-delete" from organization "acme": the orchestrator refuses (HTTP 409: runner is in use by y',
      ),
    ).toBe(true);
    expect(err.message).toContain('removalPolicy');
    expect(fake.runnerIds(ORG)).toEqual(['long-delete']);
  });

  test('any error the handler throws is capped at 2000 characters, in its message and its stack', async () => {
    // GIVEN properties whose error message would quote a 5000-character id
    const longId = 'r'.repeat(5000);
    // WHEN the resource is created
    const err = (await create(props('x', { RunnerId: longId })).catch((e: Error) => e)) as Error;
    // THEN message and stack are cut, and start with what is wrong
    expect(err.message.startsWith('ResourceProperties.RunnerId "rrr')).toBe(true);
    expect(err.message.length).toBeLessThanOrEqual(2000 + '... (9999 more characters)'.length);
    expect(err.message).toMatch(/\.\.\. \(\d+ more characters\)$/);
    expect(err.stack?.length ?? 0).toBeLessThan(4000);
    expect(err.stack?.startsWith(`Error: ${err.message}\n`)).toBe(true);
    expect(fake.requests).toEqual([]);
  });

  test('an org id of ".." in the physical id is refused, and nothing is sent', async () => {
    // GIVEN a physical id whose org is ".." (DELETE /orgs/../runners/x would call /runners/x)
    // WHEN the resource is deleted
    // THEN it fails saying why, and no API call was made
    await expect(remove('../x', props('x'))).rejects.toThrow(
      'Orchestrator API: ".." cannot be an organization, runner or rule id',
    );
    expect(fake.apiCalls()).toEqual([]);
  });

  test('a rule list with a null item is an unreadable response, and the runner is undone', async () => {
    // GIVEN an API whose rule list holds null on every attempt
    withFault({ method: 'GET', path: RULES, fault: { kind: 'body', status: 200, body: '{"items":[null]}' }, times: 4 });
    // WHEN a registration with a rule is created
    // THEN it fails with the unreadable list (not a TypeError), and nothing is left
    await expect(create(props('null-item', { Rules: rules({ project_id: 'shop' }) }))).rejects.toThrow(
      /listRunnerRules \(GET \/orgs\/acme\/runner-rules\) failed with HTTP 200 \(unreadable response body\)/,
    );
    expect(fake.runnerIds(ORG)).toEqual([]);
  });
});

// ------------------------------------------------------------------ delete

describe('delete', () => {
  test('RetainOnDelete leaves runner and rules, reads no secret and calls nothing', async () => {
    // GIVEN a registration with a rule
    const p = props('keep', { Rules: rules({ env_type_id: 'development' }), RetainOnDelete: 'true' });
    await create(p);
    fake.resetLog();
    // WHEN it is deleted
    await remove(`${ORG}/keep`, p);
    // THEN nothing was called and everything is still registered
    expect(fake.requests).toEqual([]);
    expect(fake.runnerIds(ORG)).toEqual(['keep']);
    expect(fake.ruleKeys(ORG)).toEqual(['keep:development:']);
  });

  test('a physical id that is not <org>/<runner> (a failed create) is a no-op', async () => {
    // GIVEN the marker the provider framework uses after a failed create
    // WHEN it is deleted
    const r = await remove('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', props('never'));
    // THEN nothing was called
    expect(r.PhysicalResourceId).toBe('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED');
    expect(fake.requests).toEqual([]);
  });

  test('invalid properties fail with a clear message', async () => {
    // GIVEN / WHEN / THEN
    await expect(create(props('x', { Body: '{oops' }))).rejects.toThrow('ResourceProperties.Body is not valid JSON');
    await expect(create(props('x', { RunnerId: 'y' }))).rejects.toThrow(/RunnerId "y" differs from the id "x"/);
    await expect(create(props('x', { AdoptExisting: 'yes' }))).rejects.toThrow(
      /AdoptExisting must be 'true' or 'false'/,
    );
    await expect(create(props('x', { Rules: '[{"env":"dev"}]' }))).rejects.toThrow(/Rules must be a JSON array/);
    expect(fake.requests).toEqual([]);
  });
});

// ------------------------------------------------------------------ bundle

describe('the bundled handler', () => {
  beforeAll(() => ensureBundled());

  test('assets/registration-handler/index.js registers and deregisters', async () => {
    // GIVEN the esbuild bundle the Lambda function runs (AWS SDK from node_modules, as the runtime provides it)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(HANDLER_BUNDLE) as { onEvent: typeof onEvent };
    const p = props('bundled', { Rules: rules({ env_type_id: 'development' }) });
    // WHEN it handles Create and Delete
    const r = await bundle.onEvent({ RequestType: 'Create', ResourceProperties: p });
    expect(fake.runnerIds(ORG)).toEqual(['bundled']);
    await bundle.onEvent({ RequestType: 'Delete', PhysicalResourceId: r.PhysicalResourceId, ResourceProperties: p });
    // THEN nothing is left
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
  });
});
