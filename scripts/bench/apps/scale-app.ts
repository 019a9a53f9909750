/**
 * Runners per stack: one stack with BENCH_RUNNERS runners of the BENCH_PROFILE profile.
 *
 * - `basic`: `subnetIds` and `orgId` only, as examples/basic.
 * - `production`: what examples/complete-production gives its runner (a runner-created CMK,
 *   access logs, cross-region replication, boundary, role path, required tags, imported VPC with
 *   an egress-only security group, registration with a runner rule, monitoring with alarms to
 *   email and a dashboard). The runners share what a stack shares: the VPC, the replication
 *   destination, the boundary, the API token secret, the OIDC provider, the access-logs bucket
 *   and the registration provider.
 *
 * BENCH_RAISE_LIMIT=1 lifts CDK's 500-resource check so stacks past CloudFormation's limit can
 * be measured; without it synth fails past 500 resources, as it does for users.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner, RunnerEncryption, RunnerNetwork, StateBucket } from 'platform-orchestrator-ecs-runner';
import { SCALE_PROFILES, ScaleProfile } from '../scale-profiles';

export const SCALE_STACK = 'RunnersPerStack';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const SUBNETS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'];
const TAGS = { Environment: 'production', Owner: 'platform-team', CostCenter: 'cc-4711', ComplianceScope: 'pci' };

export function buildScaleStack(app: App, profile: ScaleProfile, runners: number): Stack {
  const stack = new Stack(app, SCALE_STACK, { env: { account: ACCOUNT, region: REGION } });
  if (profile === 'basic') {
    for (let i = 0; i < runners; i++) {
      new EcsRunner(stack, `Runner${i}`, { orgId: 'my-org', network: RunnerNetwork.fromSubnetIds(SUBNETS) });
    }
    return stack;
  }
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${REGION}a`, `${REGION}b`],
    privateSubnetIds: SUBNETS,
  });
  const destinationBucket = s3.Bucket.fromBucketAttributes(stack, 'DrBucket', {
    bucketArn: `arn:aws:s3:::runner-state-dr-${ACCOUNT}`,
    region: 'us-west-2',
  });
  const destinationEncryptionKey = kms.Key.fromKeyArn(
    stack,
    'DrKey',
    `arn:aws:kms:us-west-2:${ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
  );
  const permissionsBoundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'platform-boundary');
  const rolePath = '/platform/runners/';
  const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiToken', 'platform-orchestrator/api-token');
  for (let i = 0; i < runners; i++) {
    const runner = new EcsRunner(stack, `Runner${i}`, {
      orgId: 'acme-platform',
      runnerId: `team-${i}`,
      network: RunnerNetwork.fromSubnetIds(SUBNETS, { vpc }),
      encryption: RunnerEncryption.createKey(),
      state: { bucket: StateBucket.create({ replication: { destinationBucket, destinationEncryptionKey } }) },
      permissionsBoundary,
      rolePath,
      requiredTagKeys: Object.keys(TAGS),
      tags: TAGS,
      ...(profile === 'production' || profile === 'registered'
        ? { registration: { apiTokenSecret, rules: [{ environmentType: 'production' }] } }
        : {}),
    });
    if (profile === 'production' || profile === 'monitored') {
      runner.addMonitoring({ alarmEmails: ['platform-oncall@example.com'] });
    }
  }
  return stack;
}

if (require.main === module) {
  const profile = process.env.BENCH_PROFILE as ScaleProfile;
  const runners = Number(process.env.BENCH_RUNNERS);
  if (!SCALE_PROFILES.includes(profile) || !Number.isInteger(runners) || runners < 1) {
    throw new Error(`set BENCH_PROFILE (${SCALE_PROFILES.join(', ')}) and BENCH_RUNNERS (>= 1)`);
  }
  const context = process.env.BENCH_RAISE_LIMIT === '1' ? { '@aws-cdk/core:stackResourceLimit': 1_000_000 } : {};
  const app = new App({ context });
  buildScaleStack(app, profile, runners);
  app.synth();
}
