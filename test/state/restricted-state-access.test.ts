/**
 * state.bucket restrictAccess: only the task role (and the named administrators) may read, write or
 * delete state objects, whatever other principals' IAM policies allow.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EcsRunner } from '../../src/ecs-runner';
import { EcsRunnerProps } from '../../src/ecs-runner-props';
import { RunnerEncryption } from '../../src/encryption/runner-encryption';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { StateBucket } from '../../src/state/state-bucket';
import { logicalId } from '../support/stacks';
import { expectValidationError } from '../support/validation';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/platform/break-glass`;

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
}

function runner(stack: Stack, props: Partial<EcsRunnerProps>): EcsRunner {
  return new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    runnerId: 'prod-runner',
    network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
    ...props,
  });
}

/** The state bucket policy's statements. */
function stateBucketStatements(template: Template): any[] {
  const bucketId = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
  const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter(
    (p) => p.Properties.Bucket.Ref === bucketId,
  );
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

describe('state.bucket restrictAccess', () => {
  test('denies object access to all but the task role and the administrators', () => {
    // GIVEN a runner with a break-glass administrator
    const stack = newStack();
    const admin = iam.Role.fromRoleArn(stack, 'BreakGlass', BREAK_GLASS);

    // WHEN state access is restricted
    runner(stack, { state: { bucket: StateBucket.create({ restrictAccess: true, administrators: [admin] }) } });

    // THEN the bucket policy denies the object actions unless the principal is one of them
    const template = Template.fromStack(stack);
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
    const taskRoleId = logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskRole');
    const deny = stateBucketStatements(template).filter((s) => s.Sid === 'DenyStateObjectAccessToAllButTheRunner');
    expect(deny).toEqual([
      {
        Sid: 'DenyStateObjectAccessToAllButTheRunner',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [taskRoleId, 'Arn'] }, BREAK_GLASS] } },
      },
    ]);
  });

  test('leaves replication alone: its actions are not denied', () => {
    // GIVEN a runner that replicates its state
    const stack = newStack();
    const destinationBucket = s3.Bucket.fromBucketAttributes(stack, 'Dr', {
      bucketName: 'runner-state-dr',
      region: 'eu-west-1',
    });
    const destinationEncryptionKey = kms.Key.fromKeyArn(
      stack,
      'DrKey',
      `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`,
    );

    // WHEN state access is restricted
    runner(stack, {
      encryption: RunnerEncryption.createKey(),
      state: {
        bucket: StateBucket.create({
          replication: { destinationBucket, destinationEncryptionKey },
          restrictAccess: true,
        }),
      },
    });

    // THEN the deny names none of the actions S3 replication uses on the source bucket
    const template = Template.fromStack(stack);
    const [deny] = stateBucketStatements(template).filter((s) => s.Effect === 'Deny' && s.Condition?.ArnNotEquals);
    for (const action of [
      's3:GetObjectVersionForReplication',
      's3:GetObjectVersionAcl',
      's3:GetObjectVersionTagging',
      's3:GetReplicationConfiguration',
      's3:ListBucket',
    ]) {
      expect(deny.Action).not.toContain(action);
    }
    expect(deny.Action.some((a: string) => a.includes('*'))).toBe(false);
  });

  test('is off by default: the bucket policy only refuses plain HTTP', () => {
    // GIVEN / WHEN a runner without the option
    const stack = newStack();
    runner(stack, {});
    // THEN
    const statements = stateBucketStatements(Template.fromStack(stack));
    expect(statements.map((s) => s.Effect)).toEqual(['Deny']);
    expect(statements[0].Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  test.each([
    [
      'destroyOnRemoval',
      () => ({ state: { bucket: StateBucket.create({ restrictAccess: true, destroyOnRemoval: true }) } }),
      'state.bucket.restrictAccess',
    ],
    [
      'administrators without restrictAccess',
      (stack: Stack) => ({
        state: { bucket: StateBucket.create({ administrators: [iam.Role.fromRoleArn(stack, 'Admin', BREAK_GLASS)] }) },
      }),
      'state.bucket.administrators',
    ],
  ])('is refused with %s, before anything is created', (_name, props, property) => {
    // GIVEN / WHEN / THEN
    const stack = newStack();
    expectValidationError(() => runner(stack, props(stack) as Partial<EcsRunnerProps>), property);
    expect(stack.node.findChild('Runner').node.children).toHaveLength(0);
  });
});
