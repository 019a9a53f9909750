import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Where and how the state bucket is replicated for disaster recovery. */
export interface StateReplication {
  /**
   * The destination bucket, usually in another region. It must exist and be versioned.
   * Import it with `s3.Bucket.fromBucketAttributes` including its `region`.
   */
  readonly destinationBucket: s3.IBucket;

  /**
   * The KMS key that encrypts replicas in the destination bucket. Required when the
   * destination uses SSE-KMS; must be in the destination's region.
   *
   * @default - replicas use the destination bucket's default encryption (SSE-S3)
   */
  readonly destinationEncryptionKey?: kms.IKey;

  /**
   * Storage class of the replicas.
   *
   * @default s3.StorageClass.STANDARD_IA
   */
  readonly storageClass?: s3.StorageClass;
}

/** Properties of {@link RunnerStateStore}. */
export interface RunnerStateStoreProps {
  /** An existing bucket for the state; when undefined a bucket is created. */
  readonly bucket?: s3.IBucket;
  /** Key prefix of the runner's state objects, ending in '/', or '' for the whole bucket. */
  readonly pathPrefix: string;
  /** Delete the created bucket and all its objects with the stack (test stacks only). */
  readonly destroyOnRemoval: boolean;
  /** Days after which noncurrent state versions move to STANDARD_IA. */
  readonly noncurrentVersionTransitionDays: number;
  /** Days after which noncurrent state versions expire. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days after which incomplete multipart uploads are aborted. */
  readonly abortIncompleteMultipartUploadDays: number;
  /** Customer managed key for SSE-KMS; SSE-S3 when undefined. */
  readonly encryptionKey?: kms.IKey;
  /** Bucket that receives the state bucket's server access logs; none when undefined. */
  readonly accessLogsBucket?: s3.IBucket;
  /** Key prefix of the access logs in that bucket. */
  readonly accessLogsPrefix?: string;
  /** Replication of the state to another bucket. */
  readonly replication?: StateReplication;
  /** Role that S3 assumes to replicate; required with `replication`. */
  readonly replicationRole?: iam.IRole;
}

/**
 * Where the runner's Terraform state lives: an S3 bucket (created or brought) and a key prefix.
 *
 * A created bucket has a CloudFormation-generated name (bucket names are global, a fixed name
 * could collide with another account's), is versioned, encrypted (SSE-KMS with a bucket key
 * when the runner has a CMK, SSE-S3 otherwise), blocks all public access, refuses plain HTTP,
 * disables ACLs, logs access, and is retained when the stack is deleted. The library never
 * sets a bucket name, the only property whose change replaces a bucket.
 */
export class RunnerStateStore extends Construct {
  /** The state bucket. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of the state objects ('' for the whole bucket). */
  public readonly pathPrefix: string;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: RunnerStateStoreProps) {
    super(scope, id);
    this.pathPrefix = props.pathPrefix;
    this.encryptionKey = props.bucket ? props.bucket.encryptionKey : props.encryptionKey;
    this.bucket =
      props.bucket ??
      new s3.Bucket(this, 'Bucket', {
        encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
        encryptionKey: props.encryptionKey,
        bucketKeyEnabled: props.encryptionKey ? true : undefined,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        versioned: true,
        removalPolicy: props.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
        autoDeleteObjects: props.destroyOnRemoval,
        serverAccessLogsBucket: props.accessLogsBucket,
        serverAccessLogsPrefix: props.accessLogsBucket ? props.accessLogsPrefix : undefined,
        lifecycleRules: [
          {
            id: 'StateVersions',
            noncurrentVersionTransitions: [
              {
                storageClass: s3.StorageClass.INFREQUENT_ACCESS,
                transitionAfter: Duration.days(props.noncurrentVersionTransitionDays),
              },
            ],
            noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays),
            abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteMultipartUploadDays),
          },
        ],
        replicationRole: props.replication ? props.replicationRole : undefined,
        replicationRules: props.replication
          ? [
              {
                destination: props.replication.destinationBucket,
                priority: 0,
                kmsKey: props.replication.destinationEncryptionKey,
                sseKmsEncryptedObjects: props.encryptionKey ? true : undefined,
                storageClass: props.replication.storageClass ?? s3.StorageClass.INFREQUENT_ACCESS,
                deleteMarkerReplication: true,
              },
            ]
          : undefined,
      });
  }

  /**
   * Grant what Terraform's S3 backend needs on this state: list the bucket, read and write
   * the state objects under the prefix, and create and delete the S3-native lock files
   * (`<key>.tflock`, Terraform's `use_lockfile`), plus the KMS data-key operations, through S3
   * only, when the bucket is encrypted with a KMS key.
   */
  public grantStateReadWrite(grantee: iam.IGrantable): iam.Grant {
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
    });
    const readWrite = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.pathPrefix}*`)],
    });
    const unlock = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.pathPrefix}*.tflock`)],
    });
    let grant = list.combine(readWrite).combine(unlock);
    if (this.encryptionKey) {
      grant = grant.combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resourceArns: [this.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    return grant;
  }
}

/**
 * The stack's bucket for S3 server access logs of the runners' state buckets, created with
 * the first runner that needs it. Server access logs cannot be delivered to an SSE-KMS bucket,
 * so it uses SSE-S3; it is TLS-only, blocks public access and is retained.
 */
export class RunnerAccessLogsBucket extends Construct {
  /** The stack's access-logs bucket, created on first use. */
  public static forStack(scope: Construct, retentionDays: number): s3.IBucket {
    const stack = Stack.of(scope);
    const id = 'PlatformOrchestratorRunnerAccessLogs';
    const existing = stack.node.tryFindChild(id) as RunnerAccessLogsBucket | undefined;
    return (existing ?? new RunnerAccessLogsBucket(stack, id, retentionDays)).bucket;
  }

  public readonly bucket: s3.Bucket;

  private constructor(scope: Construct, id: string, retentionDays: number) {
    super(scope, id);
    // Admit log delivery with a bucket policy (ACLs stay disabled), whatever the app's flags.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.bucket = new s3.Bucket(this, 'Resource', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'AccessLogRetention',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
