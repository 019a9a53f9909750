/**
 * The stack's access-logs bucket is shared by its runners, and so is its retention: a runner's
 * state.bucket.accessLogs.retentionDays is never silently dropped.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner } from '../../src/ecs-runner';
import { EcsRunnerProps } from '../../src/ecs-runner-props';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { StateAccessLogs, StateBucket } from '../../src/state/state-bucket';
import { expectValidationError } from '../support/validation';

const subnetIds = ['subnet-0123456789abcdef0'];

function twoRunners(first?: number, second?: number): Stack {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-central-1' } });
  const props = (runnerId: string, days?: number): EcsRunnerProps => ({
    orgId: 'my-org',
    runnerId,
    network: RunnerNetwork.fromSubnetIds([...subnetIds]),
    state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.stackBucket({ retentionDays: days }) }) },
  });
  new EcsRunner(stack, 'First', props('first', first));
  new EcsRunner(stack, 'Second', props('second', second));
  return stack;
}

function accessLogRetention(stack: Stack): number[] {
  const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket', {
    Properties: { LifecycleConfiguration: { Rules: [{ Id: 'AccessLogRetention' }] } },
  });
  return Object.values(buckets).map((b) => b.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays);
}

describe("the stack's shared access-logs bucket", () => {
  test.each([
    ['no runner sets it', undefined, undefined, 365],
    ['the first sets it', 400, undefined, 400],
    ['the second sets it', undefined, 400, 400],
    ['both set the same', 400, 400, 400],
  ])('retention when %s', (_name, first, second, expected) => {
    // GIVEN / WHEN two runners of one stack
    const stack = twoRunners(first, second);
    // THEN there is one access-logs bucket, keeping logs for the days asked
    expect(accessLogRetention(stack)).toEqual([expected]);
  });

  test('two different retentions fail at synth, naming the one in use', () => {
    // GIVEN / WHEN runners of one stack ask for different retentions THEN synthesis refuses
    const error = expectValidationError(() => twoRunners(400, 30), 'state.bucket.accessLogs.retentionDays');
    expect(error.message).toContain('30');
    expect(error.message).toContain('400, the retention another runner');
  });
});
