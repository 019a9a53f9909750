/**
 * Issue 15: every input gets the library's error or a deployable stack. Typed input that crashed,
 * valid input that was refused, input that synthesized and would fail at deploy or at the API,
 * props that were silently ignored, errors naming props the user never wrote, and plain
 * JavaScript callers' wrongly typed values.
 */
import { App, CfnParameter, CfnResource, Fn, Lazy, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  EcsRunner,
  EcsRunnerProps,
  Orchestrator,
  RunnerEncryption,
  RunnerErrors,
  RunnerNetwork,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from './support/cfn';
import { describeFindings, openCfnFindings, validatedApp } from './support/cfn-validation';
import { assertValid } from './support/openapi';
import { rawSecret } from './support/secrets';
import { minimalProps, newStack, SUBNETS } from './support/stacks';
import { expectValidationError } from './support/validation';

const SSM = 'arn:aws:ssm:eu-central-1:123456789012:parameter/a';

/** Nothing of a refused runner is left in the stack. */
function expectNoResources(stack: Stack): void {
  expect(
    stack.node
      .findAll()
      .filter((c) => CfnResource.isCfnResource(c))
      .map((c) => c.node.path),
  ).toEqual([]);
}

/** [case, props change, property the error names, text of the accepted form] */
type Refusal = [string, (stack: Stack) => Partial<EcsRunnerProps>, string, RegExp];

const REFUSED: Refusal[] = [
  // Crashes on typed input.
  ['tags as a Lazy', () => ({ tags: Lazy.any({ produce: () => ({ Owner: 'me' }) }) as any }), 'tags', /concrete keys/],
  [
    'a vpc with no private subnets with egress',
    (s) => ({
      network: RunnerNetwork.fromVpc(
        new ec2.Vpc(s, 'PublicOnly', { subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] }),
      ),
    }),
    'network',
    /private subnets with egress.*RunnerNetwork\.fromSubnets/,
  ],
  // Synthesized, then failed at deploy or at the API.
  [
    'a created key with stateReplication and no destination key',
    (s) => ({
      encryption: RunnerEncryption.createKey(),
      state: {
        bucket: StateBucket.create({
          replication: { destinationBucket: s3.Bucket.fromBucketName(s, 'Dr', 'dr-bucket') },
        }),
      },
    }),
    'state.bucket.replication.destinationEncryptionKey',
    /replica key/,
  ],
  ['tag keys that differ only by case', () => ({ tags: { Owner: 'a', owner: 'b' } }), 'tags key', /case/],
  [
    'an SSE-KMS accessLogsBucket',
    (s) => ({
      state: {
        bucket: StateBucket.create({
          accessLogs: StateAccessLogs.toBucket(new s3.Bucket(s, 'KmsLogs', { encryption: s3.BucketEncryption.KMS })),
        }),
      },
    }),
    'state.bucket.accessLogs',
    /SSE-S3/,
  ],
  [
    'an oidcProviderArn of another account',
    () => ({ oidcProviderArn: 'arn:aws:iam::999999999999:oidc-provider/oidc.humanitec.dev' }),
    'oidcProviderArn',
    /own account/,
  ],
  [
    'an oidcProviderArn of another partition',
    () => ({ oidcProviderArn: 'arn:aws-cn:iam::123456789012:oidc-provider/oidc.humanitec.dev' }),
    'oidcProviderArn',
    /partition/,
  ],
  [
    'a cluster of another region',
    (s) => ({ cluster: ecs.Cluster.fromClusterArn(s, 'Far', 'arn:aws:ecs:us-east-1:123456789012:cluster/far') }),
    'cluster',
    /account and region/,
  ],
  [
    'a cluster of another account',
    (s) => ({ cluster: ecs.Cluster.fromClusterArn(s, 'Other', 'arn:aws:ecs:eu-central-1:999999999999:cluster/x') }),
    'cluster',
    /account and region/,
  ],
  [
    'environment given as a token',
    () => ({ environment: Lazy.any({ produce: () => ({ A: 'b' }) }) as any }),
    'environment',
    /concrete variable names/,
  ],
  [
    'secrets given as a token',
    () => ({ secrets: Lazy.any({ produce: () => ({}) }) as any }),
    'secrets',
    /concrete variable names/,
  ],
  // Silently ignored.
  ['containerInsights "bogus"', () => ({ containerInsights: 'bogus' as any }), 'containerInsights', /"enhanced"/],
  // Errors naming a property the user wrote.
  [
    'a malformed runner rule',
    (s) => ({
      registration: {
        apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(s, 'T', 'po/token'),
        rules: [{ environmentType: 'Not_Valid' }],
      },
    }),
    'registration.rules[0].environmentType',
    /lowercase letters/,
  ],
  [
    'duplicate runner rules',
    (s) => ({
      registration: {
        apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(s, 'T', 'po/token'),
        rules: [{ projectId: 'app' }, { projectId: 'app' }],
      },
    }),
    'registration.rules[1]',
    /differ/,
  ],
  [
    'an unknown registration.removalPolicy',
    (s) => ({
      registration: {
        apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(s, 'T', 'po/token'),
        removalPolicy: RemovalPolicy.SNAPSHOT,
      },
    }),
    'registration.removalPolicy',
    /DESTROY or RemovalPolicy.RETAIN/,
  ],
  // Plain JavaScript callers.
  ['assignPublicIp "true"', () => ({ assignPublicIp: 'true' as any }), 'assignPublicIp', /a boolean/],
  ['runnerId null', () => ({ runnerId: null as any }), 'runnerId', /a string/],
  ['description as a list', () => ({ description: ['x'] as any }), 'description', /a string/],
  [
    'subnetIds as a string',
    () => ({ network: RunnerNetwork.fromSubnetIds(SUBNETS[0] as any) }),
    'network: RunnerNetwork.fromSubnetIds(subnetIds)',
    /a list of strings/,
  ],
  ['maxTaskCpu "1024"', () => ({ maxTaskCpu: '1024' as any }), 'maxTaskCpu', /a number/],
  ['cluster {}', () => ({ cluster: {} as any }), 'cluster', /ecs.ICluster/],
  ['vpc {}', () => ({ network: RunnerNetwork.fromVpc({} as any) }), 'network: RunnerNetwork.fromVpc(vpc)', /ec2.IVpc/],
  [
    'state bucket "name"',
    () => ({ state: { bucket: StateBucket.fromBucket('my-bucket' as any) } }),
    'state.bucket: StateBucket.fromBucket(bucket)',
    /s3.IBucket/,
  ],
  ['orchestrator {}', () => ({ orchestrator: {} as any }), 'orchestrator', /Orchestrator/],
  ['securityGroups [{}]', () => ({ securityGroups: [{}] as any }), 'securityGroups', /ec2.ISecurityGroup/],
  ['environment of numbers', () => ({ environment: { A: 1 } as any }), 'environment', /string values/],
  ['tags null', () => ({ tags: null as any }), 'tags', /string values/],
  [
    'replication without a bucket',
    () => ({ state: { bucket: StateBucket.create({ replication: { destinationBucket: 'dr' } as any }) } }),
    'state.bucket.replication.destinationBucket',
    /s3.IBucket/,
  ],
  [
    'registration rules [null]',
    (s) => ({
      registration: {
        apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(s, 'T', 'po/token'),
        rules: [null] as any,
      },
    }),
    'registration.rules',
    /RunnerRuleProps/,
  ],
];

