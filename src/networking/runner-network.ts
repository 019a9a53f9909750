import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';

/** Options of {@link RunnerNetwork.createVpc}. */
export interface CreateRunnerVpcOptions {
  /**
   * NAT gateways: 1 is shared by both AZs, 2 gives each AZ its own (no cross-AZ dependency, twice
   * the hourly cost).
   *
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * Retention of the VPC's flow-log group `/platform-orchestrator/<runnerId>/vpc-flow-logs`. The
   * runner has no other log group: the orchestrator's task definitions have no log configuration,
   * so jobs' logs are in the orchestrator.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** Options of {@link RunnerNetwork.fromSubnets} and {@link RunnerNetwork.fromSubnetIds}. */
export interface RunnerSubnetsOptions {
  /**
   * The VPC of the subnets. With it, the runner creates an egress-only security group for the jobs
   * (unless given `securityGroups`) and checks, where it can at synth, that the subnets are the VPC's.
   *
   * @default - no VPC: the runner creates no security group, so pass `securityGroups` (or ECS
   * attaches the VPC's default security group to the jobs)
   */
  readonly vpc?: ec2.IVpc;
}

/** Where the jobs run: a VPC of the runner's own, your VPC, or your subnets. */
export class RunnerNetwork {
  /**
   * A VPC of the runner's own (construct id `Network`): two AZs, private subnets with egress through
   * NAT, flow logs to a retained log group (encrypted with the runner's key when it has one), the
   * default security group emptied.
   */
  public static createVpc(options: CreateRunnerVpcOptions = {}): RunnerNetwork {
    return new RunnerNetwork('CREATE_VPC', { createOptions: options });
  }

  /**
   * Your VPC: the jobs run in its private subnets with egress (1 to 16 of them), with an egress-only
   * security group the runner creates in it (unless given `securityGroups`).
   */
  public static fromVpc(vpc: ec2.IVpc): RunnerNetwork {
    return new RunnerNetwork('FROM_VPC', { vpc });
  }

  /** Your subnets (1 to 16), with their VPC when you have it (see {@link RunnerSubnetsOptions.vpc}). */
  public static fromSubnets(subnets: ec2.ISubnet[], options: RunnerSubnetsOptions = {}): RunnerNetwork {
    return new RunnerNetwork('FROM_SUBNETS', { subnets, vpc: options.vpc });
  }

  /**
   * Ids of your subnets (1 to 16), e.g. `subnet-0123456789abcdef0`, or a list token (a
   * `List<AWS::EC2::Subnet::Id>` parameter, `Fn.split`), with their VPC when you have it (see
   * {@link RunnerSubnetsOptions.vpc}).
   */
  public static fromSubnetIds(subnetIds: string[], options: RunnerSubnetsOptions = {}): RunnerNetwork {
    return new RunnerNetwork('FROM_SUBNET_IDS', { subnetIds, vpc: options.vpc });
  }

  /** Which choice this is: `CREATE_VPC`, `FROM_VPC`, `FROM_SUBNETS` or `FROM_SUBNET_IDS`. */
  public readonly kind: string;

  /** The VPC given to `fromVpc`, or to the subnets' options. */
  public readonly vpc?: ec2.IVpc;

  /** The subnets given to `fromSubnets`. */
  public readonly subnets?: ec2.ISubnet[];

  /** The subnet ids given to `fromSubnetIds`. */
  public readonly subnetIds?: string[];

  /** The options given to `createVpc`. */
  public readonly createOptions?: CreateRunnerVpcOptions;

  private constructor(kind: string, choice: RunnerNetworkChoice) {
    this.kind = kind;
    this.vpc = choice.vpc;
    this.subnets = choice.subnets;
    this.subnetIds = choice.subnetIds;
    this.createOptions = choice.createOptions;
  }
}

interface RunnerNetworkChoice {
  readonly vpc?: ec2.IVpc;
  readonly subnets?: ec2.ISubnet[];
  readonly subnetIds?: string[];
  readonly createOptions?: CreateRunnerVpcOptions;
}
