/**
 * The bundled CLI (bin/po-ecs-runner.js) as a child process against the fake orchestrator,
 * which also serves CloudFormation DescribeStacks for --stack.
 */
import { execFile } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CLI_BUNDLE, ensureBundled } from '../support/bundles';
import { FakeOrchestrator, sampleBody, useFakeOrchestrator } from '../support/fake-orchestrator';

const TOKEN = `hum-cli-${randomUUID()}`;
const ORG = 'cli-org';
const STACK = 'RunnerStack';
const TWO_RUNNERS = 'TwoRunnersStack';

// THEN (every test, in useFakeOrchestrator): valid requests only, every scripted fault used.
const runningFake = useFakeOrchestrator({
  token: TOKEN,
  stacks: {
    [STACK]: [
      { OutputKey: 'BucketName', OutputValue: 'some-bucket' },
      {
        OutputKey: 'RunnerRunnerCreateBody1A2B3C4D',
        OutputValue: JSON.stringify(sampleBody('stack-runner')),
        Description: `Platform Orchestrator RunnerCreateBody of runner stack-runner (org ${ORG})`,
      },
    ],
    [TWO_RUNNERS]: ['blue', 'green'].map((id) => ({
      OutputKey: `${id}RunnerCreateBodyABCD`,
      OutputValue: JSON.stringify(sampleBody(id)),
    })),
  },
});
let fake: FakeOrchestrator;
let dir: string;

