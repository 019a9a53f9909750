import { App, CfnResource, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EcsRunner, EcsRunnerProps, RunnerErrors, RunnerNetwork, StateBucket } from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from './support/cfn';
import { assertValid } from './support/openapi';
import { secretFromArn, rawSecret } from './support/secrets';
import { minimalProps, newStack, synthRunner } from './support/stacks';

const SECRET = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf';

/** [case, props change, property named in the error, text of the accepted form] */
const INVALID: Array<[string, (stack: any) => Partial<EcsRunnerProps>, string, RegExp]> = [
  ['org id with capitals', () => ({ orgId: 'My-Org' }), 'orgId', /lowercase letters/],
  ['runner id with capitals', () => ({ runnerId: 'Prod' }), 'runnerId', /\^\[a-z\]\[a-z0-9_-\]\+\$/],
  ['runner id of one character', () => ({ runnerId: 'p' }), 'runnerId', /pattern/],
  ['runner id starting with a digit', () => ({ runnerId: '1runner' }), 'runnerId', /pattern/],
  [
    'runner id and prefix together',
    () => ({ runnerId: 'abc', runnerIdPrefix: 'x' }),
    'runnerIdPrefix',
    /no runnerIdPrefix/,
  ],
  ['prefix with a dot', () => ({ runnerIdPrefix: 'a.b' }), 'runnerIdPrefix', /lowercase letter/],
  [
    'provider ARN of another service',
    () => ({ oidcProviderArn: 'arn:aws:iam::123456789012:role/x' }),
    'oidcProviderArn',
    /oidc-provider/,
  ],
  ['no subnets', () => ({ network: RunnerNetwork.fromSubnetIds([]) }), 'network.subnetIds', /1 to 16/],
  [
    'flow logs kept forever',
    () => ({ network: RunnerNetwork.createVpc({ flowLogRetention: logs.RetentionDays.INFINITE }) }),
    'network.flowLogRetention',
    /finite retention/,
  ],
  [
    'a flow-log retention CloudWatch Logs does not offer',
    () => ({ network: RunnerNetwork.createVpc({ flowLogRetention: 42 as logs.RetentionDays }) }),
    'network.flowLogRetention',
    /finite retention/,
  ],
  [
    '17 subnets',
    () => ({
      network: RunnerNetwork.fromSubnetIds(
        Array.from({ length: 17 }, (_, i) => `subnet-0123456789abcde${i.toString(16).padStart(2, '0')}`),
      ),
    }),
    'network.subnetIds',
    /1 to 16/,
  ],
  [
    'malformed subnet id',
    () => ({ network: RunnerNetwork.fromSubnetIds(['subnet-xyz']) }),
    'network.subnetIds[0]',
    /subnet-0123456789abcdef0/,
  ],
  [
    'three NAT gateways',
    () => ({ network: RunnerNetwork.createVpc({ natGateways: 3 }) }),
    'network.natGateways',
    /1 to 2|between 1 and 2/,
  ],
  [
    '6 security groups',
    () => ({
      securityGroupIds: Array.from({ length: 6 }, (_, i) => `sg-0123456789abcde${i.toString(16).padStart(2, '0')}`),
    }),
    'securityGroups and securityGroupIds',
    /at most 5/,
  ],
  [
    'malformed security group id',
    () => ({ securityGroupIds: ['sg-1'] }),
    'securityGroupIds[0]',
    /sg-0123456789abcdef0/,
  ],
  [
    'environment value over 1024',
    () => ({ environment: { BIG: 'x'.repeat(1025) } }),
    'environment.BIG',
    /0 to 1024 characters/,
  ],
  ['environment name with dash', () => ({ environment: { 'A-B': '1' } }), 'environment key', /variable name/],
  [
    'secret without suffix',
    () => ({ secrets: { DB: rawSecret('arn:aws:secretsmanager:eu-central-1:123456789012:secret:db') } }),
    'secrets.DB',
    /6-character suffix/,
  ],
  [
    'secret from another service',
    () => ({ secrets: { DB: rawSecret('arn:aws:s3:::bucket/key') } }),
    'secrets.DB',
    /SSM parameter/,
  ],
  [
    'secret also in environment',
    (stack) => ({ secrets: { DB: secretFromArn(stack, SECRET) }, environment: { DB: 'x' } }),
    'secrets.DB',
    /not also in environment/,
  ],
  ['image with spaces', () => ({ image: 'my image' }), 'image', /container image/],
  ['session name too short', () => ({ sessionName: 'ab' }), 'sessionName', /3 to 64/],
  ['sts region malformed', () => ({ stsRegion: 'Europe' }), 'stsRegion', /eu-central-1/],
  [
    'bucket name with dots',
    (s) => ({ state: { bucket: StateBucket.fromBucket(s3.Bucket.fromBucketName(s, 'B', 'my.bucket')) } }),
    'state.bucket.bucketName',
    /no dots/,
  ],
  ['path prefix with leading slash', () => ({ state: { pathPrefix: '/state' } }), 'state.pathPrefix', /separated by/],
  ['path prefix with a doubled slash', () => ({ state: { pathPrefix: 'a//b' } }), 'state.pathPrefix', /single "\/"/],
  [
    'path prefix with a "." segment',
    () => ({ state: { pathPrefix: 'a/./b' } }),
    'state.pathPrefix',
    /without "\." or "\.\."/,
  ],
  ['path prefix with a ".." segment', () => ({ state: { pathPrefix: 'runners/../b' } }), 'state.pathPrefix', /\.\./],
  ['path prefix that is only ".."', () => ({ state: { pathPrefix: '../' } }), 'state.pathPrefix', /\.\./],
  ...['ORG_ID', 'DEPLOYMENT_ID', 'MODE', 'TOKEN', 'ENCRYPTING_KEY', 'PLATFORM_ORCHESTRATOR_BASE_URL'].map(
    (name): [string, () => Partial<EcsRunnerProps>, string, RegExp] => [
      `job variable ${name} that the API reserves`,
      () => ({ environment: { [name]: 'x' } }),
      'environment key',
      /does not reserve/,
    ],
  ),
  [
    'API-reserved name as a secret',
    (stack) => ({ secrets: { TOKEN: secretFromArn(stack, SECRET) } }),
    'secrets key',
    /does not reserve .*ORG_ID, DEPLOYMENT_ID, MODE, TOKEN, ENCRYPTING_KEY, PLATFORM_ORCHESTRATOR_BASE_URL/,
  ],
  ...['RUNNER_ID', 'DEPLOYMENT_ENV_UUID', 'ENCRYPTING_LOGS_KEY', 'LOG_LEVEL', 'RUNNER_GATEWAY_URL', 'METADATA_KEY'].map(
    (name): [string, () => Partial<EcsRunnerProps>, string, RegExp] => [
      `job variable ${name} that the orchestrator sets itself`,
      () => ({ environment: { [name]: 'x' } }),
      'environment key',
      /does not set itself/,
    ],
  ),
  [
    'orchestrator-set name as a secret',
    (stack) => ({ secrets: { LOG_LEVEL: secretFromArn(stack, SECRET) } }),
    'secrets key',
    /does not set itself/,
  ],
  [
    'RUNNER_GIT_SSH_KEYS as a plain variable',
    () => ({ environment: { RUNNER_GIT_SSH_KEYS: 'ssh-ed25519 AAAA' } }),
    'environment key',
    /RUNNER_GIT_SSH_KEYS in secrets/,
  ],
  [
    'transition before 30 days',
    () => ({ state: { bucket: StateBucket.create({ noncurrentVersionTransitionDays: 10 }) } }),
    'state.bucket.noncurrentVersionTransitionDays',
    /30 to 36500/,
  ],
  [
    'expiration before transition',
    () => ({ state: { bucket: StateBucket.create({ noncurrentVersionExpirationDays: 30 }) } }),
    'state.bucket.noncurrentVersionExpirationDays',
    /more days than/,
  ],
  [
    'fractional multipart days',
    () => ({ state: { bucket: StateBucket.create({ abortIncompleteMultipartUploadDays: 1.5 }) } }),
    'state.bucket.abortIncompleteMultipartUploadDays',
    /whole number/,
  ],
  ['role path without trailing slash', () => ({ rolePath: '/platform' }), 'rolePath', /starts and ends/],
  ['tag key with aws: prefix', () => ({ tags: { 'aws:owner': 'x' } }), 'tags key', /reserved prefix/],
  ['tag value too long', () => ({ tags: { Owner: 'x'.repeat(257) } }), 'tags.Owner', /0 to 256/],
  [
    'assumable role not a role',
    () => ({ assumableRoleArns: ['arn:aws:iam::123456789012:user/x'] }),
    'assumableRoleArns[0]',
    /IAM role ARN/,
  ],
];

