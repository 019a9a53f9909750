/**
 * A runner whose jobs deploy into other AWS accounts: the task role (the jobs' credentials) may
 * assume one deployment role in each target account, and nothing else besides its own state.
 * Terraform in the job assumes them, e.g. with an AWS provider block per account:
 *
 *   provider "aws" {
 *     alias  = "workloads_prod"
 *     region = "eu-central-1"
 *     assume_role { role_arn = "arn:aws:iam::222222222222:role/platform-orchestrator-deployer" }
 *   }
 *
 * Each deployment role must trust the runner's task role (stack output `TaskRoleArn`), with a
 * trust policy such as:
 *
 *   {
 *     "Version": "2012-10-17",
 *     "Statement": [{
 *       "Effect": "Allow",
 *       "Principal": { "AWS": "<TaskRoleArn>" },
 *       "Action": ["sts:AssumeRole", "sts:TagSession"]
 *     }]
 *   }
 *
 * and the permissions of whatever the jobs deploy in that account.
 *
 *   npx cdk deploy        (from this folder, with credentials for the runner's account)
 *
 * Replace the org id, subnet ids and deployment role ARNs in cdk.json's context with yours.
 */
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunner, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

export class CrossAccountRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    const region: string = ctx('region', 'eu-central-1');
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
      description: 'Platform Orchestrator serverless ECS runner (deploys into other accounts)',
    });
    // The jobs' VPC (no lookup): the runner creates an egress-only security group in it. Only its
    // id matters here: the subnets are given by id.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: ctx('vpcId', 'vpc-0123456789abcdef0'),
      availabilityZones: [`${region}a`, `${region}b`],
    });

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: ctx('orgId', 'my-org'),
      runnerIdPrefix: ctx('runnerIdPrefix', 'cross-account'),
      description: 'Deploys into the workload accounts through their deployment roles',
      network: RunnerNetwork.fromSubnetIds(ctx('subnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']), {
        vpc,
      }),
      // The task role may sts:AssumeRole (and sts:TagSession) exactly these roles.
      assumableRoleArns: ctx('deploymentRoleArns', [
        'arn:aws:iam::111111111111:role/platform-orchestrator-deployer',
        'arn:aws:iam::222222222222:role/platform-orchestrator-deployer',
      ]),
    });

    // The principal the deployment roles in the target accounts must trust.
    new CfnOutput(this, 'TaskRoleArn', {
      value: this.runner.taskRole.roleArn,
      description: 'Trust this role (sts:AssumeRole, sts:TagSession) in the deployment role of each target account',
    });
  }
}

export function buildApp(app: App = new App()): App {
  new CrossAccountRunnerStack(app, 'CrossAccountEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
