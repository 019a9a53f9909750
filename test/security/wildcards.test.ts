import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  EcsRunner,
  RunnerEncryption,
  RunnerNetwork,
  RunnerVpcEndpoints,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { documentedWildcardActions, wildcardActions } from '../support/iam';
import { minimalProps, SUBNETS } from '../support/stacks';
import { secretFromArn } from '../support/secrets';

/**
 * Runner configurations that together switch on every statement the library can write: every
 * optional role statement, registration (registration.apiTokenSecret), state replication, monitoring and the
 * VPC endpoints.
 */
function everyFeature(): Template {
  const app = new App();
  const stack = new Stack(app, 'All', { env: { account: '123456789012', region: 'eu-central-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: SUBNETS,
    privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'],
  });
  const runner = new EcsRunner(stack, 'Runner', {
    ...minimalProps(),
    network: RunnerNetwork.fromSubnetIds([...SUBNETS], { vpc }),
    encryption: RunnerEncryption.createKey(),
    image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/runner:1',
    secrets: {
      A: secretFromArn(stack, 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:a-AbCdEf'),
      B: secretFromArn(stack, 'arn:aws:ssm:eu-central-1:123456789012:parameter/b'),
    },
    assumableRoleArns: ['arn:aws:iam::210987654321:role/deployer'],
    permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'B', 'boundary'),
    state: {
      bucket: StateBucket.create({
        destroyOnRemoval: true,
        replication: {
          destinationBucket: s3.Bucket.fromBucketAttributes(stack, 'Replica', {
            bucketName: 'runner-state-replica',
            region: 'eu-west-1',
          }),
          destinationEncryptionKey: kms.Key.fromKeyArn(
            stack,
            'ReplicaKey',
            'arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d',
          ),
        },
      }),
    },
    registration: {
      apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        'Token',
        'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
      ),
      rules: [{ environmentType: 'production' }],
    },
  });
  runner.addMonitoring({ alarmEmails: ['oncall@example.com'] });
  new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });
  return Template.fromStack(stack);
}

describe('Resource "*" only where the service authorization reference gives no resource type', () => {
  test('docs/SECURITY.md lists the expected actions', () => {
    expect([...documentedWildcardActions()].sort()).toEqual(
      ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition', 'ecs:ListTasks', 'ecr:GetAuthorizationToken'].sort(),
    );
  });

  test('the configuration switches on every feature', () => {
    const template = everyFeature();
    template.resourceCountIs('Custom::PlatformOrchestratorRunner', 1); // registration
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1); // state.bucket destroyOnRemoval
    template.hasResourceProperties('AWS::S3::Bucket', { ReplicationConfiguration: Match.anyValue() });
    template.resourceCountIs('AWS::SNS::Topic', 1); // monitoring
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });

  test('every wildcard statement of a runner with every feature is documented', () => {
    const documented = documentedWildcardActions();
    const found = wildcardActions(everyFeature().toJSON());
    expect(found.length).toBeGreaterThan(0);
    const undocumented = found.filter(({ action }) => !documented.has(action));
    expect(undocumented).toEqual([]);
  });

  test('every documented wildcard is actually used by some configuration (no stale rows)', () => {
    const used = new Set(wildcardActions(everyFeature().toJSON()).map((w) => w.action));
    expect([...documentedWildcardActions()].filter((a) => !used.has(a))).toEqual([]);
  });

  test('no ecs:TagResource statement depends on ecs:cluster, a condition key TagResource does not have', () => {
    // GIVEN every IAM statement of a runner with every feature
    const resources = Object.values<any>(everyFeature().toJSON().Resources);
    const statements = resources
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
    const tagging = statements.filter((st: any) => [st.Action].flat().includes('ecs:TagResource'));
    // THEN tasks are tagged only by RunTask (ecs:CreateAction), limited by the task ARN alone
    expect(tagging.map((st: any) => st.Sid).sort()).toEqual([
      'TagRunnerTaskDefinitionsOnRegister',
      'TagTasksOfRunnerCluster',
    ]);
    for (const st of tagging) expect(JSON.stringify(st.Condition ?? {})).not.toContain('ecs:cluster');
  });
});
