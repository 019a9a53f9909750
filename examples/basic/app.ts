/**
 * The smallest useful runner: an existing VPC's private subnets, everything else created with the
 * library's defaults (cluster, OIDC provider, roles, state bucket, log groups).
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Replace the org id and subnet ids in cdk.json's context with yours, or pass them with
 * `-c orgId=... -c subnetIds='["subnet-..."]'`. Nothing is registered on deploy: register the stack
 * output RunnerCreateBody with `npx po-ecs-runner register --stack BasicEcsRunner` (see README.md).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsRunner, EcsRunnerProps, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

export class BasicRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: scope.node.tryGetContext('region') ?? 'eu-central-1' },
      description: 'Platform Orchestrator serverless ECS runner (basic)',
    });
    this.runner = new EcsRunner(this, 'Runner', basicRunnerProps(this));
  }
}

/** The basic runner's props (the benchmark's stacks of many basic runners use them too). */
export function basicRunnerProps(scope: Construct): EcsRunnerProps {
  return {
    orgId: scope.node.tryGetContext('orgId') ?? 'my-org',
    network: RunnerNetwork.fromSubnetIds(
      listContext(scope, 'subnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']),
    ),
  };
}

/**
 * A list from context: an array in cdk.json, or a string from `cdk -c key=value` (the CLI passes
 * every -c value as a string), either JSON (`["subnet-1","subnet-2"]`) or comma-separated.
 */
function listContext(scope: Construct, key: string, fallback: string[]): string[] {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return fallback;
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  return text.startsWith('[') ? (JSON.parse(text) as unknown[]).map(String) : text.split(',').map((s) => s.trim());
}

export function buildApp(app: App = new App()): App {
  new BasicRunnerStack(app, 'BasicEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
