/**
 * The two apps the compliance suite checks:
 *
 * - `basic`: examples/basic as a user deploys it (`buildApp`), every default.
 * - `production`: what a regulated user deploys (examples/complete-production does the same): one
 *   runner with every hardening option: a runner-created CMK (rotation on), server access logging,
 *   cross-region replication of the state, a permissions boundary and an IAM path on every role,
 *   required tags, an imported VPC with isolated subnets (so an egress-only security group is
 *   created), registration with the orchestrator on deploy (API token from Secrets Manager),
 *   monitoring with an alarm email, and the VPC endpoints of the jobs.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  EcsRunner,
  EcsRunnerProps,
  RunnerEncryption,
  RunnerNetwork,
  RunnerVpcEndpoints,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { buildApp } from '../../examples/basic/app';
import { ComplianceProfile, profileFromStacks } from './compliance';

export const PRODUCTION_STACK = 'ProductionEcsRunner';
export const PRODUCTION_ACCOUNT = '123456789012';
export const PRODUCTION_REGION = 'eu-central-1';
export const REQUIRED_TAG_KEYS = ['Environment', 'Owner', 'CostCenter', 'ComplianceScope'];
export const PRODUCTION_TAGS: Record<string, string> = {
  Environment: 'production',
  Owner: 'platform-team',
  CostCenter: 'cc-4711',
  ComplianceScope: 'pci-hipaa',
};
export const PRODUCTION_ROLE_PATH = '/platform/runners/';
export const PRODUCTION_BOUNDARY = 'platform-boundary';
export const PRODUCTION_SUBNET_IDS = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'];
export const PRODUCTION_ROUTE_TABLE_IDS = ['rtb-0a1b2c3d4e5f60718', 'rtb-0f1e2d3c4b5a69788'];
export const PRODUCTION_API_TOKEN_SECRET_ARN = `arn:aws:secretsmanager:${PRODUCTION_REGION}:${PRODUCTION_ACCOUNT}:secret:platform-orchestrator/api-token-AbCdEf`;
export const PRODUCTION_ALARM_EMAILS = ['platform-oncall@example.com'];

/** examples/basic, unchanged. */
export function basicProfile(): ComplianceProfile {
  return {
    name: 'basic',
    description: "`examples/basic`: an existing VPC's subnet ids, every other property at its default",
    build: (props) => buildApp(new App(props)),
  };
}

/** Every hardening option of the runner, with registration, monitoring and VPC endpoints. */
export function productionProfile(): ComplianceProfile {
  return profileFromStacks(
    'production',
    'customer managed KMS key, server access logs, cross-region state replication, permissions boundary, role path, required tags, imported VPC (isolated subnets) with an egress-only security group, registration on deploy (API token in Secrets Manager), monitoring with an alarm email, VPC endpoints',
    (app) => {
      const stack = new Stack(app, PRODUCTION_STACK, {
        env: { account: PRODUCTION_ACCOUNT, region: PRODUCTION_REGION },
        description: 'Platform Orchestrator serverless ECS runner (production profile of the compliance suite)',
      });
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: [`${PRODUCTION_REGION}a`, `${PRODUCTION_REGION}b`],
        isolatedSubnetIds: PRODUCTION_SUBNET_IDS,
        isolatedSubnetRouteTableIds: PRODUCTION_ROUTE_TABLE_IDS,
      });
      const drBucket = s3.Bucket.fromBucketAttributes(stack, 'DrBucket', {
        bucketArn: `arn:aws:s3:::runner-state-dr-${PRODUCTION_ACCOUNT}`,
        region: 'eu-west-1',
      });
      const drKey = kms.Key.fromKeyArn(
        stack,
        'DrKey',
        `arn:aws:kms:eu-west-1:${PRODUCTION_ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
      );
      const props: EcsRunnerProps = {
        orgId: 'acme-platform',
        runnerId: 'prod-runner',
        description: 'Production runner (compliance profile)',
        network: RunnerNetwork.fromSubnetIds(PRODUCTION_SUBNET_IDS, { vpc }),
        encryption: RunnerEncryption.createKey(),
        permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', PRODUCTION_BOUNDARY),
        rolePath: PRODUCTION_ROLE_PATH,
        requiredTagKeys: REQUIRED_TAG_KEYS,
        state: {
          bucket: StateBucket.create({
            replication: { destinationBucket: drBucket, destinationEncryptionKey: drKey },
            restrictAccess: true,
            administrators: [
              iam.Role.fromRoleArn(stack, 'BreakGlass', `arn:aws:iam::${stack.account}:role/platform-break-glass`),
            ],
          }),
        },
        tags: PRODUCTION_TAGS,
        registration: {
          apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(
            stack,
            'ApiToken',
            PRODUCTION_API_TOKEN_SECRET_ARN,
          ),
        },
      };
      const runner = new EcsRunner(stack, 'Runner', props);
      runner.addMonitoring({ alarmEmails: PRODUCTION_ALARM_EMAILS });
      new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });
    },
  );
}

/** Both profiles, in the order the report lists them. */
export function allProfiles(): ComplianceProfile[] {
  return [basicProfile(), productionProfile()];
}
