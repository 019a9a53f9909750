/**
 * Legal but risky settings are warned about at synth (each with an id to acknowledge), and the
 * one combination that could repoint another deployment's runner is refused.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner } from '../src/ecs-runner';
import { EcsRunnerProps } from '../src/ecs-runner-props';
import { RunnerNetwork } from '../src/networking/runner-network';
import { StateBucket } from '../src/state/state-bucket';
import { ensureBundled } from './support/bundles';
import { expectValidationError } from './support/validation';

const network = RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']);

beforeAll(() => ensureBundled());

/** The warnings of the stack by id, but the one every runner without a VPC gets (security group). */
function warningIds(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('.*'))
    .map((w) => /\[ack: ([^\]]+)\]/.exec(String(w.entry.data))?.[1] ?? String(w.entry.data))
    .filter((id) => id !== 'platform-orchestrator-ecs-runner:defaultSecurityGroup');
}

function runnerIn(stack: Stack, props: Partial<EcsRunnerProps>): EcsRunner {
  return new EcsRunner(stack, 'Runner', { orgId: 'my-org', network, ...props });
}

const concrete = { account: '123456789012', region: 'eu-central-1' };

describe('warnings', () => {
  test('StateBucket.create({ destroyOnRemoval: true }) warns that the state goes with the stack', () => {
    // GIVEN / WHEN
    const stack = new Stack(new App(), 'Stack', { env: concrete });
    runnerIn(stack, { runnerId: 'test-runner', state: { bucket: StateBucket.create({ destroyOnRemoval: true }) } });
    // THEN
    expect(warningIds(stack)).toContain('platform-orchestrator-ecs-runner:destroyStateOnRemoval');
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('^state\\.bucket destroyOnRemoval deletes'));
  });

  test('a default session name over 64 characters warns that the orchestrator cuts it', () => {
    // GIVEN an org id and runner id whose "<orgId>-<runnerId>" is 83 characters
    const stack = new Stack(new App(), 'Stack', { env: concrete });
    const orgId = 'a-very-long-organization-id-of-forty-chars';
    const runnerId = 'runner-with-a-long-id-of-forty-characters';
    // WHEN
    new EcsRunner(stack, 'Runner', { orgId, runnerId, network });
    // THEN a warning (not an error: the orchestrator cuts the name to 64, it does not refuse it)
    expect(warningIds(stack)).toEqual(['platform-orchestrator-ecs-runner:sessionNameCut']);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp(`cuts it to 64 \\("${`${orgId}-${runnerId}`.slice(0, 64)}"\\)`),
    );
    // and none with an explicit sessionName, or a pair within 64 characters
    const other = new Stack(new App(), 'Other', { env: concrete });
    new EcsRunner(other, 'Runner', { orgId, runnerId, network, sessionName: 'po-long-runner' });
    new EcsRunner(other, 'Short', { orgId: 'my-org', runnerId: 'short-runner', network });
    expect(warningIds(other)).toEqual([]);
  });

  test('none of these for a registered runner with a runnerId on its own cluster', () => {
    // GIVEN / WHEN the usual production settings
    const stack = new Stack(new App(), 'Stack');
    const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token');
    runnerIn(stack, { runnerId: 'prod-runner', registration: { apiTokenSecret } });
    // THEN
    expect(warningIds(stack)).toEqual([]);
  });
});

describe('a derived runner id in an environment-agnostic stack that registers itself', () => {
  test('warns that a second account or region would register the same id', () => {
    // GIVEN an environment-agnostic stack WHEN a runner without runnerId registers itself
    const stack = new Stack(new App(), 'Stack');
    const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token');
    runnerIn(stack, { registration: { apiTokenSecret } });
    // THEN
    expect(warningIds(stack)).toEqual(['platform-orchestrator-ecs-runner:derivedRunnerIdWithoutEnv']);
  });

  test('is refused with registration.adoptExisting, which would repoint the other deployment', () => {
    // GIVEN an environment-agnostic stack
    const stack = new Stack(new App(), 'Stack');
    const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token');
    // WHEN / THEN adopting a derived id is refused, naming runnerId, before anything is created
    const error = expectValidationError(
      () => runnerIn(stack, { registration: { apiTokenSecret, adoptExisting: true } }),
      'runnerId',
    );
    expect(error.message).toContain('registration.adoptExisting');
    expect(stack.node.findChild('Runner').node.children).toHaveLength(0);
  });

  test('is fine in a stack with a concrete account and region', () => {
    // GIVEN / WHEN the same runner in a concrete environment
    const stack = new Stack(new App(), 'Stack', { env: concrete });
    const apiTokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'po/api-token');
    runnerIn(stack, { registration: { apiTokenSecret, adoptExisting: true } });
    // THEN
    expect(warningIds(stack)).toEqual([]);
  });
});
