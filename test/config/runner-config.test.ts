/**
 * The factory classes of the options objects (RunnerNetwork, RunnerEncryption, StateBucket,
 * StateAccessLogs) and RegistrationOptions, as resolved by src/config: a plain JavaScript caller's
 * hand-written values get the library error naming the nested prop, the network choices are checked
 * against their VPC, and the caller's props are never mutated.
 */
import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  EcsRunner,
  EcsRunnerProps,
  RunnerEncryption,
  RunnerNetwork,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { minimalProps, newStack, SUBNETS } from '../support/stacks';
import { expectValidationError } from '../support/validation';

/** The runner's own resources: none of a refused runner may be left in the stack. */
function runnerResources(stack: Stack): string[] {
  const runner = stack.node.tryFindChild('Runner');
  return (runner?.node.findAll() ?? []).filter((c) => CfnResource.isCfnResource(c)).map((c) => c.node.path);
}

/** [case, props change, property the error names, the bad value as the message shows it, the accepted kinds] */
const BAD_KINDS: Array<[string, (stack: Stack) => Partial<EcsRunnerProps>, string, string, string]> = [
  [
    'network',
    () => ({ network: { kind: 'EXISTING_SUBNETS', subnetIds: [...SUBNETS] } as any }),
    'network.kind',
    'EXISTING_SUBNETS',
    'CREATE_VPC, FROM_VPC, FROM_SUBNETS, FROM_SUBNET_IDS',
  ],
  [
    'encryption',
    () => ({ encryption: { kind: 'KMS' } as any }),
    'encryption.kind',
    'KMS',
    'S3_MANAGED, CREATE_KEY, FROM_KEY',
  ],
  [
    'state.bucket',
    (s) => ({ state: { bucket: { kind: 'IMPORTED', bucket: s3.Bucket.fromBucketName(s, 'B', 'my-bucket') } as any } }),
    'state.bucket.kind',
    'IMPORTED',
    'CREATE, FROM_BUCKET',
  ],
  [
    'state.bucket.accessLogs',
    () => ({ state: { bucket: StateBucket.create({ accessLogs: { kind: 'OFF' } as any }) } }),
    'state.bucket.accessLogs.kind',
    'OFF',
    'STACK_BUCKET, TO_BUCKET, DISABLED',
  ],
];

describe('hand-written factory values', () => {
  test.each(BAD_KINDS)(
    '%s with an unknown kind: the library error names <prop>.kind',
    (_name, change, property, value, kinds) => {
      // GIVEN a plain JavaScript caller's object in place of the factory's
      const stack = newStack();
      // WHEN / THEN
      const error = expectValidationError(
        () => new EcsRunner(stack, 'Runner', { ...minimalProps(), ...change(stack) }),
        property,
      );
      expect(error.message).toContain(`"${value}"`);
      expect(error.message).toContain(`Expected one of ${kinds}.`);
      expect(runnerResources(stack)).toEqual([]);
    },
  );

  test('a hand-written object of a known kind is taken like the factory value', () => {
    // GIVEN the same subnets, once hand-written and once from the factory
    const byHand = new EcsRunner(newStack(), 'Runner', {
      orgId: 'my-org',
      network: { kind: 'FROM_SUBNET_IDS', subnetIds: [...SUBNETS] } as any,
    });
    // WHEN
    const byFactory = new EcsRunner(newStack(), 'Runner', minimalProps());
    // THEN both runners run their jobs in those subnets
    expect(byHand.subnetIds).toEqual(SUBNETS);
    expect(byFactory.subnetIds).toEqual(byHand.subnetIds);
  });

  test('registration without apiTokenSecret names registration.apiTokenSecret', () => {
    // GIVEN / WHEN registration options without the secret (only a caller without a compiler can write that)
    const stack = newStack();
    const error = expectValidationError(
      () => new EcsRunner(stack, 'Runner', minimalProps({ registration: {} as any })),
      'registration.apiTokenSecret',
    );
    // THEN the accepted form says what the secret holds, and nothing was built
    expect(error.message).toMatch(/Expected a Secrets Manager secret with the orchestrator API token/);
    expect(runnerResources(stack)).toEqual([]);
  });
});

