/**
 * A runner whose jobs have no inbound path and keep their AWS traffic private: a new VPC with
 * private subnets for the jobs, VPC endpoints for the AWS APIs the jobs use (ECR, S3, STS,
 * Secrets Manager, SSM, KMS, ECS) admitting HTTPS from the jobs only, and one NAT gateway as the
 * jobs' egress path.
 *
 * Why a NAT gateway: every job reaches the orchestrator's gateway (`RUNNER_GATEWAY_URL`, where
 * it streams its logs and results) over HTTPS, and Terraform downloads providers and modules
 * from registry.terraform.io and GitHub. Endpoints cannot carry that traffic. Without a NAT
 * gateway (isolated subnets, `subnets: vpc.isolatedSubnets`), the jobs need an HTTPS proxy you
 * run and configure (`environment: { HTTPS_PROXY: ..., NO_PROXY: ... }`, reachable from the
 * subnets), or every deployment fails when the job cannot reach the orchestrator.
 * Why the endpoints: AWS API traffic (image layers from ECR and S3, the state, secrets) stays in
 * the VPC and pays no NAT gateway data processing.
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Replace the org id, CIDR and image in cdk.json's context with yours.
 */
import { App, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunner, RunnerNetwork, RunnerVpcEndpoints } from 'platform-orchestrator-ecs-runner';

export class PrivateNetworkingRunnerStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly runner: EcsRunner;
  public readonly endpoints: RunnerVpcEndpoints;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    const region: string = ctx('region', 'eu-central-1');
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      description: 'Platform Orchestrator serverless ECS runner (private subnets, NAT egress, VPC endpoints)',
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(ctx('vpcCidr', '10.40.0.0/16')),
      maxAzs: 2,
      // One NAT gateway for the jobs' HTTPS to the orchestrator and the provider registries.
      natGateways: 1,
      subnetConfiguration: [
        { name: 'egress', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26 },
        { name: 'jobs', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      restrictDefaultSecurityGroup: true,
    });

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: ctx('orgId', 'my-org'),
      runnerIdPrefix: ctx('runnerIdPrefix', 'private'),
      description: 'Jobs in private subnets (NAT egress, VPC endpoints for AWS APIs)',
      // The runner picks the VPC's private subnets with egress.
      network: RunnerNetwork.fromVpc(this.vpc),
      image: ctx('image', `123456789012.dkr.ecr.${region}.amazonaws.com/platform-orchestrator/runner:1.0.0`),
    });

    // Interface endpoints in one private subnet per AZ, reachable on 443 from the runner's
    // security group only; the S3 gateway endpoint on the private subnets' route tables.
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
