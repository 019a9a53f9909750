/**
 * Inputs AWS accepts but the orchestrator API does not: refused at synth, before anything is
 * deployed, rather than by the API when the runner is registered.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner } from '../src/ecs-runner';
import { EcsRunnerProps } from '../src/ecs-runner-props';
import { RunnerNetwork } from '../src/networking/runner-network';
import { expectValidationError } from './support/validation';

const minimal: EcsRunnerProps = {
  orgId: 'my-org',
  runnerId: 'prod-runner',
  network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
};

function stackIn(region: string): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region } });
}

describe('limits of the orchestrator API', () => {
  test('a China region is refused: the API takes arn:aws: role ARNs only', () => {
    // GIVEN a stack in aws-cn WHEN a runner is added THEN synthesis refuses, naming the region and the reason
    const stack = stackIn('cn-north-1');
    const error = expectValidationError(() => new EcsRunner(stack, 'Runner', minimal), 'stack region');
    expect(error.message).toContain('"cn-north-1"');
    expect(error.message).toContain('arn:aws:');
    expect(stack.node.findChild('Runner').node.children).toHaveLength(0);
  });

  test.each(['/team#1/', '/platform runners/', '/a:b/'])('rolePath %j is refused', (rolePath) => {
    // GIVEN / WHEN a role path IAM accepts but the API's role ARN pattern does not THEN it is refused
    const error = expectValidationError(
      () => new EcsRunner(stackIn('eu-central-1'), 'Runner', { ...minimal, rolePath }),
      'rolePath',
    );
    expect(error.message).toContain('+=,.@_-/');
  });

  test.each(['/', '/platform/runners/', '/team+1/a=b,c.d@e_f-g/'])('rolePath %j is accepted', (rolePath) => {
    // GIVEN / WHEN a role path within the API's pattern
    const stack = stackIn('eu-central-1');
    new EcsRunner(stack, 'Runner', { ...minimal, rolePath });
    // THEN every role of the runner has it
    const roles = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
    expect(roles.length).toBeGreaterThanOrEqual(3);
    for (const role of roles) expect(role.Properties.Path).toBe(rolePath);
  });
});
