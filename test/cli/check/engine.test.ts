/**
 * The conformance engine's reading of a template: which runners, which parts, which orchestrator
 * (runner metadata first, then the trust policy, then an option), and the calls it derives, with
 * placeholders or, for a live check, the deployed stack's physical ids.
 */
import { Command } from 'commander';
import { registerCheckCommand } from '../../../src/cli/check/command';
import { RUNNER_CREATE_BODY_SHAPE } from '../../../src/registration/runner-create-body';
import { RUNNER_METADATA_KEY } from '../../../src/runner-metadata';
import { contractCallsFromTemplate, evaluateOffline, stateKey, TemplateError } from '../../../src/cli/check';
import { synthesizeExample } from '../../conformance/templates';
import { addLiveCheckOptions } from '../../../src/cli/check/live/command';

const [basic] = synthesizeExample('basic');
const roleId = (template: any, prefix: string) =>
  Object.keys(template.Resources).find(
    (id) => id.startsWith(prefix) && template.Resources[id].Type === 'AWS::IAM::Role',
  )!;

test('the state key is joined as the job joins it', () => {
  expect(stateKey(undefined, 'e')).toBe('e.tfstate');
  expect(stateKey('runners/prod', 'e')).toBe('runners/prod/e.tfstate');
  expect(stateKey('runners/prod/', 'e')).toBe('runners/prod/e.tfstate');
});

test('without metadata, the orchestrator comes from the trust policy; an option overrides it', () => {
  const [{ runner }] = contractCallsFromTemplate(basic.template);
  expect(runner.orchestratorSource).toBe(
    basic.template.Resources[roleId(basic.template, 'RunnerRolesTaskManagerRole')].Metadata?.[RUNNER_METADATA_KEY]
      ? 'metadata'
      : 'trust policy',
  );
  expect(runner.orchestrator.issuer).toBe('oidc.humanitec.dev');
  const [{ runner: overridden, calls }] = contractCallsFromTemplate(basic.template, { orchestrator: 'stellwerk' });
  expect(overridden.orchestrator.taskDefinitionFamilyPrefix).toBe('platform_orchestrator_');
  expect(calls.find((c) => c.id === 'task-manager:ecs:RegisterTaskDefinition')!.resource).toContain(
    `task-definition/platform_orchestrator_env_${overridden.orgId}_`,
  );
});

test('runner metadata in the template decides the orchestrator', () => {
  // GIVEN the library's metadata on the task-manager role (as the construct writes it)
  const template = structuredClone(basic.template);
  const role = template.Resources[roleId(template, 'RunnerRolesTaskManagerRole')];
  role.Metadata = {
    ...(role.Metadata ?? {}),
    [RUNNER_METADATA_KEY]: {
      version: 1,
      orgId: 'my-org',
      runnerId: 'ignored-body-wins',
      orchestrator: {
        name: 'custom',
        issuer: 'oidc.humanitec.dev',
        apiUrl: 'https://api.example.com',
        taskDefinitionFamilyPrefix: 'humanitec_custom_',
        taskDefinitionFamilyScope: 'humanitec_*',
      },
    },
  };
  // WHEN the engine reads it
  const [{ runner, calls }] = contractCallsFromTemplate(template);
  // THEN the families are the metadata's
  expect(runner.orchestratorSource).toBe('metadata');
  expect(runner.orchestrator.name).toBe('custom');
  expect(calls.find((c) => c.id === 'task-manager:ecs:RunTask')!.resource).toContain(
    'task-definition/humanitec_custom_env_',
  );
});

