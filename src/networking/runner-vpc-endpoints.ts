import { Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { EcsRunnerValidationError } from '../errors';

/** Same value as `MANAGED_BY` in ecs-runner.ts. */
const MANAGED_BY_TAG = 'platform-orchestrator-ecs-runner';

/** Gateway endpoint: free, routes S3 traffic (state, ECR image layers) of the chosen route tables. */
const S3 = 's3';

/**
 * The interface endpoints, by the name `exclude` takes, and why a runner's jobs use them.
 * Not here: `ecs-agent` and `ecs-telemetry` (EC2 container instances only; Fargate tasks do not
 * need them, nor the `ecs` endpoint, to start); `logs` (the orchestrator's task definitions have
 * no log configuration: jobs send their logs to the orchestrator over HTTPS); `ssmmessages`
 * (ECS Exec, which the orchestrator never enables).
 */
const INTERFACE_ENDPOINTS: { readonly [name: string]: ec2.InterfaceVpcEndpointAwsService } = {
  // Image pulls from ECR: the registry API and the Docker endpoint (layers come from S3).
  'ecr.api': ec2.InterfaceVpcEndpointAwsService.ECR,
  'ecr.dkr': ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  // Terraform's AWS provider calls sts:GetCallerIdentity and assumes roles.
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  // Job secrets: Secrets Manager secrets and SSM parameters.
  secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  // Jobs that call KMS themselves (e.g. Terraform managing keys or encrypted resources).
  kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  // Jobs that call the ECS API (e.g. Terraform managing ECS resources).
  ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
};

/** Properties of {@link RunnerVpcEndpoints}. */
export interface RunnerVpcEndpointsProps {
  /** The VPC the runner's jobs run in. */
  readonly vpc: ec2.IVpc;

  /**
   * What may reach the interface endpoints on HTTPS (443), usually the `EcsRunner`. It must have
   * at least one security group (an EcsRunner whose VPC is known (`RunnerNetwork.createVpc` or a `vpc`), or with `securityGroups` or
   * `securityGroupIds`).
   */
  readonly runner: ec2.IConnectable;

  /**
   * Subnets of the endpoints: the interface endpoints get a network interface in one subnet per
   * Availability Zone of the selection, and the S3 gateway endpoint is added to the route tables
   * of every selected subnet. Select the subnets the jobs run in.
   *
   * @default - interface endpoints: the VPC's isolated subnets, or its private subnets with egress
   * when it has no isolated ones (one per AZ); S3 gateway: the route tables of all isolated and
   * private subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Endpoints not to create, by name: `ecr.api`, `ecr.dkr`, `sts`, `secretsmanager`, `ssm`,
   * `kms`, `ecs` (interface) and `s3` (gateway, e.g. when the route tables already have one).
   *
   * @default - none: every endpoint
   */
  readonly exclude?: string[];
}

/**
 * VPC endpoints for a runner's jobs: AWS API traffic (ECR image pulls, secrets, state, STS)
 * stays in the VPC and does not pay NAT gateway data processing.
 *
 * Interface endpoints (private DNS on): `ecr.api`, `ecr.dkr`, `sts`, `secretsmanager`, `ssm`,
 * `kms` and `ecs`, in one security group that admits HTTPS only from the runner's security
 * groups and allows no egress; and an S3 gateway endpoint.
 *
 * Endpoints are not an egress path: every job reaches the orchestrator's gateway
 * (`RUNNER_GATEWAY_URL`, where it streams its logs and results) over HTTPS, and Terraform
 * downloads providers and modules from the internet (registry.terraform.io, GitHub) unless the
 * job image carries them. The jobs' subnets need a NAT gateway or a proxy you configure.
 *
 * Cost: each interface endpoint costs per AZ-hour plus per GB processed; the S3 gateway endpoint
 * is free. At the us-east-1 list price of $0.01 per endpoint per AZ-hour (list price as of 2026,
 * check the VPC pricing page), that is about $7.30 per endpoint-AZ-month: the 7 interface
 * endpoints in 2 AZs cost about 7 × 2 × $7.30 = $102.20 a month, in 3 AZs about $153.30, plus
 * $0.01 per GB. Use `exclude` for the ones the jobs do not need.
 */
export class RunnerVpcEndpoints extends Construct {
  /** Names of the interface endpoints the construct can create, for `exclude`. */
  public static readonly INTERFACE_ENDPOINT_NAMES: string[] = Object.keys(INTERFACE_ENDPOINTS);

  /** The security group of the interface endpoints. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The interface endpoints, in the order of `INTERFACE_ENDPOINT_NAMES` (without excluded ones). */
  public readonly endpoints: ec2.InterfaceVpcEndpoint[];
  /** The S3 gateway endpoint, unless excluded. */
  public readonly s3Endpoint?: ec2.GatewayVpcEndpoint;

  private readonly byName = new Map<string, ec2.InterfaceVpcEndpoint>();

  constructor(scope: Construct, id: string, props: RunnerVpcEndpointsProps) {
    super(scope, id);
    const exclude = validateProps(props);

    const interfaceSubnets: ec2.SubnetSelection = {
      ...(props.subnets ?? defaultInterfaceSubnets(props.vpc)),
      onePerAz: true,
    };
    const gatewaySubnets: ec2.SubnetSelection[] = props.subnets
      ? [props.subnets]
      : [ec2.SubnetType.PRIVATE_ISOLATED, ec2.SubnetType.PRIVATE_WITH_EGRESS]
          .filter((subnetType) => hasSubnets(props.vpc, subnetType))
          .map((subnetType) => ({ subnetType }));
    const selected = props.vpc.selectSubnets(interfaceSubnets);
    if (!Token.isUnresolved(selected.subnetIds) && selected.subnetIds.length === 0) {
      throw new EcsRunnerValidationError(
        'subnets',
        props.subnets ?? 'the default selection',
        'a selection with at least one subnet of the VPC',
      );
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Platform Orchestrator runner VPC endpoints: HTTPS from the runner jobs only',
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowFrom(props.runner, ec2.Port.tcp(443), 'HTTPS from the runner jobs');

    this.endpoints = [];
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      if (exclude.has(name)) continue;
      const endpoint = new ec2.InterfaceVpcEndpoint(this, endpointId(name), {
        vpc: props.vpc,
        service,
        subnets: interfaceSubnets,
        securityGroups: [this.securityGroup],
        privateDnsEnabled: true,
        open: false,
      });
      this.endpoints.push(endpoint);
      this.byName.set(name, endpoint);
    }
    if (!exclude.has(S3)) {
      this.s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3', {
        vpc: props.vpc,
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: gatewaySubnets,
      });
    }

    Tags.of(this).add('ManagedBy', MANAGED_BY_TAG);
  }

  /**
   * The interface endpoint of a service, e.g. `ecr.dkr`; undefined when excluded.
   *
   * @param name one of {@link RunnerVpcEndpoints.INTERFACE_ENDPOINT_NAMES}
   */
  public endpoint(name: string): ec2.InterfaceVpcEndpoint | undefined {
    if (!(name in INTERFACE_ENDPOINTS)) {
      throw new EcsRunnerValidationError(
        'name',
        name,
        `one of ${RunnerVpcEndpoints.INTERFACE_ENDPOINT_NAMES.join(', ')}`,
      );
    }
    return this.byName.get(name);
  }
}

