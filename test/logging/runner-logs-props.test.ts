import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { logicalId, newStack, synthRunner } from '../support/stacks';

const JOBS = '/platform-orchestrator/prod-runner/jobs';
const EXEC = '/platform-orchestrator/prod-runner/exec';

/** The logical id and properties of the only log group named `name`. */
function logGroupNamed(template: Template, name: string): { id: string; properties: Record<string, unknown> } {
  const found = Object.entries(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: name } }));
  expect(found).toHaveLength(1);
  return { id: found[0][0], properties: found[0][1].Properties };
}

/** The statements of the key policy of the KMS key with this logical id. */
function keyPolicyStatements(template: Template, keyId: string): any[] {
  return template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement;
}

describe('RunnerLogs retention (logRetention)', () => {
  test('a non-default logRetention of 90 days reaches the job and the exec log group', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', logRetention: logs.RetentionDays.THREE_MONTHS });

    // THEN
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    expect(logGroupNamed(template, JOBS).properties.RetentionInDays).toBe(90);
    expect(logGroupNamed(template, EXEC).properties.RetentionInDays).toBe(90);
  });

  test('without logRetention both log groups keep logs for one year (365 days), the documented default', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner' });

    // THEN
    expect(logGroupNamed(template, JOBS).properties.RetentionInDays).toBe(365);
    expect(logGroupNamed(template, EXEC).properties.RetentionInDays).toBe(365);
  });
});

describe('RunnerLogs encryption with the runner key', () => {
  test('a runner-created key lets CloudWatch Logs use it for /platform-orchestrator/<runnerId>/* only', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', createEncryptionKey: true });

    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    const keyId = logicalId(template, 'AWS::KMS::Key', 'RunnerEncryptionKey');
    const logsStatements = keyPolicyStatements(template, keyId).filter((s) =>
      JSON.stringify(s.Principal ?? {}).includes('logs.'),
    );
    expect(logsStatements).toEqual([
      {
        Sid: expect.stringMatching(/^CloudWatchLogsForRunnerLogs[0-9A-F]{8}$/),
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:eu-central-1:123456789012:log-group:/platform-orchestrator/prod-runner/*',
                ],
              ],
            },
          },
        },
      },
    ]);
  });

  test('both log groups are encrypted with the runner-created key', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', createEncryptionKey: true });

    // THEN
    const keyId = logicalId(template, 'AWS::KMS::Key', 'RunnerEncryptionKey');
    expect(logGroupNamed(template, JOBS).properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(logGroupNamed(template, EXEC).properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('a key of the stack the user brings encrypts the log groups and gets the CloudWatch Logs statement', () => {
    // GIVEN a key created outside the runner, in the runner's stack
    const stack: Stack = newStack();
    const key = new kms.Key(stack, 'UserKey');

    // WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner', encryptionKey: key }, stack);

    // THEN the log groups use it
    const keyId = logicalId(template, 'AWS::KMS::Key', 'UserKey');
    expect(logGroupNamed(template, EXEC).properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    // AND its policy lets CloudWatch Logs use it for the runner's log groups only
    const logsStatements = keyPolicyStatements(template, keyId).filter((s) =>
      JSON.stringify(s.Principal ?? {}).includes('logs.'),
    );
    expect(logsStatements).toHaveLength(1);
    expect(JSON.stringify(logsStatements[0].Condition.ArnLike)).toContain(
      ':log-group:/platform-orchestrator/prod-runner/*',
    );
    // AND nothing warns
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('key policy'));
  });

  test('without a key the log groups use AWS-owned keys (no KmsKeyId)', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner' });

    // THEN
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { KmsKeyId: Match.absent() }, 2);
  });
});
