/**
 * One runner per region, one IAM OIDC provider per account.
 *
 * IAM is global: an account holds exactly one OIDC provider per issuer URL, whatever the region.
 * The stack of the first region creates it (the runner's default); the stacks of the other
 * regions pass its ARN, built from the account (`arn:<partition>:iam::<account>:oidc-provider/
 * oidc.humanitec.dev`), so no cross-region reference or export is needed, and depend on the
 * first stack so that the provider exists before their roles trust it.
 *
 * Everything else is regional and per stack: cluster, roles, state bucket, log groups.
 *
 *   npx cdk deploy --all  (from this folder, with credentials for the target account)
 *
 * Replace the org id, regions and subnet ids in cdk.json's context (`regions`: the first entry
 * creates the provider). If the account already has the provider, set `existingOidcProviderArn`.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunner, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

/** The issuer of Humanitec's hosted orchestrator; a self-hosted Stellwerk has its own. */
const ISSUER = 'oidc.humanitec.dev';

/** One region's runner. */
export interface RegionConfig {
  /** e.g. `eu-central-1` */
  readonly region: string;
  /** The VPC of the jobs in that region: the runner creates an egress-only security group in it. */
  readonly vpcId: string;
  /** Private subnets (with egress) of that VPC. */
  readonly subnetIds: string[];
}

const DEFAULT_REGIONS: RegionConfig[] = [
  {
    region: 'eu-central-1',
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  },
  {
    region: 'us-east-1',
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
  },
];

export interface RegionalRunnerStackProps {
  readonly orgId: string;
  readonly runnerIdPrefix: string;
  readonly config: RegionConfig;
  /** This stack creates the account's OIDC provider (exactly one stack of the account may). */
  readonly createsOidcProvider: boolean;
  /** The provider's ARN, when the account already has it. */
  readonly existingOidcProviderArn?: string;
}

export class RegionalRunnerStack extends Stack {
  public readonly runner: EcsRunner;

  constructor(scope: Construct, id: string, props: RegionalRunnerStackProps) {
    super(scope, id, {
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: props.config.region },
      description: `Platform Orchestrator serverless ECS runner (${props.config.region})`,
    });
    const { region } = props.config;
    // By id, no lookup. Only the id matters here: the subnets are given by id.
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.config.vpcId,
      availabilityZones: [`${region}a`, `${region}b`],
    });
    this.runner = new EcsRunner(this, 'Runner', {
      orgId: props.orgId,
      // Readable, and unique in the org: one runner per region.
      runnerId: `${props.runnerIdPrefix}-${props.config.region}`,
      description: `Deployments in ${props.config.region}`,
      network: RunnerNetwork.fromSubnetIds(props.config.subnetIds, { vpc }),
      // Undefined: the runner creates the provider. Otherwise the provider of this stack's
      // account, with this stack's partition: a string, no reference to another stack.
      oidcProviderArn: props.createsOidcProvider
        ? undefined
        : (props.existingOidcProviderArn ??
          this.formatArn({ service: 'iam', region: '', resource: 'oidc-provider', resourceName: ISSUER })),
    });
  }
}

export function buildApp(app: App = new App()): App {
  const orgId: string = app.node.tryGetContext('orgId') ?? 'my-org';
  const runnerIdPrefix: string = app.node.tryGetContext('runnerIdPrefix') ?? 'platform';
  const regions: RegionConfig[] = app.node.tryGetContext('regions') ?? DEFAULT_REGIONS;
  const existingOidcProviderArn: string | undefined = app.node.tryGetContext('existingOidcProviderArn');

  const [first, ...others] = regions;
  const home = new RegionalRunnerStack(app, `EcsRunner-${first.region}`, {
    orgId,
    runnerIdPrefix,
    config: first,
    createsOidcProvider: existingOidcProviderArn === undefined,
    existingOidcProviderArn,
  });
  for (const config of others) {
    const stack = new RegionalRunnerStack(app, `EcsRunner-${config.region}`, {
      orgId,
      runnerIdPrefix,
      config,
      createsOidcProvider: false,
      existingOidcProviderArn,
    });
    // Deploy order only: the provider must exist before the roles that trust it.
    stack.addStackDependency(home);
  }
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
