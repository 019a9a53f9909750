/**
 * The production profile: what examples/complete-production deploys, defined once. The example's
 * app.ts, the compliance suite (test/support/profiles.ts) and the benchmark (bench/) all build
 * their production runner from these two functions, so a change of the runner's props is made
 * here and nowhere else.
 *
 * Every identifier comes from the context (cdk.json, or `-c key=value`; lists and maps as JSON);
 * the fallbacks are cdk.json's placeholders.
 */
import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  EcsRunnerProps,
  RunnerEncryption,
  RunnerMonitoringOptions,
  RunnerNetwork,
  RunnerRuleProps,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';

/** The tag keys every resource of the runner must carry. */
export const REQUIRED_TAG_KEYS = ['Environment', 'Owner', 'CostCenter', 'ComplianceScope'];

function context<T>(scope: Construct, key: string, fallback: T): T {
  return scope.node.tryGetContext(key) ?? fallback;
}

/** The production stack's environment, description and governance tags. */
export function productionStackProps(scope: Construct): StackProps & { readonly tags: Record<string, string> } {
  return {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context(scope, 'region', 'eu-central-1') },
    description: 'Platform Orchestrator serverless ECS runner (complete production)',
    tags: context<Record<string, string>>(scope, 'tags', {
      Environment: 'production',
      Owner: 'platform-team',
      CostCenter: 'cc-1234',
      ComplianceScope: 'pci',
    }),
  };
}

/** The production runner: its props, its monitoring, and the VPC its jobs run in. */
export interface ProductionRunner {
  readonly props: EcsRunnerProps;
  readonly monitoring: RunnerMonitoringOptions;
  /** The jobs' VPC (e.g. for `RunnerVpcEndpoints`). */
  readonly vpc: ec2.IVpc;
}

/**
 * The production runner of `stack`, whose props carry every hardening option of the library; the
 * VPC, the replica bucket and key, the boundary, the break-glass roles and the API token are
 * imported into `stack` (no lookup, no credentials needed to synth).
 */
export function productionRunner(stack: Stack): ProductionRunner {
  const ctx = <T>(key: string, fallback: T): T => context(stack, key, fallback);
  const region = stack.region;

  // The VPC the jobs run in, from its attributes. The runner creates an egress-only security group
  // in it for the jobs.
  const privateSubnetIds: string[] = ctx('privateSubnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']);
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: ctx('vpcId', 'vpc-0123456789abcdef0'),
    availabilityZones: ctx('availabilityZones', [`${region}a`, `${region}b`]),
    privateSubnetIds,
    privateSubnetRouteTableIds: ctx('privateSubnetRouteTableIds', ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210']),
  });

  // The disaster-recovery copy of the state: a versioned bucket in another region, encrypted
  // with a key of that region. Both must exist before the first deploy.
  const replicaRegion: string = ctx('replicaRegion', 'eu-west-1');
  const replicaBucket = s3.Bucket.fromBucketAttributes(stack, 'StateReplicaBucket', {
    bucketName: ctx('replicaBucketName', 'my-org-runner-state-replica'),
    region: replicaRegion,
  });
  const replicaKey = kms.Key.fromKeyArn(
    stack,
    'StateReplicaKey',
    ctx('replicaKeyArn', `arn:aws:kms:${replicaRegion}:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d`),
  );

  // The organization's permissions boundary; every role of the stack gets it and the path.
  const boundary = iam.ManagedPolicy.fromManagedPolicyName(
    stack,
    'PermissionsBoundary',
    ctx('permissionsBoundaryName', 'platform-permissions-boundary'),
  );

  // The orchestrator API token (the raw token, or JSON {"token": "..."}). The complete ARN, with
  // the 6-character suffix, lets the registration function read exactly this secret.
  const apiTokenSecret = secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'ApiTokenSecret',
    ctx(
      'apiTokenSecretArn',
      `arn:aws:secretsmanager:${region}:123456789012:secret:platform-orchestrator/api-token-AbCdEf`,
    ),
  );

  const props: EcsRunnerProps = {
    orgId: ctx('orgId', 'my-org'),
    runnerId: ctx('runnerId', 'prod-ecs-runner'),
    description: `Production deployments (ECS Fargate, ${region})`,
    network: RunnerNetwork.fromSubnetIds(privateSubnetIds, { vpc }),
    encryption: RunnerEncryption.createKey(),
    state: {
      bucket: StateBucket.create({
        accessLogs: StateAccessLogs.stackBucket({ retentionDays: ctx('accessLogsRetentionDays', 400) }),
        replication: { destinationBucket: replicaBucket, destinationEncryptionKey: replicaKey },
        // Only the jobs and the break-glass role may read, write or delete state objects, whatever
        // other IAM policies of the account allow.
        restrictAccess: true,
        administrators: ctx<string[]>('stateAdministratorRoleArns', [
          'arn:aws:iam::123456789012:role/platform-break-glass',
        ]).map((arn, i) => iam.Role.fromRoleArn(stack, `StateAdministrator${i}`, arn)),
      }),
    },
    permissionsBoundary: boundary,
    rolePath: ctx('rolePath', '/platform/runners/'),
    requiredTagKeys: REQUIRED_TAG_KEYS,
    registration: {
      apiTokenSecret,
      rules: ctx<RunnerRuleProps[]>('runnerRules', [{ environmentType: 'production' }]),
    },
  };
  return { props, monitoring: { alarmEmails: ctx('alarmEmails', ['platform-oncall@example.com']) }, vpc };
}