function endpointId(name: string): string {
  return name
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function hasSubnets(vpc: ec2.IVpc, subnetType: ec2.SubnetType): boolean {
  return subnetType === ec2.SubnetType.PRIVATE_ISOLATED
    ? vpc.isolatedSubnets.length > 0
    : vpc.privateSubnets.length > 0;
}

function defaultInterfaceSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  if (hasSubnets(vpc, ec2.SubnetType.PRIVATE_ISOLATED)) return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  if (hasSubnets(vpc, ec2.SubnetType.PRIVATE_WITH_EGRESS)) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  throw new EcsRunnerValidationError(
    'vpc',
    vpc.vpcId,
    'a VPC with isolated or private subnets, or give subnets (endpoints do not belong in public subnets)',
  );
}

function validateProps(props: RunnerVpcEndpointsProps): Set<string> {
  if (props.vpc === undefined || props.vpc === null) {
    throw new EcsRunnerValidationError('vpc', props.vpc, 'the VPC the runner jobs run in');
  }
  if (props.runner === undefined || props.runner === null) {
    throw new EcsRunnerValidationError('runner', props.runner, 'the EcsRunner (or another IConnectable) to admit');
  }
  if (props.runner.connections.securityGroups.length === 0) {
    throw new EcsRunnerValidationError(
      'runner',
      'an IConnectable without security groups',
      'a runner with at least one security group (create the EcsRunner with vpc, securityGroups or securityGroupIds)',
    );
  }
  const accepted = [...Object.keys(INTERFACE_ENDPOINTS), S3];
  const exclude = new Set<string>();
  if (props.exclude !== undefined && !Token.isUnresolved(props.exclude)) {
    for (const [i, name] of props.exclude.entries()) {
      if (!accepted.includes(name)) {
        throw new EcsRunnerValidationError(`exclude[${i}]`, name, `one of ${accepted.join(', ')}`);
      }
      exclude.add(name);
    }
    if (exclude.size === accepted.length) {
      throw new EcsRunnerValidationError('exclude', props.exclude, 'a list that leaves at least one endpoint');
    }
  }
  return exclude;
}
