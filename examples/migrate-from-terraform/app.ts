/**
 * Takes over a runner created by the reference Terraform module
 * (humanitec/reusable-platform-orchestrator-ecs-runner) without changing what the orchestrator
 * and the environments see: the same runner id, and the same state bucket, `<runner_id>-state`,
 * so every environment's Terraform state stays where it is.
 *
 * The stack creates a new cluster and new roles, and updates the existing
 * registration in place (`adoptExistingRegistration`: the runner already exists in the org, so
 * it is updated instead of failing). The account's OIDC provider was created by the module: it is
 * reused by its ARN (`oidcProviderArn`), never created a second time.
 *
 *   npx cdk deploy        (from this folder, with credentials for the runner's account)
 *
 * Then check the registration and retire the Terraform resources in the order README.md gives.
 * Replace the org id, runner id, subnets, security groups and the token secret's ARN in
 * cdk.json's context with the module's values (`terraform output`).
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { EcsRunner, Orchestrator, RunnerNetwork, StateBucket } from 'platform-orchestrator-ecs-runner';

export class MigratedRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    const ctx = <T>(key: string, fallback: T): T => scope.node.tryGetContext(key) ?? fallback;
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: ctx('region', 'eu-central-1') },
      description: 'Platform Orchestrator serverless ECS runner (migrated from the Terraform module)',
    });

    // `terraform output runner_id`: the module's id, e.g. runner-<16 hex characters>.
    const runnerId: string = ctx('runnerId', 'runner-0123456789abcdef');
    // The module serves Humanitec's hosted orchestrator (oidc_hostname oidc.humanitec.dev, task
    // definitions humanitec_*); a runner of a self-hosted Stellwerk uses Orchestrator.stellwerk().
    const orchestrator = Orchestrator.humanitec();

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: ctx('orgId', 'my-org'),
      runnerId,
      orchestrator,
      // The provider the module created (or was given as existing_oidc_provider_arn).
      oidcProviderArn:
        ctx<string | undefined>('oidcProviderArn', undefined) ??
        this.formatArn({
          service: 'iam',
          region: '',
          resource: 'oidc-provider',
          resourceName: orchestrator.oidcIssuer,
        }),
      // The module's subnet_ids and security_group_ids.
      network: RunnerNetwork.fromSubnetIds(ctx('subnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'])),
      securityGroupIds: ctx('securityGroupIds', ['sg-0123456789abcdef0']),
      // The module's bucket (`terraform output s3_bucket`), imported: never replaced, never deleted.
      state: {
        bucket: StateBucket.fromBucket(
          s3.Bucket.fromBucketName(this, 'State', ctx('stateBucketName', `${runnerId}-state`)),
        ),
      },
      // The module's environment and secrets inputs, if it had any.
      environment: ctx('environment', {}),
      // The module's `secrets` map (name to ARN) as ECS secrets: by complete ARN, so the API accepts them.
      secrets: Object.fromEntries(
        Object.entries(ctx<Record<string, string>>('secrets', {})).map(([name, arn]) => [
          name,
          arn.includes(':ssm:')
            ? ecs.Secret.fromSsmParameter(
                ssm.StringParameter.fromStringParameterAttributes(this, `Secret${name}`, {
                  parameterName: arn.slice(arn.indexOf(':parameter') + ':parameter'.length),
                }),
              )
            : ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretCompleteArn(this, `Secret${name}`, arn)),
        ]),
      ),
      registration: {
        apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(
          this,
          'ApiTokenSecret',
          ctx(
            'apiTokenSecretArn',
            'arn:aws:secretsmanager:eu-central-1:123456789012:secret:platform-orchestrator/api-token-AbCdEf',
          ),
        ),
        // Update the registration the module made, in place.
        adoptExisting: true,
        // The runner predates this stack: a rollback of the first deploy, or deleting the stack, must
        // not deregister it (its runner rules and environments depend on it).
        removalPolicy: RemovalPolicy.RETAIN,
      },
    });
  }
}

export function buildApp(app: App = new App()): App {
  new MigratedRunnerStack(app, 'MigratedEcsRunner');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
