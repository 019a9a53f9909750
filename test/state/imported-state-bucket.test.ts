import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { RunnerEncryption, StateBucket } from 'platform-orchestrator-ecs-runner';
import { logicalId, newStack, statementsOfRole, synthRunner } from '../support/stacks';

const KEY_ARN = 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The statements the task role gets on the imported bucket `my-state` (state prefix: whole bucket). */
const S3_STATEMENTS = [
  {
    Sid: 'ListStateBucket',
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-state']] },
  },
  {
    Sid: 'ReadWriteState',
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-state/*']] },
  },
  {
    Sid: 'DeleteStateLockFiles',
    Effect: 'Allow',
    Action: 's3:DeleteObject',
    Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-state/*.tflock']] },
  },
];

function taskRoleStatements(template: ReturnType<typeof synthRunner>['template']): any[] {
  return statementsOfRole(template, logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskRole'));
}

describe('imported state bucket', () => {
  test('encrypted with its own KMS key in another region: the task role gets StateDataKeys on that key via S3 of that region', () => {
    // GIVEN an existing bucket in us-west-2 encrypted with a customer managed key (stack in eu-central-1)
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'StateKey', KEY_ARN);
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'StateBucket', {
      bucketName: 'my-state',
      encryptionKey: key,
      region: 'us-west-2',
    });

    // WHEN
    const { template } = synthRunner(
      { runnerId: 'prod-runner', state: { bucket: StateBucket.fromBucket(bucket) } },
      stack,
    );

    // THEN
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(taskRoleStatements(template)).toEqual([
      ...S3_STATEMENTS,
      {
        Sid: 'StateDataKeys',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Condition: { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } },
      },
    ]);
  });

  test('imported with a key but no region: kms:ViaService names S3 of the stack region', () => {
    // GIVEN
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'StateKey', KEY_ARN);
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'StateBucket', { bucketName: 'my-state', encryptionKey: key });

    // WHEN
    const { template } = synthRunner(
      { runnerId: 'prod-runner', state: { bucket: StateBucket.fromBucket(bucket) } },
      stack,
    );

    // THEN
    expect(taskRoleStatements(template).filter((s) => s.Sid === 'StateDataKeys')).toEqual([
      {
        Sid: 'StateDataKeys',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      },
    ]);
  });

  test('imported by name without a key: no StateDataKeys statement and no KMS permission at all', () => {
    // GIVEN
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'StateBucket', 'my-state');

    // WHEN
    const { template } = synthRunner(
      { runnerId: 'prod-runner', state: { bucket: StateBucket.fromBucket(bucket) } },
      stack,
    );

    // THEN
    expect(taskRoleStatements(template)).toEqual(S3_STATEMENTS);
  });

  test("imported without a key, the runner's own key is not granted for state (it does not encrypt that bucket)", () => {
    // GIVEN a runner with a created key and an existing bucket imported without one
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'StateBucket', { bucketName: 'my-state' });

    // WHEN
    const { template } = synthRunner(
      {
        runnerId: 'prod-runner',
        state: { bucket: StateBucket.fromBucket(bucket) },
        encryption: RunnerEncryption.createKey(),
      },
      stack,
    );

    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(taskRoleStatements(template)).toEqual(S3_STATEMENTS);
  });
});
