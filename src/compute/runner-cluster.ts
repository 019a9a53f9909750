import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../acknowledgements';

/** Which Fargate capacity the runner's jobs use by default. */
export enum CapacityStrategy {
  /** All jobs on on-demand Fargate (FARGATE base 1, weight 1). */
  ON_DEMAND = 'ON_DEMAND',
  /** All jobs on Fargate Spot: cheaper, but a job can be interrupted. */
  SPOT = 'SPOT',
  /** First job on demand, the rest split 1:3 between on-demand and Spot. */
  MIXED = 'MIXED',
}

/** Container Insights of a created cluster. */
export enum ContainerInsightsMode {
  /** Container Insights with enhanced observability (task and container level metrics). */
  ENHANCED = 'enhanced',
  /** Container Insights (cluster and service level metrics); what Control Tower's CT.ECS.PR.2 accepts. */
  ENABLED = 'enabled',
}

/** Properties of {@link RunnerCluster}. */
export interface RunnerClusterProps {
  /** Default capacity provider strategy. */
  readonly capacityStrategy: CapacityStrategy;
  /** Container Insights mode. */
  readonly containerInsights: ContainerInsightsMode;
  /** VPC of the tasks, when known: only used to describe the cluster to CDK. */
  readonly vpc?: ec2.IVpc;
  /** Log group of ECS Exec sessions. */
  readonly execLogGroup: logs.ILogGroup;
  /** Key that encrypts ECS Exec sessions and their logs. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * An ECS cluster for the runner's jobs: Fargate and Fargate Spot capacity providers,
 * Container Insights with enhanced observability, and ECS Exec sessions logged to the
 * runner's exec log group (encrypted with the runner's key when it has one).
 */
export class RunnerCluster extends Construct {
  /** The cluster. */
  public readonly cluster: ecs.ICluster;
  /** The cluster's name. */
  public readonly clusterName: string;
  /** The cluster's ARN. */
  public readonly clusterArn: string;

  constructor(scope: Construct, id: string, props: RunnerClusterProps) {
    super(scope, id);
    const resource = new ecs.CfnCluster(this, 'Resource', {
      clusterSettings: [{ name: 'containerInsights', value: props.containerInsights }],
      configuration: {
        executeCommandConfiguration: {
          kmsKeyId: props.encryptionKey?.keyArn,
          logging: 'OVERRIDE',
          logConfiguration: {
            cloudWatchLogGroupName: props.execLogGroup.logGroupName,
            cloudWatchEncryptionEnabled: props.encryptionKey !== undefined,
          },
        },
      },
    });
    new ecs.CfnClusterCapacityProviderAssociations(this, 'CapacityProviders', {
      cluster: resource.ref,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: strategy(props.capacityStrategy),
    });
    if (props.containerInsights === ContainerInsightsMode.ENHANCED) {
      acknowledge(
        this,
        controlTower('ecs_container_insights_enabled_check'),
        'Container Insights is on with enhanced observability, a superset of "enabled" that adds the task-level metrics the runner dashboard uses; ' +
          'the guard rule accepts only the literal "enabled" (containerInsights: ContainerInsightsMode.ENABLED for accounts that enforce CT.ECS.PR.2).',
      );
    }
    this.clusterName = resource.ref;
    this.clusterArn = resource.attrArn;
    this.cluster = props.vpc
      ? ecs.Cluster.fromClusterAttributes(this, 'Ref', {
          clusterName: this.clusterName,
          clusterArn: this.clusterArn,
          vpc: props.vpc,
        })
      : ecs.Cluster.fromClusterArn(this, 'Ref', this.clusterArn);
  }
}

function strategy(
  kind: CapacityStrategy,
): ecs.CfnClusterCapacityProviderAssociations.CapacityProviderStrategyProperty[] {
  switch (kind) {
    case CapacityStrategy.SPOT:
      return [{ capacityProvider: 'FARGATE_SPOT', base: 1, weight: 1 }];
    case CapacityStrategy.MIXED:
      return [
        { capacityProvider: 'FARGATE', base: 1, weight: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 3 },
      ];
    case CapacityStrategy.ON_DEMAND:
    default:
      return [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }];
  }
}
