/**
 * The transport's retry policy (one object decides what is retried and how long to wait), and the
 * one `definedOnly` of the run-time code.
 */
import { OrchestratorClient } from '../../../src/registration/runtime/api-client';
import {
  Attempt,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  RetryPolicy,
  definedOnly,
  tuningFromEnv,
} from '../../../src/registration/runtime/transport';
import { DEFAULT_DEADLINE_MS } from '../../../src/registration/api-defaults';
import { FakeOrchestrator, sampleBody, useFakeOrchestrator } from '../../support/fake-orchestrator';

const TOKEN = `hum-test-${Math.random().toString(36).slice(2)}-token`;
const ORG = 'transport-org';
const status = (s: number, retryAfter: string | null = null): Attempt => ({
  kind: 'response',
  status: s,
  text: '',
  retryAfter,
});

describe('RetryPolicy', () => {
  test('defaults, and at least one attempt', () => {
    // GIVEN no settings, and nonsense attempt counts
    const p = new RetryPolicy();
    // THEN the documented defaults apply; attempts are whole and at least 1
    expect({ ...p }).toEqual({
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      deadlineMs: DEFAULT_DEADLINE_MS,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      baseDelayMs: DEFAULT_BASE_DELAY_MS,
      maxDelayMs: DEFAULT_MAX_DELAY_MS,
    });
    expect(new RetryPolicy({ maxAttempts: 0 }).maxAttempts).toBe(1);
    expect(new RetryPolicy({ maxAttempts: 2.7 }).maxAttempts).toBe(2);
  });

  test.each([
    ['a network error', { kind: 'network', code: 'ECONNRESET', detail: '' } as Attempt, 'POST', true, true],
    ['408', status(408), 'POST', true, false],
    ['429', status(429), 'POST', true, false],
    ['500', status(500), 'POST', true, true],
    ['503', status(503), 'GET', true, true],
    ['501 (a retry cannot change it)', status(501), 'POST', false, true],
    ['505', status(505), 'GET', false, true],
    ['400', status(400), 'POST', false, false],
    ['409', status(409), 'POST', false, false],
  ])('%s: judged as documented', (_what, outcome, method, retryable, mayHaveBeenProcessed) => {
    // GIVEN a failed attempt  WHEN the policy judges it  THEN it is retried (or not) as documented
    expect(new RetryPolicy().verdict(outcome, method, false)).toEqual({ retryable, mayHaveBeenProcessed });
  });

  test('an unreadable success is retried; only a GET is known to have changed nothing', () => {
    const p = new RetryPolicy();
    expect(p.verdict(status(200), 'GET', true)).toEqual({ retryable: true, mayHaveBeenProcessed: false });
    expect(p.verdict(status(201), 'POST', true)).toEqual({ retryable: true, mayHaveBeenProcessed: true });
  });

  test('the delay is Retry-After when readable, else full-jitter backoff', () => {
    // GIVEN a policy with base 100 ms, cap 1000 ms and a fixed random
    const p = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 }, () => 0.5);
    const now = Date.parse('2030-06-01T12:00:00Z');
    // THEN
    expect(p.delay(1, status(503), now)).toBe(50);
    expect(p.delay(3, status(503), now)).toBe(200);
    expect(p.delay(9, status(503), now)).toBe(500);
    expect(p.delay(1, status(429, '7'), now)).toBe(7000);
    expect(p.delay(1, status(429, new Date(now + 3000).toUTCString()), now)).toBe(3000);
    expect(p.delay(2, status(429, 'soon'), now)).toBe(100);
  });
});

describe('definedOnly', () => {
  test('drops undefined entries only: 0, empty strings, false and null are values', () => {
    // GIVEN an object with every kind of falsy value
    const o = { a: undefined, zero: 0, empty: '', no: false, nil: null, yes: 'x' };
    // WHEN / THEN
    expect(definedOnly(o)).toStrictEqual({ zero: 0, empty: '', no: false, nil: null, yes: 'x' });
    expect(Object.keys(definedOnly({ a: undefined }))).toEqual([]);
  });

  test('tuningFromEnv returns only the variables that are set, and keeps a 0', () => {
    // GIVEN retries without waiting, nothing else
    // WHEN / THEN the 0 is kept (a falsy filter would bring back the default 500 ms), the rest absent
    expect(tuningFromEnv({ PO_API_RETRY_BASE_MS: '0', PO_API_TIMEOUT_MS: '' })).toStrictEqual({ baseDelayMs: 0 });
    expect(tuningFromEnv({})).toStrictEqual({});
  });
});

describe('the policy in the client', () => {
  const runningFake = useFakeOrchestrator({ token: TOKEN });
  let fake: FakeOrchestrator;
  beforeAll(() => {
    fake = runningFake();
  });

  test('settings from the environment reach the client: PO_API_RETRY_BASE_MS=0 retries at once', async () => {
    // GIVEN a runner that can be read after two 503s, and a client tuned from the environment
    fake.seedRunner(ORG, sampleBody('tuned'));
    fake.inject({ method: 'GET', fault: { kind: 'status', status: 503 }, times: 2 });
    const sleeps: number[] = [];
    const c = new OrchestratorClient({
      orgId: ORG,
      token: TOKEN,
      apiUrl: fake.url,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...tuningFromEnv({ PO_API_RETRY_BASE_MS: '0', PO_API_MAX_ATTEMPTS: '3' }),
    });
    // WHEN it is read
    const runner = await c.getRunner('tuned');
    // THEN it took three attempts, none of them after a wait
    expect(runner?.id).toBe('tuned');
    expect(sleeps).toEqual([0, 0]);
    expect(fake.apiCalls().map((r) => r.status)).toEqual([503, 503, 200]);
  });

  test('PO_API_MAX_ATTEMPTS bounds the attempts', async () => {
    // GIVEN a server failing more often than the client may try
    fake.inject({ method: 'GET', fault: { kind: 'status', status: 503 }, times: 2 });
    const c = new OrchestratorClient({
      orgId: ORG,
      token: TOKEN,
      apiUrl: fake.url,
      sleep: async () => undefined,
      ...tuningFromEnv({ PO_API_MAX_ATTEMPTS: '2' }),
    });
    // WHEN / THEN two attempts, then the 503
    await expect(c.getRunner('any')).rejects.toThrow(/HTTP 503.*after 2 attempts/);
  });
});
