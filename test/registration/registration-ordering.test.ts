/**
 * The registration is created after, and deleted before, everything a job of the runner needs:
 * the orchestrator may start jobs as soon as the runner is registered and until it is
 * deregistered (a refused deregistration must not leave a registered runner without policies).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner } from '../../src/ecs-runner';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { ensureBundled } from '../support/bundles';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';

beforeAll(() => ensureBundled());

function registeredRunner(): { template: Template; registrationId: string } {
  const stack = new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${REGION}a`],
    privateSubnetIds: ['subnet-0123456789abcdef0'],
  });
  new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    runnerId: 'prod-runner',
    network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0'], { vpc }),
    registration: {
      apiTokenSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'platform-orchestrator/api-token'),
    },
  });
  const template = Template.fromStack(stack);
  const [registrationId] = Object.keys(template.findResources('Custom::PlatformOrchestratorRunner'));
  return { template, registrationId };
}

describe('registration ordering', () => {
  test('the registration depends on every policy, the cluster, the security group and the state bucket policy', () => {
    // GIVEN / WHEN a runner that registers itself
    const { template, registrationId } = registeredRunner();

    // THEN its DependsOn names every resource a job needs, including those the body does not reference
    const dependsOn: string[] = template.toJSON().Resources[registrationId].DependsOn ?? [];
    const idsOf = (type: string) => Object.keys(template.findResources(type)).filter((id) => id.startsWith('Runner'));
    const needed = [
      ...idsOf('AWS::IAM::ManagedPolicy'),
      ...idsOf('AWS::IAM::Role'),
      ...idsOf('AWS::ECS::Cluster'),
      ...idsOf('AWS::EC2::SecurityGroup'),
      ...idsOf('AWS::S3::Bucket'),
      ...idsOf('AWS::S3::BucketPolicy'),
    ];
    // 3 roles, the task-manager and task policies (no execution policy: public image, no secrets),
    // cluster, security group, bucket and its policy
    expect(needed).toHaveLength(9);
    expect([...dependsOn].sort()).toEqual(expect.arrayContaining(needed.sort()));
  });
});
