/**
 * A production runner: every hardening option of the library in one stack.
 *
 * - a customer managed KMS key (rotation on) for the state, the events log group and the alarm topic
 * - an imported VPC, so the runner creates an egress-only security group (no inbound rule) for the jobs
 * - a permissions boundary and an IAM path on every role the stack creates
 * - server access logs of the state bucket and cross-region replication of the state to a DR bucket
 * - governance tags on every taggable resource, enforced with `requiredTagKeys`
 * - state objects readable and writable only by the jobs (task role) and a break-glass role
 * - registration with the orchestrator on deploy (API token from Secrets Manager) plus a runner rule
 * - alarms to an SNS topic with email subscriptions, and a dashboard
 *
 *   npx cdk deploy        (from this folder, with credentials for the target account)
 *
 * Every identifier comes from cdk.json's context: replace the placeholders there, or pass
 * `-c key=value` (lists and maps as JSON). See README.md for what must exist beforehand. The
 * runner's props are in profile.ts (the compliance suite and the benchmark build the same runner).
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsRunner, RunnerMonitoring } from 'platform-orchestrator-ecs-runner';
import { ProductionRunner, productionRunner, productionStackProps } from './profile';

export class CompleteProductionRunnerStack extends Stack {
  /** What the runner is built from (profile.ts). */
  public readonly profile: ProductionRunner;
  public readonly runner: EcsRunner;
  public readonly monitoring: RunnerMonitoring;

  constructor(scope: Construct, id: string) {
    // As stack tags, the governance tags satisfy the runner's `requiredTagKeys` check (which runs
    // when the runner is created) and tag the CloudFormation stack itself.
    const stackProps = productionStackProps(scope);
    super(scope, id, stackProps);
    // Tags.of(this) also writes them into the template, on every taggable resource of the stack:
    // the runner's and the ones runners share (OIDC provider, access-logs bucket, registration
    // function), so policy checks of the template see them too.
    for (const [key, value] of Object.entries(stackProps.tags)) Tags.of(this).add(key, value);

    this.profile = productionRunner(this);
    this.runner = new EcsRunner(this, 'Runner', this.profile.props);
    this.monitoring = this.runner.addMonitoring(this.profile.monitoring);
  }
}

export function buildApp(app: App = new App()): App {
  new CompleteProductionRunnerStack(app, 'ProductionEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
