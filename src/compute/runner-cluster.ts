import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../acknowledgements';

/** Container Insights of a created cluster. */
export enum ContainerInsightsMode {
  /** Container Insights with enhanced observability (task and container level metrics). */
  ENHANCED = 'enhanced',
  /** Container Insights (cluster and service level metrics); what Control Tower's CT.ECS.PR.2 accepts. */
  ENABLED = 'enabled',
}

/** Properties of {@link RunnerCluster}. */
export interface RunnerClusterProps {
  /** Container Insights mode. */
  readonly containerInsights: ContainerInsightsMode;
  /** VPC of the tasks, when known: only used to describe the cluster to CDK. */
  readonly vpc?: ec2.IVpc;
}

/**
 * An ECS cluster for the runner's jobs, with Container Insights (enhanced observability by
 * default).
 *
 * No capacity providers: the orchestrator runs every job with `launchType: FARGATE`, which
 * needs none, and never uses a cluster's default capacity provider strategy (so Fargate Spot
 * is not available through the orchestrator). No ECS Exec configuration: the orchestrator never
 * enables ECS Exec on the tasks it runs, and the task-manager role may not.
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
