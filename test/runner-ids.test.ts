/** Two runners of one id (in one organization) in one app are a synth error naming both paths. */
import { App, Stack } from 'aws-cdk-lib';
import { EcsRunner, RunnerErrors } from 'platform-orchestrator-ecs-runner';
import { minimalProps } from './support/stacks';

const ENV = { account: '123456789012', region: 'eu-central-1' };

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('runner ids are unique in the app', () => {
  test('two runners of one id in one stack: an error naming both construct paths', () => {
    // GIVEN a stack with a runner
    const stack = new Stack(new App(), 'Runners', { env: ENV });
    new EcsRunner(stack, 'First', minimalProps({ runnerId: 'prod-runner' }));
    // WHEN a second runner takes the same id
    const error = thrownBy(() => new EcsRunner(stack, 'Second', minimalProps({ runnerId: 'prod-runner' })));
    // THEN
    expect(RunnerErrors.propertyOf(error)).toBe('runnerId');
    expect(String(error)).toContain('Runners/First and Runners/Second both have "prod-runner"');
  });

  test('two runners of one id in two stacks of one app (e.g. two regions): an error naming both', () => {
    const app = new App();
    new EcsRunner(new Stack(app, 'EuRunner', { env: ENV }), 'Runner', minimalProps({ runnerId: 'prod-runner' }));
    const us = new Stack(app, 'UsRunner', { env: { ...ENV, region: 'us-east-1' } });
    expect(() => new EcsRunner(us, 'Runner', minimalProps({ runnerId: 'prod-runner' }))).toThrow(
      /EuRunner\/Runner and UsRunner\/Runner both have "prod-runner"/,
    );
  });

  test('the same id in another organization, in another app, or derived ids: no error', () => {
    const app = new App();
    const stack = new Stack(app, 'Runners', { env: ENV });
    new EcsRunner(stack, 'A', minimalProps({ runnerId: 'prod-runner' }));
    expect(
      () => new EcsRunner(stack, 'B', minimalProps({ runnerId: 'prod-runner', orgId: 'other-org' })),
    ).not.toThrow();
    expect(() => new EcsRunner(stack, 'C', minimalProps())).not.toThrow();
    expect(() => new EcsRunner(stack, 'D', minimalProps())).not.toThrow();
    const other = new Stack(new App(), 'Runners', { env: ENV });
    expect(() => new EcsRunner(other, 'A', minimalProps({ runnerId: 'prod-runner' }))).not.toThrow();
  });
});
