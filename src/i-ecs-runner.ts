import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/**
 * A Platform Orchestrator runner as the constructs that work with one see it (e.g.
 * `RunnerMonitoring`): its ids, its cluster and its state bucket. `EcsRunner` implements it;
 * depending on this interface rather than the class keeps those constructs free of import cycles.
 */
export interface IEcsRunner extends IConstruct {
  /** The runner id the orchestrator knows the runner by. */
  readonly runnerId: string;
  /** The orchestrator organization id of the runner. */
  readonly orgId: string;
  /** Name of the ECS cluster the runner's jobs run on. */
  readonly clusterName: string;
  /** ARN of the ECS cluster the runner's jobs run on. */
  readonly clusterArn: string;
  /** The bucket that keeps the runner's Terraform state. */
  readonly stateBucket: s3.IBucket;
}
