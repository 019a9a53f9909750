import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of {@link RunnerStateStore}. */
export interface RunnerStateStoreProps {
  /** An existing bucket for the state; when undefined a bucket is created. */
  readonly bucket?: s3.IBucket;
  /** Key prefix of the runner's state objects, without leading slash. */
  readonly pathPrefix?: string;
  /** Delete the created bucket and all its objects with the stack (test stacks only). */
  readonly destroyOnRemoval: boolean;
  /** Days after which noncurrent state versions move to STANDARD_IA. */
  readonly noncurrentVersionTransitionDays: number;
  /** Days after which noncurrent state versions expire. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days after which incomplete multipart uploads are aborted. */
  readonly abortIncompleteMultipartUploadDays: number;
}

/**
 * Where the runner's Terraform state lives: an S3 bucket (created or brought) and a key prefix.
 *
 * A created bucket has a CloudFormation-generated name (bucket names are global, a fixed name
 * could collide with another account's), is versioned, encrypted, blocks all public access,
 * refuses plain HTTP, disables ACLs and is retained when the stack is deleted. None of its
 * properties is replaced on update: the library never sets a bucket name.
 */
export class RunnerStateStore extends Construct {
  /** The state bucket. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of the state objects ('' for the whole bucket). */
  public readonly pathPrefix: string;

  constructor(scope: Construct, id: string, props: RunnerStateStoreProps) {
    super(scope, id);
    this.pathPrefix = props.pathPrefix ?? '';
    this.bucket =
      props.bucket ??
      new s3.Bucket(this, 'Bucket', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        versioned: true,
        removalPolicy: props.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
        autoDeleteObjects: props.destroyOnRemoval,
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
      });
  }

  /**
   * Grant what Terraform's S3 backend needs on this state: list the bucket, read and write
   * the state objects under the prefix, and create and delete the S3-native lock files
   * (`<key>.tflock`, Terraform's `use_lockfile`), plus the KMS data-key operations when the
   * bucket is encrypted with a KMS key.
   */
  public grantStateReadWrite(grantee: iam.IGrantable): iam.Grant {
    const objects = this.bucket.arnForObjects(`${this.pathPrefix}*`);
    const locks = this.bucket.arnForObjects(`${this.pathPrefix}*.tflock`);
    const list = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.bucket.bucketArn],
    });
    const readWrite = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [objects],
    });
    const unlock = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      resourceArns: [locks],
    });
    let grant = list.combine(readWrite).combine(unlock);
    const key = this.bucket.encryptionKey;
    if (key) {
      grant = grant.combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resourceArns: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    return grant;
  }
}
