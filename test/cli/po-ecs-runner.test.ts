/**
 * The bundled CLI (bin/po-ecs-runner.js) as a child process against the fake orchestrator,
 * which also serves CloudFormation DescribeStacks for --stack.
 */
import { execFile } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CLI_BUNDLE, ROOT, ensureBundled } from '../support/bundles';
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
function baseEnv(): Record<string, string | undefined> {
  return {
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
    PO_API_TIMEOUT_MS: '2000',
    PO_API_RETRY_BASE_MS: '5',
    PO_API_RETRY_MAX_MS: '20',
    PO_API_MAX_ATTEMPTS: '3',
  };
}

function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  const merged = definedEnv({ ...baseEnv(), ...env });
  // Only resolve in the callback: an expect failing there would not reach the test, which would
  // then wait for its timeout instead.
  const result = await new Promise<Result>((resolve) => {
    execFile(process.execPath, [CLI_BUNDLE, ...args], { env: merged, timeout: 60_000 }, (error, stdout, stderr) => {
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
    expect(wrong.stderr).toContain(
      `The token (--token or $HUMANITEC_AUTH_TOKEN) must be a valid API token of organization "${ORG}"`,
    );
    expect(wrong.stderr).not.toContain(`${TOKEN}-wrong`);
    // an API that echoes the header: exit 1, redacted
    fake.inject({ fault: { kind: 'echo-auth' }, times: 3 });
    const echo = await cli(['status', '--stack', STACK]);
    expect(echo.code).toBe(1);
    expect(echo.stderr).toContain('Bearer ***');
    // an unknown command: exit 2
    expect((await cli(['reigster'])).code).toBe(2);
  });

  test('deregister of a runner in use changes nothing and names the environments', async () => {
    // GIVEN a registered runner with a rule, used by an environment
    fake.seedRunner(ORG, sampleBody('stack-runner'));
    fake.seedRule(ORG, { runner_id: 'stack-runner', env_type_id: 'development' });
    fake.useRunner(ORG, 'stack-runner', ['shop/dev']);
    // WHEN deregistered
    const r = await cli(['deregister', '--stack', STACK]);
    // THEN exit 1 with the server's message and what to do
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 409: HTTP-409: runner stack-runner is in use by the environments: shop/dev');
    expect(r.stderr).toContain('Nothing was changed: the runner and its runner rules are still registered.');
    // AND only the DELETE was sent: runner and rule are still there
    expect(fake.apiCalls().map((c) => c.method)).toEqual(['DELETE']);
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
    expect(fake.ruleKeys(ORG)).toEqual(['stack-runner:development:']);
  });

  test('deregister --org --runner-id alone removes a runner left behind by a failed stack', async () => {
    // GIVEN a runner with a rule, and no stack or file that describes it
    fake.seedRunner(ORG, sampleBody('left-behind'));
    fake.seedRule(ORG, { runner_id: 'left-behind', project_id: 'shop' });
    // WHEN deregistered by id
    const r = await cli(['deregister', '--org', ORG, '--runner-id', 'left-behind']);
    // THEN it is gone, with its rule (the server deletes them together)
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deregistered runner left-behind from organization ${ORG}.`);
    expect(fake.runnerIds(ORG)).toEqual([]);
    expect(fake.ruleKeys(ORG)).toEqual([]);
    // AND register still needs a description of the runner
    const reg = await cli(['register', '--runner-id', 'left-behind']);
    expect(reg.code).toBe(2);
    expect(reg.stderr).toContain('say which runner: --stack <name>');
  });

  test('register twice: the second run finds the runner exactly as described and changes nothing', async () => {
    // GIVEN a registered runner
    expect((await cli(['register', '--stack', STACK])).code).toBe(0);
    const before = fake.runners.get(`${ORG}/stack-runner`);
    // WHEN registered again, without --adopt-existing
    const again = await cli(['register', '--stack', STACK]);
    // THEN exit 0, a no-op that says so
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Runner stack-runner is already registered in organization ${ORG} exactly as in`);
    expect(fake.runners.get(`${ORG}/stack-runner`)).toEqual(before);
    expect(fake.runnerIds(ORG)).toEqual(['stack-runner']);
  });

  test('--body-file takes the cdk --outputs-file file and describe-stacks output; --runner-id chooses', async () => {
    // GIVEN the file `cdk deploy --outputs-file` writes, with two stacks and three runners
    const outputsFile = path.join(dir, 'cdk-outputs.json');
    writeFileSync(
      outputsFile,
      JSON.stringify({
        RunnerStack: { BucketName: 'b', RunnerRunnerCreateBody1A2B3C4D: JSON.stringify(sampleBody('file-a')) },
        OtherStack: {
          BlueRunnerCreateBodyABCD: JSON.stringify(sampleBody('file-b')),
          GreenRunnerCreateBodyABCD: JSON.stringify(sampleBody('file-c')),
        },
      }),
    );
    // WHEN registered without --runner-id
    const ambiguous = await cli(['register', '--body-file', outputsFile]);
    // THEN exit 2, listing the runners
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(
      `--body-file ${outputsFile} has several runners (file-a, file-b, file-c): choose one with --runner-id`,
    );
    // WHEN one is chosen
    const chosen = await cli(['register', '--body-file', outputsFile, '--runner-id', 'file-b']);
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain('Registered runner file-b');
    // AND an unknown one is refused, naming the runners there are
    const unknown = await cli(['status', '--body-file', outputsFile, '--runner-id', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no runner "nope"; its runners: file-a, file-b, file-c');

    // GIVEN `aws cloudformation describe-stacks --stack-name RunnerStack` output (with the org in the description)
    const described = path.join(dir, 'describe-stacks.json');
    writeFileSync(
      described,
      JSON.stringify({
        Stacks: [
          {
            StackName: 'RunnerStack',
            StackStatus: 'CREATE_COMPLETE',
            Outputs: [
              { OutputKey: 'BucketName', OutputValue: 'b' },
              {
                OutputKey: 'RunnerRunnerCreateBody1A2B3C4D',
                OutputValue: JSON.stringify(sampleBody('described')),
                Description: `Platform Orchestrator RunnerCreateBody of runner described (org ${ORG})`,
              },
            ],
          },
        ],
      }),
    );
    // WHEN registered from it, without HUMANITEC_ORG
    const fromDescribe = await cli(['register', '--body-file', described], { HUMANITEC_ORG: undefined });
    // THEN the org came from the output's description
    expect(fromDescribe.code).toBe(0);
    expect(fake.runnerIds(ORG)).toEqual(['described', 'file-b']);
    // AND a file that is none of the three forms is refused clearly
    const odd = path.join(dir, 'odd.json');
    writeFileSync(odd, JSON.stringify([1, 2]));
    const bad = await cli(['status', '--body-file', odd]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is neither a RunnerCreateBody');
  });

  test('a refused connection names its cause and address', async () => {
    // GIVEN an API URL where nothing listens
    const closed = await FakeOrchestrator.start({ token: TOKEN });
    const url = closed.url;
    await closed.close();
    // WHEN the status is asked
    const r = await cli(['status', '--stack', STACK], { HUMANITEC_API_URL: url });
    // THEN exit 1, naming ECONNREFUSED and host:port
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`failed: ECONNREFUSED ${new URL(url).host} (network error)`);
  });

  test('missing AWS credentials is a configuration error (exit 2) with a hint, and nothing is called', async () => {
    // GIVEN no credentials anywhere (no variables, no files, no instance metadata), and a loopback endpoint
    const r = await cli(['register', '--stack', STACK], {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    });
    // THEN exit 2 with what to configure, and no request reached CloudFormation or the orchestrator
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no AWS credentials to read stack "${STACK}"`);
    expect(r.stderr).toContain('or pass --body-file with the file "cdk deploy --outputs-file" wrote');
    expect(fake.requests).toEqual([]);
  });

  test('the API URL: --api-url, else PO_API_URL, else HUMANITEC_API_URL', async () => {
    // GIVEN PO_API_URL at the fake and HUMANITEC_API_URL where nothing listens
    const closed = await FakeOrchestrator.start({ token: TOKEN });
    const dead = closed.url;
    await closed.close();
    // WHEN / THEN PO_API_URL wins over HUMANITEC_API_URL
    const po = await cli(['register', '--stack', STACK], { PO_API_URL: fake.url, HUMANITEC_API_URL: dead });
    expect(po.code).toBe(0);
    // AND --api-url wins over both
    const flag = await cli(['status', '--stack', STACK, '--api-url', fake.url], {
      PO_API_URL: dead,
      HUMANITEC_API_URL: dead,
    });
    expect(flag.code).toBe(0);
  });

  test('engines states the tested Node line, which the bundles target and the running Node satisfies', () => {
    // GIVEN package.json and the bundler's target
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const bundler = readFileSync(path.join(ROOT, 'scripts', 'bundle.mjs'), 'utf8');
    // THEN the lower bound is Node 20 (CI runs Node 20; jsii needs 20.16), no upper bound is claimed
    expect(pkg.engines.node).toBe('>=20.16.0');
    expect(bundler).toContain("target: 'node20'");
    // AND this Node satisfies it
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major > 20 || (major === 20 && minor >= 16)).toBe(true);
  });

  test('no warning or deprecation on stderr: --help and a real command under --throw-deprecation', async () => {
    // GIVEN node --throw-deprecation (a deprecation would be thrown and exit non-zero)
    const run = (args: string[]) =>
      new Promise<Result>((resolve) => {
        execFile(
          process.execPath,
          ['--throw-deprecation', '--trace-warnings', CLI_BUNDLE, ...args],
          // Without the tests' AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: the CLI must quiet the SDK itself.
          {
            env: definedEnv({ ...baseEnv(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined }),
            timeout: 60_000,
          },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    // WHEN help is printed, and a runner is registered from the stack (CloudFormation SDK, fetch)
    const help = await run(['--help']);
    const reg = await run(['register', '--stack', STACK]);
    // THEN both succeed with nothing on stderr
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(reg).toMatchObject({ code: 0, stderr: '' });
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
