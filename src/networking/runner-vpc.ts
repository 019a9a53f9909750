import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowLogsToUseKey } from '../encryption/key-policy';

/** Properties of {@link RunnerVpc}. */
export interface RunnerVpcProps {
  /** NAT gateways (1 or 2): one is shared by both AZs' private subnets, two give one per AZ. */
  readonly natGateways: number;
  /** Name of the flow-log log group, e.g. `/platform-orchestrator/<runnerId>/vpc-flow-logs`. */
  readonly flowLogGroupName: string;
  /** Retention of the flow-log log group. */
  readonly retention: logs.RetentionDays;
  /**
   * Key that encrypts the flow-log log group; CloudWatch Logs' own encryption when undefined.
   * CloudWatch Logs is allowed to use it for this log group only (allowLogsToUseKey).
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The VPC a runner creates when it is given neither a VPC nor subnets, like the self-hosted
 * edition's own Terraform module: two AZs, a public subnet (/24) per AZ for the NAT gateway(s) and a
 * private subnet with egress (/20) per AZ for the jobs, which need outbound HTTPS to the
 * orchestrator, the image registry and the provider registries. Flow logs of all traffic go to a
 * retained, encrypted-when-keyed log group. The default security group is stripped of its rules
 * (CDK's custom resource), so nothing can use it by accident.
 */
export class RunnerVpc extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;
  /** The flow logs' log group. */
  public readonly flowLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RunnerVpcProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Jobs', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    if (props.encryptionKey) {
      allowLogsToUseKey(this, {
        key: props.encryptionKey,
        logGroupArn: Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: props.flowLogGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
        sidPrefix: 'CloudWatchLogsForFlowLogs',
        property: "encryption (the runner's key)",
        what: `the flow logs of the runner's VPC (${props.flowLogGroupName})`,
        warningId: 'flowLogsKeyPolicy',
      });
    }
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName: props.flowLogGroupName,
      retention: props.retention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
