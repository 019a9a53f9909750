/**
 * The orchestrator's real client, replayed call by call (../shared/platform-orchestrator/README.md,
 * "How the orchestrator uses an ECS runner"): for every runner of every example, of each compliance
 * profile and of a Stellwerk runner made the documented way, each call of the contract is allowed
 * and each attack denied, as decided by the offline engine (the one `po-ecs-runner check
 * --template` runs) over the synthesized template's policies. Every decision is cross-checked
 * against `@cloud-copilot/iam-simulate`, so the engine's evaluator is not our own model of IAM.
 */
import { CallResult, RunnerResults, evaluateOffline, readTemplate, contractCalls } from '../../src/cli/check';
import { simulate } from './iam-simulate';
import {
  EXAMPLES,
  SynthesizedStack,
  synthesizeExample,
  synthesizeProfiles,
  synthesizeStellwerkFixture,
} from './templates';

const STACKS: SynthesizedStack[] = [
  ...EXAMPLES.flatMap(synthesizeExample),
  ...synthesizeProfiles(),
  ...synthesizeStellwerkFixture(),
];

const failures = (results: CallResult[]) => results.filter((r) => !r.ok).map((r) => `${r.call.id}: ${r.detail}`);

describe.each(STACKS.map((s) => [`${s.source} (${s.stackName})`, s] as const))('%s', (_name, stack) => {
  const checked: RunnerResults[] = evaluateOffline(stack.template);

  test('has at least one runner, each with the real calls and the attacks', () => {
    expect(checked.length).toBeGreaterThan(0);
    for (const { results } of checked) {
      const ids = results.map((r) => r.call.id);
      for (const id of [
        'token:sts:AssumeRoleWithWebIdentity',
        'task-manager:ecs:RegisterTaskDefinition',
        'task-manager:ecs:RunTask',
        'task-manager:iam:PassRole:execution',
        'task-manager:iam:PassRole:task',
        'task:s3:PutObject:state',
        'task:s3:DeleteObject:lock',
        'attack:RunTask-other-cluster',
        'attack:token-other-runner',
      ]) {
        expect(ids).toContain(id);
      }
    }
  });

  test('for the orchestrator it is configured for, every real call is allowed', () => {
    for (const { results } of checked) {
      expect(failures(results.filter((r) => r.call.expect === 'allowed'))).toEqual([]);
    }
  });

  test('every attack is denied', () => {
    for (const { results } of checked) {
      expect(failures(results.filter((r) => r.call.expect === 'denied'))).toEqual([]);
    }
  });

  test('for the other orchestrator, its task definitions are refused', () => {
    for (const { runner } of checked) {
      const other = runner.orchestrator.name === 'humanitec' ? 'stellwerk' : 'humanitec';
      const [wrong] = evaluateOffline(stack.template, { runnerId: runner.runnerId, orchestrator: other });
      expect(wrong.runner.orchestrator.name).toBe(other);
      const failed = wrong.results.filter((r) => !r.ok).map((r) => r.call.id);
      expect(failed).toContain('task-manager:ecs:RegisterTaskDefinition');
      expect(failed).toContain('task-manager:ecs:RunTask');
    }
  });

  test('iam-simulate decides every call the same way', async () => {
    const model = readTemplate(stack.template);
    const disagreements: string[] = [];
    for (const runner of model.runners) {
      const [ours] = evaluateOffline(stack.template, { runnerId: runner.runnerId });
      for (const [i, call] of contractCalls(runner).entries()) {
        const theirs = await simulate(model, runner, call);
        if (theirs.decision !== ours.results[i].decision) {
          disagreements.push(`${call.id}: engine ${ours.results[i].decision}, iam-simulate ${theirs.overall}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });
});

test('the Stellwerk fixture is read as a Stellwerk runner with its secrets, image and path prefix', () => {
  const [stack] = synthesizeStellwerkFixture();
  const [{ runner, results }] = evaluateOffline(stack.template);
  expect(runner.orchestrator.name).toBe('stellwerk');
  expect(runner.orchestrator.taskDefinitionFamilyPrefix).toBe('platform_orchestrator_');
  const ids = results.map((r) => r.call.id);
  expect(ids).toEqual(
    expect.arrayContaining([
      'execution:secretsmanager:GetSecretValue:GIT_TOKEN',
      'execution:kms:Decrypt:GIT_TOKEN',
      'execution:ssm:GetParameters:TF_VAR_db_password',
      'execution:ecr:BatchGetImage',
      'task:kms:GenerateDataKey:state',
      'attack:RegisterTaskDefinition-other-org-family',
      'attack:job-decrypts-outside-s3',
    ]),
  );
  const put = results.find((r) => r.call.id === 'task:s3:PutObject:state')!;
  expect(put.call.resource).toMatch(/:::[^/]+\/platform\/state\/[0-9a-f-]+\.tfstate$/);
});
