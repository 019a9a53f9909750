/**
 * Nothing but an org id: without `network`, the runner creates its own VPC (two AZs, private subnets
 * with egress through one NAT gateway by default, flow logs on). And a VPC given with subnets must
 * contain them.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EcsRunner, RunnerEncryption, RunnerErrors, RunnerNetwork } from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from '../support/cfn';
import { newStack } from '../support/stacks';

function onlyOrgId(extra: Record<string, unknown> = {}) {
  const stack = newStack();
  const runner = new EcsRunner(stack, 'Runner', { orgId: 'my-org', runnerId: 'prod-runner', ...extra });
  return { stack, runner, template: Template.fromStack(stack) };
}

describe('a runner given nothing but an org id', () => {
  test('creates a VPC with two AZs, public and private subnets, one NAT gateway, and runs jobs in the private subnets', () => {
    // GIVEN / WHEN
    const { stack, runner, template } = onlyOrgId();

    // THEN one VPC, two public and two private subnets, one NAT gateway with its Elastic IP
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::EIP', 1);
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const vpc = runner.createdVpc!.vpc;
    expect(vpc.privateSubnets).toHaveLength(2);
    expect(vpc.publicSubnets).toHaveLength(2);
    expect(runner.vpc).toBe(vpc);
    // AND both private subnets route to the internet through the NAT gateway
    const natId = Object.keys(template.findResources('AWS::EC2::NatGateway'))[0];
    template.resourcePropertiesCountIs(
      'AWS::EC2::Route',
      { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: { Ref: natId } },
      2,
    );
    // AND the registration body names exactly the private subnets and the egress-only security group
    // (rendered with the test renderer's sample physical ids, which are not shaped like subnet ids)
    const [body] = registrationBodies(template.toJSON());
    const privateIds = vpc.privateSubnets.map((s) => stack.resolve(s.subnetId));
    expect(stack.resolve(runner.subnetIds)).toEqual(privateIds);
    expect(body.runner_configuration.job.subnets).toHaveLength(2);
    expect(body.runner_configuration.job.is_public_ip_enabled).toBe(false);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: stack.resolve(vpc.vpcId),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })],
    });
    expect(body.runner_configuration.job.security_groups).toHaveLength(1);
  });

  test('logs all VPC traffic to a retained log group under the runner, with the runner log retention', () => {
    // GIVEN / WHEN
    const { stack, runner, template } = onlyOrgId({
      network: RunnerNetwork.createVpc({ flowLogRetention: logs.RetentionDays.THREE_MONTHS }),
    });

    // THEN
    const group = runner.createdVpc!.flowLogGroup;
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/platform-orchestrator/prod-runner/vpc-flow-logs', RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: stack.resolve(group.logGroupName),
    });
  });

  test('with a key, the flow logs are encrypted and the key lets CloudWatch Logs use it for them', () => {
    // GIVEN / WHEN
    const { stack, runner, template } = onlyOrgId({ encryption: RunnerEncryption.createKey() });

    // THEN
    const keyArn = stack.resolve(runner.encryptionKey!.keyArn);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/platform-orchestrator/prod-runner/vpc-flow-logs',
      KmsKeyId: keyArn,
    });
    // (that every encrypted log group is covered by the key policy is test/encryption/key-policy.test.ts)
    const statements = Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement;
    expect(JSON.stringify(statements)).toContain(':log-group:/platform-orchestrator/prod-runner/vpc-flow-logs"');
  });

  test('every role of the network, the default security group provider included, gets the boundary and path', () => {
    // GIVEN / WHEN
    const stack = newStack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'boundary');
    new EcsRunner(stack, 'Runner', { orgId: 'my-org', permissionsBoundary: boundary, rolePath: '/platform/' });

    // THEN the flow logs' role and the default-security-group provider's role included
    const roles = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Role'));
    expect(roles.map(([id]) => id)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^RunnerNetworkVpcFlowLogIAMRole/),
        expect.stringMatching(/^CustomVpcRestrictDefaultSGCustomResourceProviderRole/),
      ]),
    );
    for (const [id, role] of roles) {
      expect([id, role.Properties.Path, JSON.stringify(role.Properties.PermissionsBoundary)]).toEqual([
        id,
        '/platform/',
        expect.stringContaining(':policy/boundary'),
      ]);
    }
  });

  test('natGateways: 2 gives each AZ its own NAT gateway', () => {
    // GIVEN / WHEN
    const { template } = onlyOrgId({ network: RunnerNetwork.createVpc({ natGateways: 2 }) });

    // THEN
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::EIP', 2);
  });

  test('registers only after the network exists, and synthesizes without a warning', () => {
    // GIVEN / WHEN the runner registers itself
    const stack = newStack();
    const runner = new EcsRunner(stack, 'Runner', { orgId: 'my-org' });

    // THEN nothing warns (no default security group, no guessed subnets)
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(runner.createdVpc).toBeDefined();
  });

  test('a given VPC, or subnets, create no VPC', () => {
    const stack = newStack();
    new EcsRunner(stack, 'Ids', {
      orgId: 'my-org',
      network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
    });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Existing', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a'],
      privateSubnetIds: ['subnet-0123456789abcdef0'],
    });
    const withVpc = new EcsRunner(stack, 'WithVpc', { orgId: 'my-org', network: RunnerNetwork.fromVpc(vpc) });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 0);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::FlowLog', 0);
    expect(withVpc.createdVpc).toBeUndefined();
    expect(withVpc.vpc).toBe(vpc);
  });
});

describe('a VPC given with subnets', () => {
  const imported = (stack: Stack) =>
    ec2.Vpc.fromVpcAttributes(stack, 'Existing', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    });

  test('subnetIds of the VPC are accepted', () => {
    const stack = newStack();
    const runner = new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      network: RunnerNetwork.fromSubnetIds(['subnet-0fedcba9876543210'], { vpc: imported(stack) }),
    });
    expect(runner.subnetIds).toEqual(['subnet-0fedcba9876543210']);
  });

  test('a subnet id of another VPC is a synth error naming it and the VPC', () => {
    const stack = newStack();
    const vpc = imported(stack);
    let error: unknown;
    try {
      new EcsRunner(stack, 'Runner', {
        orgId: 'my-org',
        network: RunnerNetwork.fromSubnetIds(['subnet-0fedcba9876543210', 'subnet-00000000000000001'], { vpc }),
      });
    } catch (e) {
      error = e;
    }
    expect(RunnerErrors.propertyOf(error)).toBe('network.subnetIds[1]');
    expect(String(error)).toMatch(
      /Invalid network\.subnetIds\[1\]: "subnet-00000000000000001".*a subnet of vpc vpc-0123456789abcdef0 \(subnet-0123456789abcdef0, subnet-0fedcba9876543210\)/,
    );
  });

  test('a subnet of another VPC of the app (tokens on both sides) is a synth error', () => {
    const stack = newStack();
    const a = new ec2.Vpc(stack, 'A', { maxAzs: 2, natGateways: 0 });
    const b = new ec2.Vpc(stack, 'B', { maxAzs: 2, natGateways: 0 });
    expect(
      () =>
        new EcsRunner(stack, 'Runner', {
          orgId: 'my-org',
          network: RunnerNetwork.fromSubnets(b.isolatedSubnets, { vpc: a }),
        }),
    ).toThrow(/Invalid network\.subnets\[0\].*a subnet of vpc TestStack\/A/);
    expect(
      () =>
        new EcsRunner(stack, 'Good', {
          orgId: 'my-org',
          network: RunnerNetwork.fromSubnets(a.isolatedSubnets, { vpc: a }),
        }),
    ).not.toThrow();
  });

  test("Vpc.fromLookup's placeholder, before the lookup, is not checked", () => {
    const stack = new Stack(new App(), 'Lookup', { env: { account: '123456789012', region: 'eu-central-1' } });
    const vpc = ec2.Vpc.fromLookup(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0' });
    expect(
      () =>
        new EcsRunner(stack, 'Runner', {
          orgId: 'my-org',
          network: RunnerNetwork.fromSubnetIds(['subnet-0fedcba9876543210'], { vpc }),
        }),
    ).not.toThrow();
  });

  test('a key of another kind (imported) keeps the flow logs encrypted and warns', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'K',
      'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    );
    new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      runnerId: 'prod-runner',
      encryption: RunnerEncryption.fromKey(key),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/platform-orchestrator/prod-runner/vpc-flow-logs',
      KmsKeyId: key.keyArn,
    });
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Runner/Network',
      Match.stringLikeRegexp('log-group:/platform-orchestrator/prod-runner/vpc-flow-logs'),
    );
  });
});
