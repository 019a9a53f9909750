import { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  EcsRunner,
  Orchestrator,
  RunnerEncryption,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from '../support/cfn';
import { logicalId, minimalProps, newStack, statementsOfRole, synthRunner } from '../support/stacks';

function stateBucket(template: Template) {
  const id = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
  return { id, resource: template.toJSON().Resources[id] };
}

describe('created state bucket', () => {
  test('versioned, SSE-S3, all public access blocked, ACLs disabled, retained, generated name', () => {
    const { template } = synthRunner();
    const { resource } = stateBucket(template);
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(resource.Properties.BucketName).toBeUndefined();
    expect(resource.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('lifecycle defaults: noncurrent to STANDARD_IA after 30 days, expired after 90, multipart aborted after 7', () => {
    const { template } = synthRunner();
    expect(stateBucket(template).resource.Properties.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'StateVersions',
        Status: 'Enabled',
        NoncurrentVersionTransitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
        NoncurrentVersionExpiration: { NoncurrentDays: 90 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
    ]);
  });

  test('lifecycle days are configurable', () => {
    const { template } = synthRunner({
      state: {
        bucket: StateBucket.create({
          noncurrentVersionTransitionDays: 45,
          noncurrentVersionExpirationDays: 400,
          abortIncompleteMultipartUploadDays: 2,
        }),
      },
    });
    expect(stateBucket(template).resource.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({
      NoncurrentVersionTransitions: [{ TransitionInDays: 45 }],
      NoncurrentVersionExpiration: { NoncurrentDays: 400 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    });
  });

  test('TLS-only bucket policy', () => {
    const { template } = synthRunner();
    const { id } = stateBucket(template);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('server access logs go to one stack-shared SSE-S3, TLS-only, retained bucket under the runner id', () => {
    // GIVEN
    const stack = newStack();
    const a = new EcsRunner(stack, 'A', minimalProps({ runnerId: 'a-runner' }));
    const b = new EcsRunner(stack, 'B', minimalProps({ runnerId: 'b-runner' }));
    const template = Template.fromStack(stack);
    const logsBucket = logicalId(template, 'AWS::S3::Bucket', 'PlatformOrchestratorRunnerAccessLogs');
    const buckets = template.findResources('AWS::S3::Bucket');
    // THEN: the runners' stateBucket members are the two other buckets, logging under their runner ids
    const aState = stack.getLogicalId(a.stateBucket.node.defaultChild as CfnElement);
    const bState = stack.getLogicalId(b.stateBucket.node.defaultChild as CfnElement);
    expect(Object.keys(buckets).sort()).toEqual([aState, bState, logsBucket].sort());
    expect(buckets[aState].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsBucket },
      LogFilePrefix: 'a-runner/',
    });
    expect(buckets[bState].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsBucket },
      LogFilePrefix: 'b-runner/',
    });
    expect(buckets[logsBucket].DeletionPolicy).toBe('Retain');
    expect(
      buckets[logsBucket].Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .SSEAlgorithm,
    ).toBe('AES256');
    expect(buckets[logsBucket].Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(365);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
          }),
        ]),
      },
    });
  });

  test('access logging can be turned off or sent to a given bucket', () => {
    const off = synthRunner({
      state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.disabled() }) },
    }).template;
    expect(stateBucket(off).resource.Properties.LoggingConfiguration).toBeUndefined();
    off.resourceCountIs('AWS::S3::Bucket', 1);

    const stack = newStack();
    const target = new s3.Bucket(stack, 'Central', { objectOwnership: s3.ObjectOwnership.OBJECT_WRITER });
    const given = synthRunner(
      { state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.toBucket(target) }) }, runnerId: 'rx' },
      stack,
    ).template;
    expect(stateBucket(given).resource.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logicalId(given, 'AWS::S3::Bucket', 'Central') },
      LogFilePrefix: 'rx/',
    });
  });

  test('with a CMK: SSE-KMS with bucket key', () => {
    const { template } = synthRunner({ encryption: RunnerEncryption.createKey() });
    const key = logicalId(template, 'AWS::KMS::Key', 'RunnerEncryptionKey');
    expect(stateBucket(template).resource.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } },
        },
      ],
    });
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
  });

  test('replication to a DR bucket in another region', () => {
    const stack = newStack();
    const destination = s3.Bucket.fromBucketAttributes(stack, 'Dr', {
      bucketArn: 'arn:aws:s3:::runner-state-dr',
      region: 'eu-west-1',
    });
    const destinationKey = kms.Key.fromKeyArn(
      stack,
      'DrKey',
      'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    );
    const { template } = synthRunner(
      {
        encryption: RunnerEncryption.createKey(),
        state: {
          bucket: StateBucket.create({
            replication: { destinationBucket: destination, destinationEncryptionKey: destinationKey },
          }),
        },
      },
      stack,
    );
    const config = stateBucket(template).resource.Properties.ReplicationConfiguration;
    expect(config.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Destination: expect.objectContaining({
          Bucket: 'arn:aws:s3:::runner-state-dr',
          StorageClass: 'STANDARD_IA',
          EncryptionConfiguration: {
            ReplicaKmsKeyID: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
          },
        }),
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      }),
    ]);
    const role = logicalId(template, 'AWS::IAM::Role', 'RunnerStateReplicationRole');
    expect(config.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    // No fixed role name (CDK's default CDKReplicationRole collides with a second runner).
    expect(template.toJSON().Resources[role].Properties.RoleName).toBeUndefined();
    expect(template.toJSON().Resources[role].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 's3.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      },
    ]);
    const source = stateBucket(template).id;
    const key = logicalId(template, 'AWS::KMS::Key', 'RunnerEncryptionKey');
    expect(statementsOfRole(template, role)).toEqual([
      {
        Sid: 'ReadReplicationConfiguration',
        Effect: 'Allow',
        Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        Resource: { 'Fn::GetAtt': [source, 'Arn'] },
      },
      {
        Sid: 'ReadStateVersions',
        Effect: 'Allow',
        Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [source, 'Arn'] }, '/*']] },
      },
      {
        Sid: 'WriteReplicas',
        Effect: 'Allow',
        Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        Resource: 'arn:aws:s3:::runner-state-dr/*',
      },
      {
        Sid: 'DecryptState',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [key, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      },
      {
        Sid: 'EncryptReplicas',
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
  });

  test('destroyOnRemoval is an explicit opt-in that deletes objects too', () => {
    const { template } = synthRunner({ state: { bucket: StateBucket.create({ destroyOnRemoval: true }) } });
    expect(stateBucket(template).resource.DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    const keep = synthRunner().template;
    keep.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('existing state bucket', () => {
  test('is used with its prefix; nothing else is created for state', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Existing', 'acme-runner-state');
    const { template } = synthRunner(
      { state: { bucket: StateBucket.fromBucket(bucket), pathPrefix: 'team-a' } },
      stack,
    );
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const [body] = registrationBodies(template.toJSON());
    expect(body.state_storage_configuration).toEqual({
      type: 's3',
      bucket: 'acme-runner-state',
      path_prefix: 'team-a/',
    });
  });
});

describe('the state bucket is never replaced by a property change', () => {
  test.each([
    ['encryption', { encryption: RunnerEncryption.createKey() }],
    [
      'lifecycle days',
      {
        state: {
          bucket: StateBucket.create({ noncurrentVersionTransitionDays: 60, noncurrentVersionExpirationDays: 120 }),
        },
      },
    ],
    ['access logs off', { state: { bucket: StateBucket.create({ accessLogs: StateAccessLogs.disabled() }) } }],
    ['prefix', { state: { pathPrefix: 'x/y' } }],
    ['tags', { tags: { Owner: 'me' } }],
    [
      'orchestrator',
      { orchestrator: Orchestrator.stellwerk({ oidcIssuer: 'sw.example.com', apiUrl: 'https://sw.example.com' }) },
    ],
    ['task-size ceiling', { maxTaskCpu: 4096, maxTaskMemoryMiB: 8192 }],
    ['runner id prefix', { runnerIdPrefix: 'other' }],
  ])('changing %s keeps the logical id and sets no BucketName', (_name, change) => {
    const before = stateBucket(synthRunner().template);
    const after = stateBucket(synthRunner(change as any).template);
    expect(after.id).toBe(before.id);
    expect(after.resource.Properties.BucketName).toBeUndefined();
    expect(after.resource.DeletionPolicy).toBe('Retain');
  });
});
