/**
 * More than one runner in one AWS account. An account holds exactly one IAM OIDC provider per
 * issuer URL (here https://oidc.humanitec.dev), so only one stack may create it:
 *
 * - `PlatformEcsRunners`: two runners in ONE stack (non-production and production jobs, in
 *   separate subnets). They share the stack's provider automatically: it is created once.
 * - `TeamEcsRunner`: a runner in a SECOND stack. It passes the ARN of the existing provider
 *   (`oidcProviderArn`), built from the account, and creates none.
 *
 *   npx cdk deploy --all  (from this folder, with credentials for the target account)
 *
 * If the account already has the provider (e.g. from examples/basic, another stack or the
 * reference Terraform module), set the context value `existingOidcProviderArn` to its ARN
 * (`aws iam list-open-id-connect-providers`): then no stack creates one.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunner, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

/** The issuer of Humanitec's hosted orchestrator; a self-hosted Stellwerk has its own. */
const ISSUER = 'oidc.humanitec.dev';

function context<T>(scope: Construct, key: string, fallback: T): T {
  return scope.node.tryGetContext(key) ?? fallback;
}

/**
 * The jobs' VPC by id (no lookup): a runner given a VPC creates an egress-only security group in
 * it. Only the id matters here: the subnets are given by id.
 */
function vpcById(stack: Stack, vpcId: string): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId,
    availabilityZones: [`${stack.region}a`, `${stack.region}b`],
  });
}

function environment(scope: Construct) {
  return { account: process.env.CDK_DEFAULT_ACCOUNT, region: context(scope, 'region', 'eu-central-1') };
}

/** The first stack: two runners that share the stack's OIDC provider. */
export class PlatformRunnersStack extends Stack {
  public readonly nonProduction: EcsRunner;
  public readonly production: EcsRunner;

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      env: environment(scope),
      description: 'Platform Orchestrator serverless ECS runners (non-production and production)',
    });
    const orgId: string = context(this, 'orgId', 'my-org');
    // Undefined unless the account already has the provider: then the stack creates it, once.
    const oidcProviderArn: string | undefined = context(this, 'existingOidcProviderArn', undefined);
    const vpc = vpcById(this, context(this, 'vpcId', 'vpc-0123456789abcdef0'));

    this.nonProduction = new EcsRunner(this, 'NonProduction', {
      orgId,
      runnerIdPrefix: 'nonprod',
      description: 'Non-production deployments',
      network: RunnerNetwork.fromSubnetIds(
        context(this, 'nonProductionSubnetIds', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']),
        { vpc },
      ),
      oidcProviderArn,
    });
    this.production = new EcsRunner(this, 'Production', {
      orgId,
      runnerIdPrefix: 'prod',
      description: 'Production deployments',
      network: RunnerNetwork.fromSubnetIds(
        context(this, 'productionSubnetIds', ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788']),
        { vpc },
      ),
      oidcProviderArn,
    });
  }
}

/** A second stack in the same account: reuses the provider by its ARN. */
export class TeamRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      env: environment(scope),
      description: 'Platform Orchestrator serverless ECS runner (second stack in the account)',
    });
    // IAM is global and the provider's ARN is predictable: arn:<partition>:iam::<account>:oidc-provider/<issuer>.
    // A string, not a reference to the other stack: no CloudFormation export ties the stacks together.
    const oidcProviderArn: string =
      context(this, 'existingOidcProviderArn', undefined) ??
      this.formatArn({ service: 'iam', region: '', resource: 'oidc-provider', resourceName: ISSUER });

    this.runner = new EcsRunner(this, 'Runner', {
      orgId: context(this, 'orgId', 'my-org'),
      runnerIdPrefix: context(this, 'teamRunnerIdPrefix', 'team-payments'),
      description: 'Deployments of the payments team',
      network: RunnerNetwork.fromSubnetIds(
        context(this, 'teamSubnetIds', ['subnet-0aa11bb22cc33dd44', 'subnet-0ee55ff66aa77bb88']),
        { vpc: vpcById(this, context(this, 'teamVpcId', 'vpc-0a1b2c3d4e5f60718')) },
      ),
      oidcProviderArn,
    });
  }
}

export function buildApp(app: App = new App()): App {
  const platform = new PlatformRunnersStack(app, 'PlatformEcsRunners');
  const team = new TeamRunnerStack(app, 'TeamEcsRunner');
  // The provider must exist before a role can trust it.
  team.addStackDependency(platform);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
