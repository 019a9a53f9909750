import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EcsRunner, MANAGED_BY } from '../../src/ecs-runner';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { RunnerVpcEndpoints, RunnerVpcEndpointsProps } from '../../src/networking/runner-vpc-endpoints';
import { expectValidationError } from '../support/validation';

const REGION = 'eu-central-1';

const INTERFACE_SERVICES = ['ecr.api', 'ecr.dkr', 'sts', 'secretsmanager', 'ssm', 'kms', 'ecs'];

function stackWithVpc(subnetConfiguration: ec2.SubnetConfiguration[], region: string | null = REGION) {
  const app = new App();
  const stack = new Stack(app, 'Stack', region ? { env: { account: '123456789012', region } } : {});
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: subnetConfiguration.some((s) => s.subnetType === ec2.SubnetType.PRIVATE_WITH_EGRESS) ? 1 : 0,
    subnetConfiguration,
  });
  const runner = new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0'], { vpc }),
  });
  return { stack, vpc, runner };
}

const ISOLATED_ONLY: ec2.SubnetConfiguration[] = [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }];
const THREE_TIERS: ec2.SubnetConfiguration[] = [
  { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
  { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
];

function serviceNames(template: Template, type: 'Interface' | 'Gateway'): unknown[] {
  return Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: type } })).map(
    (r) => r.Properties.ServiceName,
  );
}

