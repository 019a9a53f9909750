import { Lazy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Orchestrator } from 'platform-orchestrator-ecs-runner';
import { RUNNER_METADATA_KEY, RUNNER_METADATA_VERSION } from '../src/runner-metadata';
import { logicalId, newStack, synthRunner } from './support/stacks';
import { expectValidationError } from './support/validation';

const STELLWERK = { oidcIssuer: 'stellwerk.example.com/oidc', apiUrl: 'https://stellwerk.example.com/api' };

const TASK_DEFS = (scope: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:eu-central-1:123456789012:task-definition/${scope}`]],
});

/** The task-manager role's CfnRole and its runner metadata. */
function managerMetadata(template: ReturnType<typeof synthRunner>['template']): any {
  const id = logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskManagerRole');
  return template.toJSON().Resources[id].Metadata?.[RUNNER_METADATA_KEY];
}

describe('Orchestrator factories', () => {
  test('humanitec(): the hosted defaults', () => {
    const o = Orchestrator.humanitec();
    expect([o.name, o.oidcIssuer, o.apiUrl, o.taskDefinitionFamilyPrefix]).toEqual([
      'humanitec',
      'oidc.humanitec.dev',
      'https://api.humanitec.dev',
      'humanitec_',
    ]);
    expect(o.taskDefinitionFamilyScope('my-org')).toBe('humanitec_*');
  });

  test('stellwerk(): its own issuer and API; its families carry the org id, so the scope does', () => {
    const o = Orchestrator.stellwerk(STELLWERK);
    expect([o.name, o.oidcIssuer, o.apiUrl, o.taskDefinitionFamilyPrefix]).toEqual([
      'stellwerk',
      'stellwerk.example.com/oidc',
      'https://stellwerk.example.com/api',
      'platform_orchestrator_',
    ]);
    expect(o.taskDefinitionFamilyScope('my-org')).toBe('platform_orchestrator_env_my-org_*');
  });

  test('custom(): all three given; the scope is the prefix', () => {
    const o = Orchestrator.custom({ ...STELLWERK, taskDefinitionFamilyPrefix: 'acme-' });
    expect([o.name, o.taskDefinitionFamilyPrefix, o.taskDefinitionFamilyScope('my-org')]).toEqual([
      'custom',
      'acme-',
      'acme-*',
    ]);
  });

  test.each([
    ['issuer with scheme', { ...STELLWERK, oidcIssuer: 'https://stellwerk.example.com' }, 'orchestrator.oidcIssuer'],
    ['issuer with trailing slash', { ...STELLWERK, oidcIssuer: 'stellwerk.example.com/' }, 'orchestrator.oidcIssuer'],
    ['issuer without a domain', { ...STELLWERK, oidcIssuer: 'localhost' }, 'orchestrator.oidcIssuer'],
    ['API URL without scheme', { ...STELLWERK, apiUrl: 'stellwerk.example.com' }, 'orchestrator.apiUrl'],
    ['plain-http API URL', { ...STELLWERK, apiUrl: 'http://stellwerk.example.com' }, 'orchestrator.apiUrl'],
    ['API URL with credentials', { ...STELLWERK, apiUrl: 'https://u:p@stellwerk.example.com' }, 'orchestrator.apiUrl'],
    ['API URL with a query', { ...STELLWERK, apiUrl: 'https://stellwerk.example.com/?x=1' }, 'orchestrator.apiUrl'],
  ])('stellwerk() refuses an %s with the library error', (_name, options, property) => {
    const error = expectValidationError(() => Orchestrator.stellwerk(options), property);
    expect(error.message).toMatch(/Expected an? /);
  });

  test.each(['', 'a:b', 'x'.repeat(201)])('custom() refuses the family prefix %j', (prefix) => {
    expectValidationError(
      () => Orchestrator.custom({ ...STELLWERK, taskDefinitionFamilyPrefix: prefix }),
      'orchestrator.taskDefinitionFamilyPrefix',
    );
  });

  test('unresolved tokens pass through unchecked, except the issuer, which names condition keys', () => {
    const token = Lazy.string({ produce: () => 'x' });
    expect(() =>
      Orchestrator.custom({ oidcIssuer: 'oidc.example.com', apiUrl: token, taskDefinitionFamilyPrefix: token }),
    ).not.toThrow();
    const error = expectValidationError(
      () => Orchestrator.custom({ oidcIssuer: token, apiUrl: token, taskDefinitionFamilyPrefix: token }),
      'orchestrator.oidcIssuer',
    );
    expect(error.message).toMatch(/a token cannot be a condition key/);
  });
});

describe('EcsRunner with an orchestrator', () => {
  test('Stellwerk: trust, provider, task-manager scope and registration API all follow it', () => {
    // GIVEN
    const stack = newStack();
    const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token');
    // WHEN
    const { template, runner } = synthRunner(
      { orchestrator: Orchestrator.stellwerk(STELLWERK), runnerId: 'sw-runner', registration: { apiTokenSecret } },
      stack,
    );
    // THEN
    expect(runner.orchestrator.name).toBe('stellwerk');
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://stellwerk.example.com/oidc' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: {
                'stellwerk.example.com/oidc:aud': 'sts.amazonaws.com',
                'stellwerk.example.com/oidc:sub': 'my-org+sw-runner',
              },
            },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'RegisterRunnerTaskDefinitions',
            Resource: TASK_DEFS('platform_orchestrator_env_my-org_*'),
          }),
          Match.objectLike({
            Sid: 'RunRunnerTasksOnRunnerClusterOnly',
            Resource: TASK_DEFS('platform_orchestrator_env_my-org_*'),
          }),
        ]),
      },
    });
    template.hasResourceProperties('Custom::PlatformOrchestratorRunner', {
      ApiUrl: 'https://stellwerk.example.com/api',
    });
  });

  test('the task-manager role carries the runner metadata for template-only tools', () => {
    // GIVEN / WHEN
    const humanitec = synthRunner({ runnerId: 'r1' }).template;
    const stellwerk = synthRunner({ runnerId: 'r2', orchestrator: Orchestrator.stellwerk(STELLWERK) }).template;
    // THEN the shape of src/runner-metadata.ts, filled from the orchestrator
    expect(managerMetadata(humanitec)).toEqual({
      version: RUNNER_METADATA_VERSION,
      orgId: 'my-org',
      runnerId: 'r1',
      orchestrator: {
        name: 'humanitec',
        issuer: 'oidc.humanitec.dev',
        apiUrl: 'https://api.humanitec.dev',
        taskDefinitionFamilyPrefix: 'humanitec_',
        taskDefinitionFamilyScope: 'humanitec_*',
      },
    });
    expect(managerMetadata(stellwerk)).toEqual({
      version: RUNNER_METADATA_VERSION,
      orgId: 'my-org',
      runnerId: 'r2',
      orchestrator: {
        name: 'stellwerk',
        issuer: 'stellwerk.example.com/oidc',
        apiUrl: 'https://stellwerk.example.com/api',
        taskDefinitionFamilyPrefix: 'platform_orchestrator_',
        taskDefinitionFamilyScope: 'platform_orchestrator_env_my-org_*',
      },
    });
  });
});
