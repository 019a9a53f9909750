import { Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsRunnerValidationError } from './errors';
import { appSingleton } from './singletons';

/**
 * The runners of an app, by `<orgId>/<runnerId>`: the construct path of the first one. A construct
 * at the root of the app (it synthesizes nothing), so the app's tree keeps the record, not module state.
 */
class RunnerIdsOfApp extends Construct {
  public readonly claimed = new Map<string, string>();
}

/** Construct id of the app's runner-id record, a child of the app (synthesizes nothing). */
const RUNNER_IDS_ID = 'PlatformOrchestratorRunnerIds';

/**
 * A runner id is unique in its orchestrator organization, wherever the stacks deploy: two runners
 * of one id, in one stack or in two stacks of one app, would register the same runner (the second
 * registration fails or, with adoption, repoints the first runner to the second's roles). A synth
 * error names both construct paths. Ids that are tokens are not checked.
 */
export function claimRunnerId(runner: Construct, orgId: string, runnerId: string): void {
  if (Token.isUnresolved(orgId) || Token.isUnresolved(runnerId)) return;
  const claimed = appSingleton(
    runner,
    RUNNER_IDS_ID,
    RunnerIdsOfApp,
    (root, id) => new RunnerIdsOfApp(root, id),
  ).claimed;
  const key = `${orgId}/${runnerId}`;
  const first = claimed.get(key);
  if (first !== undefined && first !== runner.node.path) {
    throw new EcsRunnerValidationError(
      'runnerId',
      runnerId,
      `an id no other runner of organization ${orgId} in this app has: ${first} and ${runner.node.path} both have "${runnerId}" (set a different runnerId or runnerIdPrefix on one of them)`,
    );
  }
  claimed.set(key, runner.node.path);
}