describe('RunnerVpcEndpoints', () => {
  test('creates exactly the listed interface endpoints with private DNS, in one subnet per AZ', () => {
    // GIVEN a VPC with isolated subnets in 2 AZs and a runner
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

    // WHEN
    const endpoints = new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    const template = Template.fromStack(stack);
    expect(serviceNames(template, 'Interface').sort()).toEqual(
      INTERFACE_SERVICES.map((s) => `com.amazonaws.${REGION}.${s}`).sort(),
    );
    expect(RunnerVpcEndpoints.INTERFACE_ENDPOINT_NAMES).toEqual(INTERFACE_SERVICES);
    // no endpoint Fargate does not need
    for (const name of serviceNames(template, 'Interface')) {
      expect(name).not.toMatch(/ecs-agent|ecs-telemetry/);
    }
    const isolated = stack.resolve(vpc.isolatedSubnets.map((s) => s.subnetId));
    const sg = stack.resolve(endpoints.securityGroup.securityGroupId);
    for (const endpoint of Object.values(
      template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
    )) {
      expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
      expect(endpoint.Properties.SubnetIds).toEqual(isolated);
      expect(endpoint.Properties.SecurityGroupIds).toEqual([sg]);
    }
    expect(endpoints.endpoints).toHaveLength(INTERFACE_SERVICES.length);
    expect(endpoints.endpoint('ecr.dkr')).toBe(endpoints.endpoints[1]);
  });

  test('one S3 gateway endpoint on the route tables of the chosen subnets', () => {
    // GIVEN
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

    // WHEN
    const endpoints = new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: stack.resolve(vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId)),
    });
    expect(endpoints.s3Endpoint).toBeDefined();
  });

  test('the security group admits only HTTPS from the runner security group and allows no egress', () => {
    // GIVEN
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

    // WHEN
    const endpoints = new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN the only ingress is 443 from the runner's group
    const template = Template.fromStack(stack);
    const sgId = stack.resolve(endpoints.securityGroup.securityGroupId);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(sgId),
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0].Properties).toEqual({
      Description: 'HTTPS from the runner jobs',
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      GroupId: sgId,
      SourceSecurityGroupId: stack.resolve(runner.connections.securityGroups[0].securityGroupId),
    });
    // AND the group has no inline ingress and only CDK's "disallow all" egress placeholder
    const sg = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('VPC endpoints') },
    });
    const [props] = Object.values(sg).map((r) => r.Properties);
    expect(props.SecurityGroupIngress).toBeUndefined();
    expect(props.SecurityGroupEgress).toEqual([
      {
        CidrIp: '255.255.255.255/32',
        Description: 'Disallow all traffic',
        FromPort: 252,
        IpProtocol: 'icmp',
        ToPort: 86,
      },
    ]);
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupEgress', { GroupId: sgId }, 0);
  });

  test('exclude leaves out interface endpoints and the S3 gateway', () => {
    // GIVEN
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

    // WHEN
    const endpoints = new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner, exclude: ['ecs', 'kms', 's3'] });

    // THEN
    const template = Template.fromStack(stack);
    expect(serviceNames(template, 'Interface').sort()).toEqual(
      INTERFACE_SERVICES.filter((s) => s !== 'ecs' && s !== 'kms')
        .map((s) => `com.amazonaws.${REGION}.${s}`)
        .sort(),
    );
    expect(serviceNames(template, 'Gateway')).toEqual([]);
    expect(endpoints.s3Endpoint).toBeUndefined();
    expect(endpoints.endpoint('kms')).toBeUndefined();
  });

  test('default in a three-tier VPC: interface endpoints in isolated subnets, S3 on isolated and private route tables', () => {
    // GIVEN public, private-with-egress and isolated subnets
    const { stack, vpc, runner } = stackWithVpc(THREE_TIERS);

    // WHEN
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      SubnetIds: stack.resolve(vpc.isolatedSubnets.map((s) => s.subnetId)),
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      RouteTableIds: Match.arrayEquals(
        stack.resolve([...vpc.isolatedSubnets, ...vpc.privateSubnets].map((s) => s.routeTable.routeTableId)),
      ),
    });
  });

  test('default without isolated subnets: private subnets with egress', () => {
    // GIVEN public and private-with-egress subnets only
    const { stack, vpc, runner } = stackWithVpc(THREE_TIERS.slice(0, 2));

    // WHEN
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      SubnetIds: stack.resolve(vpc.privateSubnets.map((s) => s.subnetId)),
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      RouteTableIds: stack.resolve(vpc.privateSubnets.map((s) => s.routeTable.routeTableId)),
    });
  });

  test('subnets: interface endpoints take one subnet per AZ, the S3 gateway every selected route table', () => {
    // GIVEN two isolated subnet groups, so two isolated subnets per AZ
    const { stack, vpc, runner } = stackWithVpc([
      { name: 'jobs-a', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'jobs-b', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ]);

    // WHEN
    new RunnerVpcEndpoints(stack, 'Endpoints', {
      vpc,
      runner,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });

    // THEN
    const template = Template.fromStack(stack);
    const interfaceEndpoint = Object.values(
      template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
    )[0];
    expect(interfaceEndpoint.Properties.SubnetIds).toHaveLength(2);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      RouteTableIds: Match.arrayEquals(stack.resolve(vpc.isolatedSubnets.map((s) => s.routeTable.routeTableId))),
    });
    expect(vpc.isolatedSubnets).toHaveLength(4);
  });

  test('an environment-agnostic stack names the services with the region reference', () => {
    // GIVEN a stack without region
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY, null);

    // WHEN
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.ecr.api']] },
    });
  });

  test('tags resources with ManagedBy', () => {
    // GIVEN
    const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

    // WHEN
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::VPCEndpoint', {
      Tags: Match.arrayWith([{ Key: 'ManagedBy', Value: MANAGED_BY }]),
    });
  });

  describe('validation', () => {
    test.each([
      [{ exclude: ['ecr'] }, 'exclude[0]'],
      [{ exclude: ['sts', 'S3'] }, 'exclude[1]'],
      // the endpoints no job uses are no longer offered
      [{ exclude: ['logs'] }, 'exclude[0]'],
      [{ exclude: ['ssmmessages'] }, 'exclude[0]'],
      [{ exclude: [...INTERFACE_SERVICES, 's3'] }, 'exclude'],
    ] as Array<[Partial<RunnerVpcEndpointsProps>, string]>)('rejects %j naming %s', (props, property) => {
      // GIVEN
      const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

      // WHEN / THEN
      expectValidationError(() => new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner, ...props }), property);
    });

    test('the message names the property, the value and the accepted names', () => {
      // GIVEN
      const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

      // WHEN / THEN
      expect(() => new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner, exclude: ['ecr'] })).toThrow(
        /^Invalid exclude\[0\]: "ecr" \(3 characters\)\. Expected one of ecr\.api, ecr\.dkr, .*, s3\.$/,
      );
    });

    test('rejects a runner without security groups', () => {
      // GIVEN a runner created from subnet ids only: ECS would use the VPC default group
      const { stack, vpc } = stackWithVpc(ISOLATED_ONLY);
      const runner = new EcsRunner(stack, 'Bare', {
        orgId: 'my-org',
        network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      });

      // WHEN / THEN
      expectValidationError(() => new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner }), 'runner');
    });

    test('rejects a VPC with public subnets only', () => {
      // GIVEN
      const { stack, runner } = stackWithVpc(ISOLATED_ONLY);
      const publicVpc = new ec2.Vpc(stack, 'PublicVpc', {
        maxAzs: 2,
        subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      });

      // WHEN / THEN
      expectValidationError(() => new RunnerVpcEndpoints(stack, 'Endpoints', { vpc: publicVpc, runner }), 'vpc');
    });

    test('rejects a missing vpc or runner', () => {
      // GIVEN
      const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);

      // WHEN / THEN
      expectValidationError(
        () => new RunnerVpcEndpoints(stack, 'E1', { runner } as unknown as RunnerVpcEndpointsProps),
        'vpc',
      );
      expectValidationError(
        () => new RunnerVpcEndpoints(stack, 'E2', { vpc } as unknown as RunnerVpcEndpointsProps),
        'runner',
      );
    });

    test('endpoint() rejects an unknown name', () => {
      // GIVEN
      const { stack, vpc, runner } = stackWithVpc(ISOLATED_ONLY);
      const endpoints = new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, runner });

      // WHEN / THEN
      expectValidationError(() => endpoints.endpoint('ecr'), 'name');
    });
  });
});
