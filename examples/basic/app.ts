/**
 * The smallest useful runner: an existing VPC's private subnets, everything else created.
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Replace the org id and subnet ids with yours, or set them in cdk.json's context.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsRunner } from 'platform-orchestrator-ecs-runner';

export class BasicRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: scope.node.tryGetContext('region') ?? 'eu-central-1' },
      description: 'Platform Orchestrator serverless ECS runner (basic)',
    });
    this.runner = new EcsRunner(this, 'Runner', {
      orgId: this.node.tryGetContext('orgId') ?? 'my-org',
      subnetIds: this.node.tryGetContext('subnetIds') ?? ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    });
  }
}

export function buildApp(app: App = new App()): App {
  new BasicRunnerStack(app, 'BasicEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
