import { logicalId, synthRunner } from '../support/stacks';

/** The ExecuteCommandConfiguration of the only cluster in the template. */
function execConfiguration(template: ReturnType<typeof synthRunner>['template']): unknown {
  const clusters = Object.values(template.findResources('AWS::ECS::Cluster'));
  expect(clusters).toHaveLength(1);
  return clusters[0].Properties.Configuration.ExecuteCommandConfiguration;
}

/** The logical id of the only log group named `name`. */
function logGroupId(template: ReturnType<typeof synthRunner>['template'], name: string): string {
  const ids = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: name } }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('RunnerCluster ECS Exec configuration', () => {
  test.each([
    ['with ECS Exec allowed', { allowExecuteCommand: true }],
    ['with allowExecuteCommand unset (exec is granted on the task role, not the cluster)', {}],
  ])('with the runner key, sessions and their logs are encrypted with it, %s', (_name, exec) => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', createEncryptionKey: true, ...exec });

    // THEN
    const keyId = logicalId(template, 'AWS::KMS::Key', 'RunnerEncryptionKey');
    const execLogGroupId = logGroupId(template, '/platform-orchestrator/prod-runner/exec');
    expect(execConfiguration(template)).toEqual({
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      Logging: 'OVERRIDE',
      LogConfiguration: {
        CloudWatchEncryptionEnabled: true,
        CloudWatchLogGroupName: { Ref: execLogGroupId },
      },
    });
  });

  test('without a key, sessions are logged to the exec log group unencrypted and no KMS key is set', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', allowExecuteCommand: true });

    // THEN
    const execLogGroupId = logGroupId(template, '/platform-orchestrator/prod-runner/exec');
    expect(execConfiguration(template)).toEqual({
      Logging: 'OVERRIDE',
      LogConfiguration: {
        CloudWatchEncryptionEnabled: false,
        CloudWatchLogGroupName: { Ref: execLogGroupId },
      },
    });
  });
});
