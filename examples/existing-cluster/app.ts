/**
 * A runner on an ECS cluster you already have: the runner creates no cluster, and the
 * orchestrator may run its jobs on that cluster only (the task-manager role's ecs:cluster
 * condition names it).
 *
 * The VPC and the cluster are imported from their attributes (no lookup, no credentials needed to
 * synth). Because the runner gets the VPC, it picks the VPC's private subnets for the jobs and
 * creates an egress-only security group for them.
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Replace the org id, VPC, subnet and cluster values in cdk.json's context with yours, or pass
 * them with `-c key=value` (lists as JSON). The cluster must offer the FARGATE capacity provider.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { EcsRunner, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

export class ExistingClusterRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    const region: string = ctx('region', 'eu-central-1');
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      description: 'Platform Orchestrator serverless ECS runner (on an existing ECS cluster)',
    });

    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: ctx('vpcId', 'vpc-0123456789abcdef0'),
      availabilityZones: ctx('availabilityZones', [`${region}a`, `${region}b`]),
      privateSubnetIds: ctx('privateSubnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']),
      privateSubnetRouteTableIds: ctx('privateSubnetRouteTableIds', ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210']),
    });
    // Its ARN is built from the name and the stack's account, region and partition.
    const cluster = ecs.Cluster.fromClusterAttributes(this, 'Cluster', {
      clusterName: ctx('clusterName', 'platform-jobs'),
      vpc,
    });

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: ctx('orgId', 'my-org'),
      runnerIdPrefix: ctx('runnerIdPrefix', 'shared-cluster'),
      description: `Jobs on the existing ECS cluster ${cluster.clusterName}`,
      network: RunnerNetwork.fromVpc(vpc),
      cluster,
    });
  }
}

export function buildApp(app: App = new App()): App {
  new ExistingClusterRunnerStack(app, 'ExistingClusterEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