describe('invalid props fail at synth time with the library error', () => {
  test.each(INVALID)('%s', (_name, change, property, accepted) => {
    const stack = newStack();
    let error: any;
    try {
      new EcsRunner(stack, 'Runner', { ...minimalProps(), ...change(stack) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    expect(RunnerErrors.isValidationError(error)).toBe(true);
    expect(RunnerErrors.propertyOf(error)).toBe(property);
    expect(error.message).toMatch(new RegExp(`^Invalid ${property.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(error.message).toMatch(accepted);
    // Nothing half-built: the failed runner added no resources.
    expect(
      stack.node
        .findAll()
        .filter((c) => CfnResource.isCfnResource(c))
        .map((c) => c.node.path),
    ).toEqual([]);
  });

  test('the stack region must be one the API accepts', () => {
    const stack = newStack({ env: { account: '123456789012', region: 'us-gov-west-1' } });
    expect(() => new EcsRunner(stack, 'Runner', minimalProps())).toThrow(/Invalid stack region: "us-gov-west-1"/);
  });

  test('RunnerErrors recognises only the library error', () => {
    expect(RunnerErrors.isValidationError(new Error('x'))).toBe(false);
    expect(RunnerErrors.propertyOf('x')).toBeUndefined();
  });
});

describe('required tag keys are checked when the app is synthesized', () => {
  test('a missing key fails synthesis, naming the key', () => {
    // GIVEN a runner that requires CostCenter but only has Owner
    const stack = newStack();
    new EcsRunner(stack, 'Runner', minimalProps({ requiredTagKeys: ['Owner', 'CostCenter'], tags: { Owner: 'me' } }));
    // WHEN / THEN
    expect(() => Template.fromStack(stack)).toThrow(
      /Invalid tags: .*Expected a value for the required tag key "CostCenter"/,
    );
  });

  test('keys from Tags.of(app), stack tags and props all count', () => {
    // GIVEN tags from three places
    const stack = newStack({ tags: { Owner: 'platform' } });
    Tags.of(stack.node.root).add('Environment', 'prod');
    new EcsRunner(
      stack,
      'Runner',
      minimalProps({ requiredTagKeys: ['Owner', 'Environment', 'CostCenter'], tags: { CostCenter: '42' } }),
    );
    // WHEN / THEN synthesis succeeds; the role carries the resource tags, CloudFormation adds the stack's
    const template = Template.fromStack(stack);
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.includes('TaskRole'))![1];
    const tags = Object.fromEntries(role.Properties.Tags.map((t: any) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ Environment: 'prod', CostCenter: '42' });
    expect(stack.tags.tagValues()).toMatchObject({ Owner: 'platform' });
  });
});

describe('unresolved tokens pass unchecked', () => {
  test('token org id, runner id, subnets, secrets, environment and bucket', () => {
    const stack = newStack();
    const token = (s: string) => Lazy.string({ produce: () => s });
    const runner = new EcsRunner(stack, 'Runner', {
      orgId: token('ORG'),
      runnerId: token('ID'),
      network: RunnerNetwork.fromSubnetIds([token('S')]),
      securityGroupIds: [token('G')],
      secrets: { DB: rawSecret(token('not-an-arn')) },
      environment: { E: token('v') },
      image: token('img'),
      state: {
        pathPrefix: token('p'),
        bucket: StateBucket.fromBucket(s3.Bucket.fromBucketName(stack, 'B', token('b'))),
      },
      tags: { T: token('v') },
    });
    expect(Token.isUnresolved(runner.runnerId)).toBe(true);
  });

  test('environment-agnostic stacks synthesize with a region token in the body', () => {
    const stack = newStack({ env: undefined });
    new EcsRunner(stack, 'Runner', minimalProps());
    const [body] = registrationBodies(Template.fromStack(stack).toJSON());
    assertValid('RunnerCreateBody', body);
  });
});

describe('valid edge values are accepted', () => {
  const SUBNETS_16 = Array.from({ length: 16 }, (_, i) => `subnet-0123456789abcde${i.toString(16).padStart(2, '0')}`);
  const GROUPS_5 = Array.from({ length: 5 }, (_, i) => `sg-0123456789abcde${i.toString(16).padStart(2, '0')}`);
  /** [case, props change, what the synthesized runner shows of the edge value] */
  const EDGES: Array<[string, Partial<EcsRunnerProps>, (body: any, template: Template, stack: Stack) => void]> = [
    ['runner id of two characters', { runnerId: 'ab' }, (body) => expect(body.id).toBe('ab')],
    [
      'environment value of exactly 1024',
      { environment: { BIG: 'x'.repeat(1024) } },
      (body) => expect(body.runner_configuration.job.environment).toEqual({ BIG: 'x'.repeat(1024) }),
    ],
    [
      '16 subnets',
      { network: RunnerNetwork.fromSubnetIds(SUBNETS_16) },
      (body) => expect(body.runner_configuration.job.subnets).toEqual(SUBNETS_16),
    ],
    [
      '5 security groups',
      { securityGroupIds: GROUPS_5 },
      (body) => expect(body.runner_configuration.job.security_groups).toEqual(GROUPS_5),
    ],
    [
      'SSM parameter secret',
      { secrets: { P: rawSecret('arn:aws:ssm:eu-central-1:123456789012:parameter/a/b') } },
      (body) =>
        expect(body.runner_configuration.job.secrets).toEqual({
          P: 'arn:aws:ssm:eu-central-1:123456789012:parameter/a/b',
        }),
    ],
    [
      'image with digest',
      { image: 'public.ecr.aws/acme/runner@sha256:0123456789abcdef' },
      (body) => expect(body.runner_configuration.job.image).toBe('public.ecr.aws/acme/runner@sha256:0123456789abcdef'),
    ],
    [
      'session name of exactly 64 characters',
      { sessionName: 's'.repeat(64) },
      (body) => expect(body.runner_configuration.auth.session_name).toBe('s'.repeat(64)),
    ],
    [
      "path prefix with a trailing slash (the job's path join removes it; the grant is the same key)",
      { state: { pathPrefix: 'runners/prod/' } },
      (body) => expect(body.state_storage_configuration.path_prefix).toBe('runners/prod/'),
    ],
    [
      'path prefix segments with dots that are not "." or ".."',
      { state: { pathPrefix: 'a.b/..c/v1.2' } },
      (body) => expect(body.state_storage_configuration.path_prefix).toBe('a.b/..c/v1.2/'),
    ],
    [
      'RUNNER_GIT_SSH_KEYS as a secret',
      { secrets: { RUNNER_GIT_SSH_KEYS: rawSecret(SECRET) } },
      (body) => expect(body.runner_configuration.job.secrets).toEqual({ RUNNER_GIT_SSH_KEYS: SECRET }),
    ],
    [
      'a long org and runner id: the orchestrator cuts the default session name, so it is legal',
      { orgId: 'a'.repeat(40), runnerId: 'r'.repeat(30) },
      (body) => expect(body.runner_configuration.auth.session_name).toBeUndefined(),
    ],
    [
      'required tags given as stack tags',
      { requiredTagKeys: ['Owner'] },
      (_body, _template, stack) =>
        expect(App.of(stack)!.synth().getStackArtifact(stack.artifactId).tags).toEqual({ Owner: 'platform' }),
    ],
  ];

  test.each(EDGES)('%s', (_name, change, showsEdge) => {
    // GIVEN a stack tagged Owner
    const stack = newStack({ env: { account: '123456789012', region: 'eu-central-1' }, tags: { Owner: 'platform' } });
    // WHEN
    const { template } = synthRunner(change, stack);
    // THEN it synthesizes one valid body, which (or whose template) carries the edge value
    const bodies = registrationBodies(template.toJSON());
    expect(bodies).toHaveLength(1);
    assertValid('RunnerCreateBody', bodies[0]);
    showsEdge(bodies[0], template, stack);
  });
});