describe('network choices are checked against their VPC', () => {
  test('fromSubnetIds(ids, { vpc }) with an id that is not the VPC’s names network.subnetIds[i]', () => {
    // GIVEN a VPC that lists its subnets, and ids of which the first is not one of them
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      privateSubnetIds: [...SUBNETS],
    });
    const foreign = 'subnet-0aaaaaaaaaaaaaaaa';
    // WHEN / THEN
    const error = expectValidationError(
      () =>
        new EcsRunner(
          stack,
          'Runner',
          minimalProps({ network: RunnerNetwork.fromSubnetIds([foreign, SUBNETS[0]], { vpc }) }),
        ),
      'network.subnetIds[0]',
    );
    expect(error.message).toContain(`"${foreign}"`);
    expect(error.message).toContain(`a subnet of vpc vpc-0123456789abcdef0 (${SUBNETS.join(', ')})`);
    expect(runnerResources(stack)).toEqual([]);
    // AND the VPC's own ids, in any order, are accepted
    expect(
      () =>
        new EcsRunner(stack, 'Other', {
          orgId: 'my-org',
          network: RunnerNetwork.fromSubnetIds([SUBNETS[1], SUBNETS[0]], { vpc }),
        }),
    ).not.toThrow();
  });

  test('fromVpc(vpc) of an imported VPC without private subnets names network, with the VPC id', () => {
    // GIVEN an imported VPC that has only public subnets
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'PublicOnly', {
      vpcId: 'vpc-0fedcba9876543210',
      availabilityZones: ['eu-central-1a'],
      publicSubnetIds: [SUBNETS[0]],
    });
    // WHEN / THEN the library's error, not CDK's "There are no 'Private' subnet groups"
    const error = expectValidationError(
      () => new EcsRunner(stack, 'Runner', minimalProps({ network: RunnerNetwork.fromVpc(vpc) })),
      'network',
    );
    expect(error.message).toContain('"vpc-0fedcba9876543210"');
    expect(error.message).toMatch(/PRIVATE_WITH_EGRESS.*RunnerNetwork\.fromSubnets\(subnets, \{ vpc \}\)/);
    expect(runnerResources(stack)).toEqual([]);
  });
});

/**
 * A copy of the props' data: plain objects, arrays and the factory classes' values are copied
 * (keeping their class), constructs and other class instances (a RemovalPolicy is a string) are
 * kept by reference, so a replaced construct shows as a difference and a changed one does not
 * need a deep copy of the construct tree.
 */
function copyOfData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyOfData);
  if (value === null || typeof value !== 'object') return value;
  const proto = Object.getPrototypeOf(value);
  const copied =
    proto === Object.prototype ||
    [RunnerNetwork, RunnerEncryption, StateBucket, StateAccessLogs].some((factory) => value instanceof factory);
  if (!copied) return value;
  const copy = Object.create(proto);
  for (const [key, member] of Object.entries(value)) copy[key] = copyOfData(member);
  return copy;
}

describe("the caller's props are not mutated", () => {
  test.each<[string, (stack: Stack) => EcsRunnerProps]>([
    [
      'a created VPC, a created key, a created bucket with every option, and registration',
      (stack) => ({
        orgId: 'my-org',
        runnerId: 'prod-runner',
        network: RunnerNetwork.createVpc({ natGateways: 2, flowLogRetention: logs.RetentionDays.ONE_MONTH }),
        encryption: RunnerEncryption.createKey(),
        state: {
          pathPrefix: 'runners/prod',
          bucket: StateBucket.create({
            restrictAccess: true,
            administrators: [iam.Role.fromRoleName(stack, 'Admin', 'break-glass')],
            noncurrentVersionTransitionDays: 60,
            noncurrentVersionExpirationDays: 120,
            abortIncompleteMultipartUploadDays: 3,
            accessLogs: StateAccessLogs.stackBucket({ retentionDays: 90 }),
          }),
        },
        registration: {
          apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token'),
          adoptExisting: true,
          removalPolicy: RemovalPolicy.RETAIN,
          rules: [{ environmentType: 'development' }, { projectId: 'app' }],
        },
        environment: { A: '1' },
        tags: { Team: 'platform' },
        requiredTagKeys: ['Team'],
      }),
    ],
    [
      'the user’s subnets with their VPC, bucket and access-logs defaults',
      (stack) => ({
        orgId: 'my-org',
        runnerId: 'prod-runner',
        network: RunnerNetwork.fromSubnets(
          SUBNETS.map((id, i) => ec2.Subnet.fromSubnetId(stack, `S${i}`, id)),
          {
            vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
              vpcId: 'vpc-0123456789abcdef0',
              availabilityZones: ['eu-central-1a'],
            }),
          },
        ),
        encryption: RunnerEncryption.s3Managed(),
        state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.disabled() }) },
        securityGroupIds: ['sg-0123456789abcdef0'],
      }),
    ],
    [
      'empty options objects, where the defaults would go',
      (stack) => ({
        orgId: 'my-org',
        runnerId: 'prod-runner',
        network: RunnerNetwork.createVpc(),
        state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.stackBucket() }) },
        registration: { apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token') },
      }),
    ],
    [
      'the user’s bucket and key',
      (stack) => ({
        orgId: 'my-org',
        runnerId: 'prod-runner',
        network: RunnerNetwork.fromSubnetIds([...SUBNETS]),
        encryption: RunnerEncryption.fromKey(new kms.Key(stack, 'Key')),
        state: { bucket: StateBucket.fromBucket(s3.Bucket.fromBucketName(stack, 'Own', 'own-bucket')) },
      }),
    ],
  ])('%s: deep-equal before and after synthesis', (_name, propsOf) => {
    // GIVEN the caller's props and a copy of their data
    const stack = newStack();
    const props = propsOf(stack);
    const before = copyOfData(props);
    // WHEN a runner is built from them and the stack synthesized
    new EcsRunner(stack, 'Runner', props);
    Template.fromStack(stack);
    // THEN the props, and every options object in them, are as they were (no key added, none defaulted)
    expect(props).toStrictEqual(before);
  });
});