describe('issue 15: refused with the library error naming the prop, nothing built', () => {
  test.each(REFUSED)('%s', (_name, change, property, accepted) => {
    // GIVEN
    const stack = newStack();
    const props = { ...minimalProps(), ...change(stack) };
    const before = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length;
    // WHEN / THEN
    const error = expectValidationError(() => new EcsRunner(stack, 'Runner', props), property);
    expect(error.message).toMatch(accepted);
    // Nothing of the runner was built (resources given in the props may exist).
    const runner = stack.node.tryFindChild('Runner');
    expect(runner === undefined || runner.node.findAll().every((c) => !CfnResource.isCfnResource(c))).toBe(true);
    expect(stack.node.findAll().filter((c) => CfnResource.isCfnResource(c)).length).toBe(before);
  });

  test('any token as the orchestrator oidcIssuer: it would be a condition key', () => {
    // GIVEN a token issuer WHEN the orchestrator is made THEN the library error names it
    const stack = new Stack(new App(), 'S');
    const issuer = new CfnParameter(stack, 'Issuer').valueAsString;
    const error = expectValidationError(
      () =>
        Orchestrator.custom({ oidcIssuer: issuer, apiUrl: 'https://po.example.com', taskDefinitionFamilyPrefix: 'x_' }),
      'orchestrator.oidcIssuer',
    );
    expect(error.message).toMatch(/a token cannot be a condition key/);
    expectValidationError(
      () =>
        Orchestrator.stellwerk({
          oidcIssuer: Lazy.string({ produce: () => 'a.example.com' }),
          apiUrl: 'https://a.example.com',
        }),
      'orchestrator.oidcIssuer',
    );
  });

  test('more than 50 tags on a resource once the stack tags are added fails synthesis', () => {
    // GIVEN 30 runner tags and 25 stack tags (plus ManagedBy): each is allowed on its own
    const runnerTags = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`Runner${i}`, 'x']));
    const stackTags = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Stack${i}`, 'y']));
    const stack = newStack({ tags: stackTags });
    new EcsRunner(stack, 'Runner', minimalProps({ tags: runnerTags }));
    // WHEN / THEN
    expect(() => Template.fromStack(stack)).toThrow(/Invalid tags: "56 tags on TestStack\/Runner\/.*at most 50 tags/);
  });

  test('more than 50 tags on an alarm (a resource with the newer tag interface) fails synthesis', () => {
    // GIVEN a monitored runner, and 51 tags on one of its alarms only (CfnAlarm keeps its tags in
    // cdkTagManager, not in `tags`)
    const stack = newStack();
    const runner = new EcsRunner(stack, 'Runner', minimalProps());
    const monitoring = runner.addMonitoring();
    const alarm = monitoring.node.findAll().find((c) => c instanceof cloudwatch.CfnAlarm)!;
    for (let i = 0; i < 51; i++) Tags.of(alarm).add(`Alarm${i}`, 'x');
    // WHEN / THEN
    expect(() => Template.fromStack(stack)).toThrow(
      /Invalid tags: "52 tags on TestStack\/Runner\/Monitoring\/.*at most 50 tags/,
    );
  });

  test('50 tags in all on each resource synthesize', () => {
    // GIVEN 24 runner tags, 25 stack tags and ManagedBy: 50
    const stack = newStack({ tags: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`Stack${i}`, 'y'])) });
    new EcsRunner(
      stack,
      'Runner',
      minimalProps({ tags: Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`R${i}`, 'x'])) }),
    );
    Tags.of(stack).add('Stack0', 'z'); // the same key again is no extra tag
    // WHEN / THEN
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('a refused runner is the library error even for props that are not an object', () => {
    const stack = newStack();
    expectValidationError(() => new EcsRunner(stack, 'Runner', null as any), 'props');
    expectNoResources(stack);
  });
});

/**
 * Valid input that was refused. Object rows, not tuples: jest-each passes a `done` callback to a
 * test function with more parameters than its row has elements, and then waits for it (each
 * two-element row of a three-parameter function timed out after testTimeout, which looked like a
 * hang in synthesis).
 */
interface Accepted {
  readonly name: string;
  readonly change: (stack: Stack) => Partial<EcsRunnerProps>;
  /** Values of the template's parameters at deploy time, where the sample value would not do. */
  readonly parameters?: Record<string, string | string[]>;
}

const ACCEPTED: Accepted[] = [
  {
    name: 'subnetIds from a List<AWS::EC2::Subnet::Id> parameter',
    change: (s) => ({
      network: RunnerNetwork.fromSubnetIds(
        new CfnParameter(s, 'Subnets', { type: 'List<AWS::EC2::Subnet::Id>' }).valueAsList,
      ),
    }),
  },
  {
    name: 'subnetIds from Fn.split of a parameter',
    change: (s) => ({ network: RunnerNetwork.fromSubnetIds(Fn.split(',', new CfnParameter(s, 'S').valueAsString)) }),
    parameters: { S: SUBNETS.join(',') },
  },
  {
    name: 'securityGroupIds from Lazy.list',
    change: () => ({ securityGroupIds: Lazy.list({ produce: () => ['sg-0123456789abcdef0'] }) }),
  },
  {
    name: 'securityGroupIds from a List<AWS::EC2::SecurityGroup::Id> parameter',
    change: (s) => ({
      securityGroupIds: new CfnParameter(s, 'Groups', { type: 'List<AWS::EC2::SecurityGroup::Id>' }).valueAsList,
    }),
  },
  {
    name: 'assumableRoleArns from Fn.split',
    change: (s) => ({ assumableRoleArns: Fn.split(',', new CfnParameter(s, 'R').valueAsString) }),
    parameters: { R: 'arn:aws:iam::210987654321:role/deploy' },
  },
  {
    name: 'requiredTagKeys from Fn.split',
    change: (s) => ({ requiredTagKeys: Fn.split(',', new CfnParameter(s, 'K').valueAsString) }),
  },
  {
    name: 'a secret named constructor with environment',
    change: () => ({ environment: { A: 'b' }, secrets: { constructor: rawSecret(SSM) } }),
  },
  {
    name: 'a secret named toString with environment',
    change: () => ({ environment: { A: 'b' }, secrets: { toString: rawSecret(SSM) } }),
  },
  {
    name: 'an oidcProviderArn and cluster of the stack',
    change: (s) => ({
      oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.humanitec.dev',
      cluster: ecs.Cluster.fromClusterArn(s, 'Own', 'arn:aws:ecs:eu-central-1:123456789012:cluster/own'),
    }),
  },
  {
    name: 'a created key with stateReplication and a destination key',
    change: (s) => ({
      encryption: RunnerEncryption.createKey(),
      state: {
        bucket: StateBucket.create({
          replication: {
            destinationBucket: s3.Bucket.fromBucketAttributes(s, 'Dr', {
              bucketName: 'dr-bucket',
              region: 'eu-west-1',
            }),
            destinationEncryptionKey: kms.Key.fromKeyArn(s, 'DrKey', 'arn:aws:kms:eu-west-1:123456789012:key/abcd'),
          },
        }),
      },
    }),
  },
];

describe('issue 15: valid input synthesizes a schema-valid body', () => {
  test.each(ACCEPTED)('$name', ({ change, parameters }) => {
    // GIVEN
    const app = validatedApp();
    const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-central-1' } });
    // WHEN
    new EcsRunner(stack, 'Runner', { ...minimalProps(), ...change(stack) });
    const assembly = app.synth();
    // THEN the body is one the API accepts, and CDK's CloudFormation validation finds no error
    const bodies = registrationBodies(assembly.getStackByName(stack.stackName).template, { parameters });
    expect(bodies).toHaveLength(1);
    assertValid('RunnerCreateBody', bodies[0]);
    const errors = openCfnFindings(app, assembly).filter((f) => f.severity === 'error');
    expect(describeFindings(errors)).toBe('');
  });

  test('securityGroupIds as a list token cannot be combined with securityGroups', () => {
    const stack = newStack();
    const error = expectValidationError(
      () =>
        new EcsRunner(
          stack,
          'Runner',
          minimalProps({
            securityGroupIds: Lazy.list({ produce: () => ['sg-0123456789abcdef0'] }),
            securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'G', 'sg-0fedcba9876543210')],
          }),
        ),
      'securityGroups',
    );
    expect(error.message).toMatch(/list token/);
  });

  test('RunnerErrors recognises each refusal above', () => {
    // The property names are the props' own names (or their paths), as the user wrote them, and
    // a factory's argument is named by the call that took it.
    const path = String.raw`[a-zA-Z]+(\[\d+\])?(\.[a-zA-Z]+(\[\d+\])?)*`;
    const call = String.raw`(: [A-Z][a-zA-Z]+\.[a-zA-Z]+\([a-zA-Z]+(, \{ [a-zA-Z]+ \})?\))?`;
    const named = new RegExp(`^${path}${call}( key)?$`);
    expect(REFUSED.filter(([, , property]) => !named.test(property))).toEqual([]);
    expect(RunnerErrors.isValidationError(new Error('x'))).toBe(false);
  });
});
