/**
 * A runner whose jobs have no route to the internet: a new VPC with isolated subnets only (no
 * NAT gateway, no internet gateway), and VPC endpoints for the AWS APIs the jobs need (ECR, S3,
 * CloudWatch Logs, STS, Secrets Manager, SSM, KMS, ECS) admitting HTTPS from the jobs only.
 *
 * What endpoints do not cover, and this example therefore provides or leaves to you:
 * - The job image must come from ECR: the orchestrator's default image lives in a public registry.
 *   `image` is a private ECR repository (a copy of the default image, or an ECR pull-through
 *   cache); the execution role may pull from exactly that repository.
 * - Terraform downloads providers and modules from registry.terraform.io and GitHub. Without
 *   internet access the jobs need a provider mirror or a proxy (e.g. a network mirror configured
 *   in the image's Terraform CLI configuration, or providers baked into the image).
 * - Whatever the jobs deploy is called through its own API: add its interface endpoint.
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Replace the org id, CIDR and image in cdk.json's context with yours.
 */
import { App, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunner, RunnerVpcEndpoints } from 'platform-orchestrator-ecs-runner';

export class PrivateNetworkingRunnerStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly runner: EcsRunner;
  public readonly endpoints: RunnerVpcEndpoints;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    const region: string = ctx('region', 'eu-central-1');
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      description: 'Platform Orchestrator serverless ECS runner (isolated subnets with VPC endpoints)',
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(ctx('vpcCidr', '10.40.0.0/16')),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'jobs', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      restrictDefaultSecurityGroup: true,
    });

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: ctx('orgId', 'my-org'),
      runnerIdPrefix: ctx('runnerIdPrefix', 'private'),
      description: 'Jobs in isolated subnets (VPC endpoints, no internet access)',
      vpc: this.vpc,
      // The runner picks private subnets with egress by default; these have none.
      subnets: this.vpc.isolatedSubnets,
      image: ctx('image', `123456789012.dkr.ecr.${region}.amazonaws.com/platform-orchestrator/runner:1.0.0`),
    });

    // Interface endpoints in one isolated subnet per AZ, reachable on 443 from the runner's
    // security group only; the S3 gateway endpoint on the isolated subnets' route tables.
    this.endpoints = new RunnerVpcEndpoints(this, 'Endpoints', { vpc: this.vpc, runner: this.runner });
  }

  /**
   * The region's first two zones, resolved by CloudFormation (Fn::GetAZs). A stack in a concrete
   * environment would otherwise look them up at synth time, which needs credentials.
   */
  public override get availabilityZones(): string[] {
    return [0, 1].map((i) => Fn.select(i, Fn.getAzs()));
  }
}

export function buildApp(app: App = new App()): App {
  new PrivateNetworkingRunnerStack(app, 'PrivateEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
