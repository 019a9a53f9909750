/**
 * A production runner: every hardening option of the library in one stack.
 *
 * - a customer managed KMS key (rotation on) for the state, the events log group and the alarm topic
 * - an imported VPC, so the runner creates an egress-only security group (no inbound rule) for the jobs
 * - a permissions boundary and an IAM path on every role the stack creates
 * - server access logs of the state bucket and cross-region replication of the state to a DR bucket
 * - governance tags on every taggable resource, enforced with `requiredTagKeys`
 * - state objects readable and writable only by the jobs (task role) and a break-glass role
 * - registration with the orchestrator on deploy (API token from Secrets Manager) plus a runner rule
 * - alarms to an SNS topic with email subscriptions, and a dashboard
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Every identifier comes from cdk.json's context: replace the placeholders there, or pass
 * `-c key=value` (lists and maps as JSON). See README.md for what must exist beforehand.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  EcsRunner,
  RunnerEncryption,
  RunnerMonitoring,
  RunnerNetwork,
  RunnerRuleProps,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';

/** The tag keys every resource of the runner must carry. */
export const REQUIRED_TAG_KEYS = ['Environment', 'Owner', 'CostCenter', 'ComplianceScope'];

export class CompleteProductionRunnerStack extends Stack {
  public readonly runner: EcsRunner;
  public readonly monitoring: RunnerMonitoring;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    const region: string = ctx('region', 'eu-central-1');
    const governanceTags = ctx<Record<string, string>>('tags', {
      Environment: 'production',
      Owner: 'platform-team',
      CostCenter: 'cc-1234',
      ComplianceScope: 'pci',
    });
    // As stack tags, the governance tags satisfy the runner's `requiredTagKeys` check (which runs
    // when the runner is created) and tag the CloudFormation stack itself.
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      description: 'Platform Orchestrator serverless ECS runner (complete production)',
      tags: governanceTags,
    });
    // Tags.of(this) also writes them into the template, on every taggable resource of the stack:
    // the runner's and the ones runners share (OIDC provider, access-logs bucket, registration
    // function), so policy checks of the template see them too.
    for (const [key, value] of Object.entries(governanceTags)) Tags.of(this).add(key, value);

    // The VPC the jobs run in, from its attributes (no lookup, no credentials needed to synth).
    // The runner creates an egress-only security group in it for the jobs.
    const privateSubnetIds: string[] = ctx('privateSubnetIds', [
      'subnet-0123456789abcdef0',
      'subnet-0fedcba9876543210',
    ]);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: ctx('vpcId', 'vpc-0123456789abcdef0'),
      availabilityZones: ctx('availabilityZones', [`${region}a`, `${region}b`]),
      privateSubnetIds,
      privateSubnetRouteTableIds: ctx('privateSubnetRouteTableIds', ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210']),
    });

    // The disaster-recovery copy of the state: a versioned bucket in another region, encrypted
    // with a key of that region. Both must exist before the first deploy.
    const replicaRegion: string = ctx('replicaRegion', 'eu-west-1');
    const replicaBucket = s3.Bucket.fromBucketAttributes(this, 'StateReplicaBucket', {
      bucketName: ctx('replicaBucketName', 'my-org-runner-state-replica'),
      region: replicaRegion,
    });
    const replicaKey = kms.Key.fromKeyArn(
      this,
      'StateReplicaKey',
      ctx('replicaKeyArn', `arn:aws:kms:${replicaRegion}:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d`),
    );

    // The organization's permissions boundary; every role of the stack gets it and the path.
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(
      this,
      'PermissionsBoundary',
      ctx('permissionsBoundaryName', 'platform-permissions-boundary'),
    );

    // The orchestrator API token (the raw token, or JSON {"token": "..."}). The complete ARN, with
    // the 6-character suffix, lets the registration function read exactly this secret.
    const apiTokenSecret = secretsmanager.Secret.fromSecretCompleteArn(
      this,
      'ApiTokenSecret',
      ctx(
        'apiTokenSecretArn',
        `arn:aws:secretsmanager:${region}:123456789012:secret:platform-orchestrator/api-token-AbCdEf`,
      ),
    );

    this.runner = new EcsRunner(this, 'Runner', {
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
          ]).map((arn, i) => iam.Role.fromRoleArn(this, `StateAdministrator${i}`, arn)),
        }),
      },
      permissionsBoundary: boundary,
      rolePath: ctx('rolePath', '/platform/runners/'),
      requiredTagKeys: REQUIRED_TAG_KEYS,
      registration: {
        apiTokenSecret,
        rules: ctx<RunnerRuleProps[]>('runnerRules', [{ environmentType: 'production' }]),
      },
    });

    this.monitoring = this.runner.addMonitoring({
      alarmEmails: ctx('alarmEmails', ['platform-oncall@example.com']),
    });
  }
}

export function buildApp(app: App = new App()): App {
  new CompleteProductionRunnerStack(app, 'ProductionEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
