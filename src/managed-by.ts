import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The value of the `ManagedBy` tag on every taggable resource the library creates. */
export const MANAGED_BY = 'platform-orchestrator-ecs-runner';

/** Tag everything under `scope` as managed by this library. */
export function tagManagedBy(scope: IConstruct): void {
  Tags.of(scope).add('ManagedBy', MANAGED_BY);
}