beforeAll(() => {
  ensureBundled();
  dir = mkdtempSync(path.join(tmpdir(), 'po-ecs-runner-cli-'));
  fake = runningFake();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the fake server lives in this process). */
async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: dir,
    HUMANITEC_AUTH_TOKEN: TOKEN,
    HUMANITEC_ORG: ORG,
    HUMANITEC_API_URL: fake.url,
    AWS_ENDPOINT_URL_CLOUDFORMATION: fake.url,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'aws-credentials'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PO_API_TIMEOUT_MS: '500',
    PO_API_RETRY_BASE_MS: '5',
    PO_API_RETRY_MAX_MS: '20',
    PO_API_MAX_ATTEMPTS: '3',
  };
  const merged = Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  // Only resolve in the callback: an expect failing there would not reach the test, which would
  // then wait for its timeout instead.
  const result = await new Promise<Result>((resolve) => {
    execFile(process.execPath, [CLI_BUNDLE, ...args], { env: merged, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  // THEN (every run): the token is never printed
  expect(result.stdout).not.toContain(TOKEN);
  expect(result.stderr).not.toContain(TOKEN);
  return result;
}

describe('po-ecs-runner', () => {
  test('register, status in sync, status with a difference, deregister (from stack outputs)', async () => {
    // GIVEN a deployed stack whose RunnerCreateBody output describes "stack-runner"
    // WHEN registered
    const reg = await cli(['register', '--stack', STACK]);
    // THEN exit 0, one runner, the body came from the stack output
    expect(reg).toMatchObject({ code: 0 });
    expect(reg.stdout).toContain(`Registered runner stack-runner in organization ${ORG}`);
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
    expect(fake.requests.filter((r) => r.service === 'cloudformation' && r.authorized)).toHaveLength(1);

    // WHEN status is asked
    const inSync = await cli(['status', '--stack', STACK]);
    // THEN both views are shown side by side, in sync, exit 0
    expect(inSync.code).toBe(0);
    expect(inSync.stdout).toMatch(/FIELD\s+STACK\s+ORCHESTRATOR/);
    expect(inSync.stdout).toMatch(
      /runner_configuration\.job\.cluster\s+"stack-runner-cluster"\s+"stack-runner-cluster"/,
    );
    expect(inSync.stdout).toContain('In sync.');

    // WHEN the orchestrator's runner is changed behind the stack's back
    fake.runners.get(`${ORG}/stack-runner`).runner_configuration.job.cluster = 'other-cluster';
    const differs = await cli(['status', '--stack', STACK]);
    // THEN exit 3, and the differing field is marked and named
    expect(differs.code).toBe(3);
    expect(differs.stdout).toMatch(
      /^\* runner_configuration\.job\.cluster\s+"stack-runner-cluster"\s+"other-cluster"$/m,
    );
    expect(differs.stdout).toContain('Out of sync: 1 field differs: runner_configuration.job.cluster');

    // WHEN registered again with --adopt-existing
    const adopt = await cli(['register', '--stack', STACK, '--adopt-existing']);
    // THEN the orchestrator is back in sync
    expect(adopt.code).toBe(0);
    expect(adopt.stdout).toContain('Adopted runner stack-runner');
    expect((await cli(['status', '--stack', STACK])).code).toBe(0);

    // WHEN deregistered, twice
    const dereg = await cli(['deregister', '--stack', STACK]);
    const again = await cli(['deregister', '--stack', STACK]);
    // THEN the runner is gone and the second run is a no-op that still succeeds (404 ok)
    expect(dereg).toMatchObject({ code: 0 });
    expect(dereg.stdout).toContain('Deregistered runner stack-runner');
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('is not registered');
    expect(fake.runnerIds(ORG)).toEqual([]);

    // WHEN status is asked for the missing runner
    const missing = await cli(['status', '--stack', STACK, '--json']);
    // THEN exit 3, and the JSON says so
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ runnerId: 'stack-runner', registered: false, inSync: false });
  });

  test('register without --adopt-existing fails when the id is taken, naming the option', async () => {
    // GIVEN a runner with the id exists
    fake.seedRunner(ORG, sampleBody('stack-runner', { description: 'made by hand' }));
    // WHEN registered
    const r = await cli(['register', '--stack', STACK]);
    // THEN exit 1 with what to do, and the runner is untouched
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Runner "stack-runner" already exists in organization "${ORG}"`);
    expect(r.stderr).toContain('--adopt-existing');
    expect(fake.runners.get(`${ORG}/stack-runner`).description).toBe('made by hand');
  });

  test('the org comes from the stack output when HUMANITEC_ORG is not set; PO_API_URL works for Stellwerk', async () => {
    // GIVEN no HUMANITEC_ORG and no HUMANITEC_API_URL, but PO_API_URL
    const env = { HUMANITEC_ORG: undefined, HUMANITEC_API_URL: undefined, PO_API_URL: fake.url };
    // WHEN registered
    const r = await cli(['register', '--stack', STACK], env);
    // THEN the org named in the output's description was used
    expect(r.code).toBe(0);
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
  });

  test('a HUMANITEC_ORG that differs from the stack runner org is refused; --org decides explicitly', async () => {
    // GIVEN a stale HUMANITEC_ORG of another organization
    const env = { HUMANITEC_ORG: 'other-org' };
    // WHEN registered from the stack
    const r = await cli(['register', '--stack', STACK], env);
    // THEN exit 2, nothing registered anywhere, and the message names both orgs
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('HUMANITEC_ORG is "other-org"');
    expect(r.stderr).toContain(`org "${ORG}"`);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.runnerIds('other-org')).toEqual([]);
    // AND an explicit --org is the user's decision
    const explicit = await cli(['register', '--stack', STACK, '--org', ORG], env);
    expect(explicit.code).toBe(0);
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
  });

  test('a stack with several runners needs --runner-id', async () => {
    // GIVEN a stack with two RunnerCreateBody outputs
    // WHEN registered without --runner-id
    const ambiguous = await cli(['register', '--stack', TWO_RUNNERS]);
    // THEN exit 2 naming both
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('several runners (blue, green): choose one with --runner-id');
    // WHEN registered with --runner-id green
    const chosen = await cli(['register', '--stack', TWO_RUNNERS, '--runner-id', 'green']);
    // THEN only green is registered
    expect(chosen.code).toBe(0);
    expect(fake.runnerIds(ORG)).toEqual(['green']);
  });

  test('--body-file, --org, --api-url and --token flags', async () => {
    // GIVEN a body file and no environment variables
    const file = path.join(dir, 'body.json');
    writeFileSync(file, JSON.stringify(sampleBody('from-file')));
    const env = { HUMANITEC_AUTH_TOKEN: undefined, HUMANITEC_ORG: undefined, HUMANITEC_API_URL: undefined };
    // WHEN registered with flags
    const r = await cli(
      ['register', '--body-file', file, '--org', 'flag-org', '--api-url', fake.url, '--token', TOKEN, '-v'],
      env,
    );
    // THEN it is registered in that org, and the verbose log shows the call without the token
    expect(r.code).toBe(0);
    expect(fake.runnerIds('flag-org')).toEqual(['from-file']);
    expect(r.stderr).toMatch(/orchestrator-api POST \/orgs\/flag-org\/runners -> 201 \(attempt 1\/3/);
    // AND status from the file is in sync
    const s = await cli(['status', '--body-file', file, '--org', 'flag-org'], { HUMANITEC_ORG: undefined });
    expect(s.code).toBe(0);
  });

  test('errors: missing token, unknown stack, both sources, no org, API failure', async () => {
    // GIVEN / WHEN / THEN no token: exit 2 with what to set, and nothing called
    const noToken = await cli(['register', '--stack', STACK], { HUMANITEC_AUTH_TOKEN: undefined });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no API token: set HUMANITEC_AUTH_TOKEN (or pass --token)');
    expect(fake.requests).toEqual([]);
    // unknown stack: exit 2
    const noStack = await cli(['status', '--stack', 'Nope']);
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toContain('stack "Nope" not found');
    // both sources: exit 2
    const both = await cli(['status', '--stack', STACK, '--body-file', 'x.json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('either --stack or --body-file');
    // no org from anywhere (a body file has no description): exit 2
    const file = path.join(dir, 'no-org.json');
    writeFileSync(file, JSON.stringify(sampleBody('no-org')));
    const noOrg = await cli(['status', '--body-file', file], { HUMANITEC_ORG: undefined });
    expect(noOrg.code).toBe(2);
    expect(noOrg.stderr).toContain('no organization');
    // a wrong token: exit 1 with a hint, without printing either token
    const wrong = await cli(['status', '--stack', STACK], { HUMANITEC_AUTH_TOKEN: `${TOKEN}-wrong` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('HTTP 401');
    expect(wrong.stderr).toContain('Check the API token');
    expect(wrong.stderr).not.toContain(`${TOKEN}-wrong`);
    // an API that echoes the header: exit 1, redacted
    fake.inject({ fault: { kind: 'echo-auth' }, times: 3 });
    const echo = await cli(['status', '--stack', STACK]);
    expect(echo.code).toBe(1);
    expect(echo.stderr).toContain('Bearer ***');
    // an unknown command: exit 2
    expect((await cli(['reigster'])).code).toBe(2);
  });

  test('deregister of a runner in use fails with the API message', async () => {
    // GIVEN a registered runner the orchestrator says is in use
    fake.seedRunner(ORG, sampleBody('stack-runner'));
    fake.inject({ method: 'DELETE', fault: { kind: 'conflict' } });
    // WHEN deregistered
    const r = await cli(['deregister', '--stack', STACK]);
    // THEN exit 1 with the API's message, and the runner stays
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 409');
    expect(r.stderr).toContain('scripted conflict');
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
  });

  test.each([
    [[], ['register', 'deregister', 'status']],
    [['register'], ['--adopt-existing', '--stack <name>', '--body-file <path>', '--token <token>']],
    [['deregister'], ['--stack <name>', '--runner-id <id>', '--api-url <url>']],
    [['status'], ['--json', '--stack <name>', '--region <region>', 'exit 0 when in sync, 3']],
  ])('%j --help exits 0 and documents the command', async (command, mentions) => {
    // GIVEN / WHEN
    const r = await cli([...command, '--help']);
    // THEN
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: po-ecs-runner${command.length ? ` ${command[0]}` : ''} [options]`);
    for (const m of mentions) expect(r.stdout).toContain(m);
  });
});