test('with the deployed physical ids, the calls name the deployed resources (for check --stack)', () => {
  const t = basic.template;
  const ids = Object.fromEntries(
    Object.entries<any>(t.Resources).flatMap(([id, r]) => {
      if (r.Type === 'AWS::IAM::Role') return [[id, `deployed-${id.slice(0, 20)}`]];
      if (r.Type === 'AWS::S3::Bucket') return [[id, `deployed-bucket-${id.length}`.toLowerCase()]];
      if (r.Type === 'AWS::ECS::Cluster') return [[id, 'deployed-cluster']];
      if (r.Type === 'AWS::IAM::OIDCProvider')
        return [[id, 'arn:aws:iam::123456789012:oidc-provider/oidc.humanitec.dev']];
      return [];
    }),
  );
  const [{ runner, calls }] = contractCallsFromTemplate(t, { physicalResourceIds: ids });
  const taskRole = roleId(t, 'RunnerRolesTaskRole');
  expect(runner.taskRole.arn).toBe(`arn:aws:iam::123456789012:role/${ids[taskRole]}`);
  expect(runner.cluster.arn).toBe('arn:aws:ecs:eu-central-1:123456789012:cluster/deployed-cluster');
  expect(calls.find((c) => c.id === 'task-manager:ecs:RunTask')!.context['ecs:cluster']).toBe(runner.cluster.arn);
  expect(calls.find((c) => c.id === 'task-manager:iam:PassRole:task')!.resource).toBe(runner.taskRole.arn);
  expect(calls.find((c) => c.id === 'task:s3:PutObject:state')!.resource).toMatch(
    /^arn:aws:s3:::deployed-bucket-\d+\//,
  );
  expect(runner.oidcProviderArn).toBe('arn:aws:iam::123456789012:oidc-provider/oidc.humanitec.dev');
  // And the offline evaluation over the same names still decides the real calls the same way.
  const [offline] = evaluateOffline(t, { physicalResourceIds: ids });
  const [placeholders] = evaluateOffline(t);
  expect(offline.results.map((r) => [r.call.id, r.decision])).toEqual(
    placeholders.results.map((r) => [r.call.id, r.decision]),
  );
});

test('a template without a runner, or without the asked runner, is refused with a TemplateError', () => {
  expect(() => contractCallsFromTemplate({ Resources: {} })).toThrow(TemplateError);
  expect(() => contractCallsFromTemplate(basic.template, { runnerId: 'nope' })).toThrow(/no runner "nope"/);
  expect(() => contractCallsFromTemplate('not a template')).toThrow(/not a CloudFormation template/);
});

test.each([
  ['null', null],
  ['a list', []],
  ['no id', { runner_configuration: {}, state_storage_configuration: {} }],
  ['a number id', { id: 5, runner_configuration: {}, state_storage_configuration: {} }],
  ['no state_storage_configuration', { id: 'r', runner_configuration: {} }],
])('a RunnerCreateBody output that is JSON but not a body (%s) is a TemplateError naming the output', (_, value) => {
  // GIVEN the basic example's template whose body output is another JSON value
  const [key] = Object.keys(basic.template.Outputs).filter((k) => k.includes('RunnerCreateBody'));
  const template = { ...basic.template, Outputs: { [key]: { Value: JSON.stringify(value) } } };
  // WHEN / THEN
  expect(() => contractCallsFromTemplate(template)).toThrow(TemplateError);
  expect(() => contractCallsFromTemplate(template)).toThrow(
    `output ${key} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`,
  );
});

describe('registerCheckCommand with a live mode (check --stack)', () => {
  const program = () => new Command('po-ecs-runner').exitOverride();
  const io = { out: jest.fn(), err: jest.fn() };
  afterEach(() => {
    process.exitCode = undefined;
  });

  test('--stack runs the live mode with the options, and its exit code is the command’s', async () => {
    const live = jest.fn(async () => 3);
    const p = program();
    registerCheckCommand(p, io, { addOptions: addLiveCheckOptions, run: live });
    await p.parseAsync([
      'node',
      'cli',
      'check',
      '--stack',
      'EcsRunner',
      '--region',
      'eu-central-1',
      '--runner-id',
      'r',
    ]);
    expect(live).toHaveBeenCalledWith(
      expect.objectContaining({ stack: 'EcsRunner', region: 'eu-central-1', runnerId: 'r' }),
    );
    expect(process.exitCode).toBe(3);
  });

  test('--stack with --template is a usage error', async () => {
    const live = jest.fn(async () => 0);
    const p = program();
    registerCheckCommand(p, io, { addOptions: addLiveCheckOptions, run: live });
    await p.parseAsync(['node', 'cli', 'check', '--stack', 'EcsRunner', '--template', 'x.json']);
    expect(live).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(2);
  });

  test('without a live mode, --stack is an unknown option', async () => {
    const p = program();
    registerCheckCommand(p, io);
    p.commands[0].exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(p.parseAsync(['node', 'cli', 'check', '--stack', 'EcsRunner'])).rejects.toThrow(
      /unknown option '--stack'/,
    );
  });
});
