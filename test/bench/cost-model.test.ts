/**
 * The benchmark's cost model (scripts/bench/cost-model.ts): it reads synthesized templates,
 * counts their resources and prices what a month costs while no job runs.
 */
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RUNNER_METADATA_KEY } from '../../src/runner-metadata';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { buildScaleStack } from '../../scripts/bench/apps/scale-app';
import {
  CfnTemplate,
  countResources,
  DEFAULT_USAGE,
  fargateJobCost,
  ORCHESTRATOR_JOB_SIZE,
  idleMonthlyCost,
} from '../../scripts/bench/cost-model';
import { HOURS_PER_MONTH, PRICES } from '../../scripts/bench/prices';

/** A fresh app; CDK's built-in template validation is off (it validates, the model only reads). */
function newApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

function templateOf(stack: Stack): CfnTemplate {
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

function line(cost: ReturnType<typeof idleMonthlyCost>, item: string) {
  return cost.lines.find((l) => l.item === item);
}

/** One of everything the model prices, plus a free resource and one it does not know. */
function pricedStack(): Stack {
  const stack = new Stack(newApp(), 'Priced', { env: { account: '123456789012', region: 'us-east-1' } });
  new kms.Key(stack, 'Key');
  new secretsmanager.Secret(stack, 'Secret');
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Jobs', period: Duration.minutes(5) });
  new cloudwatch.Alarm(stack, 'Standard', { metric, threshold: 1, evaluationPeriods: 1 });
  new cloudwatch.Alarm(stack, 'HighResolution', {
    metric: metric.with({ period: Duration.seconds(10) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  new cloudwatch.Dashboard(stack, 'Dashboard');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60718', 'rtb-0f1e2d3c4b5a69788'],
  });
  vpc.addInterfaceEndpoint('Sts', { service: ec2.InterfaceVpcEndpointAwsService.STS });
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  const accessLogs = new s3.CfnBucket(stack, 'AccessLogs');
  new s3.CfnBucket(stack, 'State', {
    loggingConfiguration: { destinationBucketName: accessLogs.ref, logFilePrefix: 'r1/' },
    versioningConfiguration: { status: 'Enabled' },
    replicationConfiguration: {
      role: 'arn:aws:iam::123456789012:role/replication',
      rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::dr', storageClass: 'STANDARD_IA' } }],
    },
  });
  // a runner is counted by the metadata on its task-manager role
  const manager = new iam.Role(stack, 'Manager', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  (manager.node.defaultChild as iam.CfnRole).addMetadata(RUNNER_METADATA_KEY, { runnerId: 'r1' });
  new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  new CfnResource(stack, 'Nat', { type: 'AWS::EC2::NatGateway', properties: { SubnetId: 'subnet-0a1b2c3d4e5f60718' } });
  return stack;
}

describe('countResources', () => {
  test('counts resources by type over every template', () => {
    const a: CfnTemplate = { Resources: { A: { Type: 'AWS::S3::Bucket' }, B: { Type: 'AWS::IAM::Role' } } };
    const b: CfnTemplate = { Resources: { C: { Type: 'AWS::S3::Bucket' } } };
    expect(countResources([a, b, {}])).toEqual({ 'AWS::IAM::Role': 1, 'AWS::S3::Bucket': 2 });
  });
});

describe('idleMonthlyCost of a synthesized stack', () => {
  const cost = idleMonthlyCost([templateOf(pricedStack())], PRICES);

  test('prices each chargeable resource of the template', () => {
    expect(cost.resources['AWS::KMS::Key']).toBe(1);
    expect(line(cost, 'KMS customer managed keys')).toMatchObject({ quantity: 1, monthlyUsd: 1 });
    expect(line(cost, 'Secrets Manager secrets (created)')).toMatchObject({ quantity: 1, monthlyUsd: 0.4 });
    expect(line(cost, 'CloudWatch alarm metrics (standard resolution)')).toMatchObject({
      quantity: 1,
      monthlyUsd: 0.1,
    });
    expect(line(cost, 'CloudWatch alarm metrics (high resolution)')).toMatchObject({ quantity: 1, monthlyUsd: 0.3 });
    expect(line(cost, 'CloudWatch dashboards')).toMatchObject({ quantity: 1, monthlyUsd: 3 });
  });

  test('charges interface endpoints per AZ-hour and gateway endpoints nothing', () => {
    expect(cost.resources['AWS::EC2::VPCEndpoint']).toBe(2);
    const endpoints = line(cost, 'VPC interface endpoints')!;
    expect(endpoints.quantity).toBe(2 * HOURS_PER_MONTH);
    expect(endpoints.monthlyUsd).toBeCloseTo(14.6, 10);
  });

  test('stores the stated usage: state, its replica and access logs (no job logs)', () => {
    expect(line(cost, 'S3 Standard: state')).toMatchObject({ quantity: DEFAULT_USAGE.stateGbPerBucket });
    expect(line(cost, 'S3 Standard: state')!.monthlyUsd).toBeCloseTo(0.023, 10);
    expect(line(cost, 'S3 Standard-IA: state replicas (destination bucket)')!.monthlyUsd).toBeCloseTo(0.0125, 10);
    expect(line(cost, 'S3 Standard: server access logs')!.monthlyUsd).toBeCloseTo(0.1 * 0.023, 10);
    expect(cost.runners).toBe(1);
    expect(line(cost, 'CloudWatch Logs storage: job logs')).toBeUndefined();
  });

  test('adds the lines up and reports what it does not price', () => {
    const expected = 1 + 0.4 + 0.1 + 0.3 + 3 + 14.6 + 0.023 + 0.0023 + 0.0125;
    expect(cost.totalUsd).toBeCloseTo(expected, 10);
    expect(cost.totalUsd).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.monthlyUsd, 0),
      10,
    );
    expect(cost.freeWhileIdle).toContain('AWS::IAM::Role');
    expect(cost.unpriced).toEqual(['AWS::EC2::NatGateway']);
  });

  test('counts an imported API token secret once, however many registrations read it', () => {
    const registration = (id: string) => ({
      Type: 'Custom::PlatformOrchestratorRunner',
      Properties: { RunnerId: id, TokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf' },
    });
    const withToken = idleMonthlyCost([{ Resources: { A: registration('a'), B: registration('b') } }], PRICES);
    expect(line(withToken, 'Secrets Manager secrets (API token, imported)')).toMatchObject({ quantity: 1 });
    const created: CfnTemplate = {
      Resources: {
        Token: { Type: 'AWS::SecretsManager::Secret' },
        A: { Type: 'Custom::PlatformOrchestratorRunner', Properties: { TokenSecretArn: { Ref: 'Token' } } },
      },
    };
    const withCreated = idleMonthlyCost([created], PRICES);
    expect(line(withCreated, 'Secrets Manager secrets (API token, imported)')).toBeUndefined();
    expect(line(withCreated, 'Secrets Manager secrets (created)')).toMatchObject({ quantity: 1 });
  });
});

describe('idleMonthlyCost of the runner profiles', () => {
  test('a basic runner costs only the storage of its usage, and every type it creates is known', () => {
    const cost = idleMonthlyCost([templateOf(buildScaleStack(newApp(), 'basic', 1))], PRICES);
    expect(cost.runners).toBe(1);
    expect(cost.unpriced).toEqual([]);
    expect(cost.lines.map((l) => l.item)).toEqual(['S3 Standard: state', 'S3 Standard: server access logs']);
    // no job logs: the orchestrator's task definitions have no log configuration
    expect(cost.totalUsd).toBeCloseTo(0.023 + 0.0023, 10);
  });

  test("each production runner adds its key and alarms; the dashboard and the token secret are the stack's", () => {
    const one = idleMonthlyCost([templateOf(buildScaleStack(newApp(), 'production', 1))], PRICES);
    const two = idleMonthlyCost([templateOf(buildScaleStack(newApp(), 'production', 2))], PRICES);
    expect(one.unpriced).toEqual([]);
    expect(two.runners).toBe(2);
    for (const item of ['KMS customer managed keys', 'CloudWatch alarm metrics (standard resolution)']) {
      expect(line(two, item)!.quantity).toBe(2 * line(one, item)!.quantity);
    }
    expect(line(one, 'CloudWatch dashboards')).toMatchObject({ quantity: 1, monthlyUsd: 3 });
    expect(line(two, 'CloudWatch dashboards')).toMatchObject({ quantity: 1, monthlyUsd: 3 });
    expect(line(two, 'Secrets Manager secrets (API token, imported)')!.quantity).toBe(1);
    expect(two.totalUsd).toBeGreaterThan(one.totalUsd);
  });
});

describe('fargateJobCost', () => {
  test("the orchestrator's job (0.5 vCPU / 1 GB) of 5 minutes, on demand only", () => {
    expect(ORCHESTRATOR_JOB_SIZE).toEqual({ vcpu: 0.5, memoryGb: 1 });
    const cost = fargateJobCost(PRICES, { ...ORCHESTRATOR_JOB_SIZE, minutes: 5 });
    const onDemand = ((0.5 * 0.04048 + 1 * 0.004445) * 5) / 60;
    expect(cost).toEqual({ onDemandUsd: expect.closeTo(onDemand, 12) });
  });

  test('bills at least one minute', () => {
    const short = fargateJobCost(PRICES, { vcpu: 1, memoryGb: 2, minutes: 0.25 });
    expect(short.onDemandUsd).toBeCloseTo(fargateJobCost(PRICES, { vcpu: 1, memoryGb: 2, minutes: 1 }).onDemandUsd, 12);
  });
});
