/**
 * Runners per stack (bench/scale.ts): the stacks are the examples' with more runners, and the fit
 * from 1 and 10 runners predicts other counts exactly.
 */
import { EcsRunner } from 'platform-orchestrator-ecs-runner';
import { App } from 'aws-cdk-lib';
import { fitScale, scaleStack, synthScale } from '../scale';

test.each(['basic', 'production'] as const)('%s: resources and outputs grow linearly, as fitted', (profile) => {
  // GIVEN the fit from 1 and 10 runners
  const fit = fitScale(profile, synthScale(profile, 1), synthScale(profile, 10));
  // WHEN 3 runners are synthesized
  const three = synthScale(profile, 3);
  // THEN the fit predicts them, and a runner adds resources the stack does not share
  expect(three.resources).toBe(fit.shared.resources + 3 * fit.perRunner.resources);
  expect(three.outputs).toBe(fit.shared.outputs + 3 * fit.perRunner.outputs);
  expect(fit.perRunner.resources).toBeGreaterThanOrEqual(8);
  expect(fit.max).toBe(Math.min(fit.fits.resources, fit.fits.bytes, fit.fits.outputs));
});

test('every production runner of the stack has its own runner id and monitoring', () => {
  const stack = scaleStack('production', 3, new App());
  const runners = stack.node.findAll().filter((c): c is EcsRunner => c instanceof EcsRunner);
  expect(runners.map((r) => r.runnerId)).toEqual(['prod-ecs-runner', 'prod-ecs-runner-1', 'prod-ecs-runner-2']);
  for (const r of runners) expect(r.node.tryFindChild('Monitoring')).toBeDefined();
});
