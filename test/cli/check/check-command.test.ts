/**
 * `po-ecs-runner check --template`, as users run it: the bundled CLI (bin/po-ecs-runner.js) as a
 * child process, offline (no credentials, no AWS or orchestrator endpoint), on the synthesized
 * templates of every example, and on mutated templates, each of which fails with the right line.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'fs';
import { builtinModules } from 'module';
import { tmpdir } from 'os';
import * as path from 'path';
import { MUTATIONS } from '../../conformance/mutations';
import { EXAMPLES, SynthesizedStack, synthesizeExample } from '../../conformance/templates';
import { CLI_BUNDLE, ensureBundled } from '../../support/bundles';

const dir = mkdtempSync(path.join(tmpdir(), 'po-ecs-runner-check-'));
const STACKS: SynthesizedStack[] = EXAMPLES.flatMap(synthesizeExample);

function write(name: string, template: unknown): string {
  const file = path.join(dir, `${name}.template.json`);
  writeFileSync(file, JSON.stringify(template));
  return file;
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI with no AWS credentials or configuration in its environment. */
function check(args: string[]): Result {
  const child = spawnSync(process.execPath, [CLI_BUNDLE, 'check', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    },
    encoding: 'utf8',
  });
  return { code: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

const failLines = (stdout: string) => stdout.split('\n').filter((l) => l.trimStart().startsWith('FAIL'));

beforeAll(() => ensureBundled());

describe.each(STACKS.map((s) => [`${s.source} (${s.stackName})`, s] as const))('%s', (_name, stack) => {
  test('passes: every call allowed, every attack denied, exit 0', () => {
    const result = check(['--template', write(stack.stackName, stack.template)]);
    expect(failLines(result.stdout)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/the runner conforms\.$/m);
  });
});

describe('examples/basic', () => {
  const [stack] = synthesizeExample('basic');
  const file = write('basic', stack.template);
  const baseline = new Set(failLines(check(['--template', file]).stdout).map((l) => l.trim().split(/\s+/)[2]));

  test('one line per call, for the runner the template holds', () => {
    const { stdout } = check(['--template', file]);
    expect(stdout).toMatch(/^Runner runner-[0-9a-f]+ \(org my-org\), orchestrator humanitec /m);
    expect(stdout).toMatch(/^ {2}ok {3}allowed task-manager:ecs:RunTask$/m);
    expect(stdout).toMatch(/^ {2}ok {3}denied {2}attack:RunTask-other-cluster$/m);
    expect(stdout).toMatch(/^ {2}\d+\/\d+ calls allowed, \d+\/\d+ attacks denied: /m);
  });

  test.each(MUTATIONS.map((m) => [m.name, m] as const))('%s: exit 1 and the right FAIL line', (_n, mutation) => {
    const mutated = structuredClone(stack.template);
    mutation.apply(mutated);
    const result = check(['--template', write(`basic-${mutation.failingCalls[0].replace(/:/g, '_')}`, mutated)]);
    expect(result.code).toBe(1);
    const added = failLines(result.stdout).filter((l) => !baseline.has(l.trim().split(/\s+/)[2]));
    expect(added.map((l) => l.trim().split(/\s+/)[2].replace(/:$/, '')).sort()).toEqual(
      [...mutation.failingCalls].sort(),
    );
    for (const l of added) {
      // A real call that fails names what is missing; an attack that passes names what allows it.
      expect(l).toMatch(/: (missing permission: no statement allows|should be denied, but is allowed by)/);
    }
  });

  test('--orchestrator stellwerk checks the Stellwerk family and fails RegisterTaskDefinition', () => {
    const result = check(['--template', file, '--orchestrator', 'stellwerk']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/orchestrator stellwerk .*from the option\)/);
    expect(result.stdout).toMatch(
      /^ {2}FAIL denied {2}task-manager:ecs:RegisterTaskDefinition: missing permission: no statement allows ecs:RegisterTaskDefinition on arn:aws:ecs:eu-central-1:123456789012:task-definition\/platform_orchestrator_env_my-org_/m,
    );
  });

  test('--json gives the same results as data', () => {
    const result = check(['--template', file, '--json']);
    const [runner] = JSON.parse(result.stdout);
    expect(runner.orgId).toBe('my-org');
    expect(runner.results.find((r: any) => r.id === 'task-manager:ecs:RunTask')).toMatchObject({
      action: 'ecs:RunTask',
      expect: 'allowed',
    });
  });

  test('usage errors exit 2', () => {
    expect(check([]).code).toBe(2);
    expect(check(['--template', path.join(dir, 'missing.json')]).stderr).toContain('ENOENT');
    expect(check(['--template', path.join(dir, 'missing.json')]).code).toBe(2);
    writeFileSync(path.join(dir, 'not-json.json'), '{');
    expect(check(['--template', path.join(dir, 'not-json.json')]).stderr).toContain('not JSON');
    writeFileSync(path.join(dir, 'empty.json'), JSON.stringify({ Resources: {} }));
    const empty = check(['--template', path.join(dir, 'empty.json')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the template has no runner');
    expect(check(['--template', file, '--orchestrator', 'other']).code).toBe(2);
    expect(check(['--template', file, '--runner-id', 'nope']).code).toBe(2);
  });
});

test('examples/second-runner-in-account: every runner of the template, or one with --runner-id', () => {
  const stack = STACKS.find((s) => s.stackName === 'PlatformEcsRunners')!;
  const file = write('two-runners', stack.template);
  const all = check(['--template', file])
    .stdout.split('\n')
    .filter((l) => l.startsWith('Runner '));
  expect(all).toHaveLength(2);
  const id = /^Runner (\S+)/.exec(all[1])![1];
  const one = check(['--template', file, '--runner-id', id])
    .stdout.split('\n')
    .filter((l) => l.startsWith('Runner '));
  expect(one).toEqual([all[1]]);
});

test('the CLI is one file with no runtime dependencies, under 2 MB', () => {
  ensureBundled();
  expect(statSync(CLI_BUNDLE).size).toBeLessThan(2_000_000);
  const requires = [...readFileSync(CLI_BUNDLE, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  const builtins = new Set(builtinModules);
  // Not a require: the text of an AWS SDK error message that tells users how to add the CRT signer.
  const optional = new Set(['@aws-sdk/signature-v4-crt']);
  expect([...new Set(requires)].filter((r) => !r.startsWith('node:') && !builtins.has(r) && !optional.has(r))).toEqual(
    [],
  );
  // The evaluator is the library's own: the AGPL-licensed iam-simulate the tests cross-check it with is not shipped.
  expect(readFileSync(CLI_BUNDLE, 'utf8')).not.toMatch(/cloud-copilot|iam-simulate/);
  // And it runs from a directory without node_modules.
  expect(execFileSync(process.execPath, [CLI_BUNDLE, 'check', '--help'], { cwd: dir, encoding: 'utf8' })).toContain(
    '--template',
  );
});
