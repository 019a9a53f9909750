import { CfnResource, Stack, TagManager, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EcsRunnerValidationError } from './errors';
import { tagManagedBy } from './managed-by';

/** AWS's limit of tags per resource (IAM roles, S3 buckets, KMS keys, ECS clusters, log groups). */
const MAX_TAGS_PER_RESOURCE = 50;

/**
 * The runner's tags: `ManagedBy` and `tags` on every taggable resource under `runner`, and the
 * checks that can only run once the app is synthesized (tags are aspects): the required keys are
 * present and no resource carries more than AWS's 50.
 */
export function tagRunner(
  runner: Construct,
  taskRole: iam.IRole,
  tags: Record<string, string>,
  requiredTagKeys: string[],
): void {
  tagManagedBy(runner);
  for (const [key, value] of Object.entries(tags)) {
    Tags.of(runner).add(key, value);
  }
  limitTagCount(runner);
  if (requiredTagKeys.length > 0) requireTags(runner, taskRole, requiredTagKeys);
}

/**
 * Every required tag key must be on the runner's resources when the app is synthesized, from
 * `tags`, the stack's tags or `Tags.of(...)` anywhere above the runner. Checked on the task role,
 * which every runner has. Stack tags count too: CloudFormation applies them to every resource.
 */
function requireTags(runner: Construct, taskRole: iam.IRole, requiredTagKeys: string[]): void {
  const cfnRole = taskRole.node.defaultChild as iam.CfnRole;
  runner.node.addValidation({
    validate: () => {
      // Stack tags are applied by CloudFormation at deploy time, not written on each resource.
      const present = { ...Stack.of(runner).tags.tagValues(), ...cfnRole.tags.tagValues() };
      // A list token's keys are known only at deploy time: nothing to check.
      if (Token.isUnresolved(requiredTagKeys)) return [];
      return requiredTagKeys
        .filter((key) => !Token.isUnresolved(key) && !Object.prototype.hasOwnProperty.call(present, key))
        .map(
          (key) =>
            new EcsRunnerValidationError(
              'tags',
              Object.keys(present).join(', '),
              `a value for the required tag key "${key}" (requiredTagKeys), from tags, the stack's tags or Tags.of()`,
            ).message,
        );
    },
  });
}

/**
 * No resource of the runner may carry more than 50 tags once the stack's tags (which
 * CloudFormation adds to every resource) and every `Tags.of()` are applied.
 */
function limitTagCount(runner: Construct): void {
  runner.node.addValidation({
    validate: () => {
      const stackTags = Stack.of(runner).tags.tagValues();
      for (const child of runner.node.findAll()) {
        // TagManager.of: resources with `tags` (ITaggable) and with `cdkTagManager` (ITaggableV2,
        // e.g. CloudWatch alarms and dashboards) alike.
        const manager = CfnResource.isCfnResource(child) ? TagManager.of(child) : undefined;
        if (manager === undefined) continue;
        const count = Object.keys({ ...stackTags, ...manager.tagValues() }).length;
        if (count > MAX_TAGS_PER_RESOURCE) {
          return [
            new EcsRunnerValidationError(
              'tags',
              `${count} tags on ${child.node.path}`,
              `at most ${MAX_TAGS_PER_RESOURCE} tags per resource, counting tags, the stack's tags and Tags.of() (AWS refuses more)`,
            ).message,
          ];
        }
      }
      return [];
    },
  });
}
