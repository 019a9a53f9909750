import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { StateReplication } from './runner-state';

/** Options of {@link StateAccessLogs.stackBucket}. */
export interface StackAccessLogsBucketOptions {
  /**
   * Days the stack's access-logs bucket keeps the logs. Every runner of the stack logs to that one
   * bucket, so the runners that set it must set the same value.
   *
   * @default 365
   */
  readonly retentionDays?: number;
}

/** Where the created state bucket's S3 server access logs go. */
export class StateAccessLogs {
  /**
   * The stack's own access-logs bucket (`PlatformOrchestratorRunnerAccessLogs`), created with the
   * first runner that needs it: SSE-S3, TLS-only, versioned, retained.
   */
  public static stackBucket(options: StackAccessLogsBucketOptions = {}): StateAccessLogs {
    return new StateAccessLogs('STACK_BUCKET', undefined, options.retentionDays);
  }

  /**
   * Your bucket, e.g. the organization's central log bucket. It must use SSE-S3: S3 does not
   * deliver server access logs to an SSE-KMS bucket. Its lifecycle rules are yours.
   */
  public static toBucket(bucket: s3.IBucket): StateAccessLogs {
    return new StateAccessLogs('TO_BUCKET', bucket);
  }

  /** No server access logs (CloudTrail data events, if you have them, still record object access). */
  public static disabled(): StateAccessLogs {
    return new StateAccessLogs('DISABLED');
  }

  /** Which choice this is: `STACK_BUCKET`, `TO_BUCKET` or `DISABLED`. */
  public readonly kind: string;

  /** The bucket given to `toBucket`; undefined for the other choices. */
  public readonly bucket?: s3.IBucket;

  /** The retention given to `stackBucket`; undefined for the other choices and the default. */
  public readonly retentionDays?: number;

  private constructor(kind: string, bucket?: s3.IBucket, retentionDays?: number) {
    this.kind = kind;
    this.bucket = bucket;
    this.retentionDays = retentionDays;
  }
}

/** Options of {@link StateBucket.create}. */
export interface CreateStateBucketOptions {
  /**
   * Delete the bucket and every Terraform state in it when the runner leaves the stack or the stack
   * is deleted. For test stacks only (a synth warning says so).
   *
   * @default false - the bucket is retained
   */
  readonly destroyOnRemoval?: boolean;

  /**
   * Deny reading, writing and deleting the state objects to every principal but the runner's task
   * role and `administrators`, whatever their IAM policies allow (a `ReadOnlyAccess` user of the
   * account, another runner's broad task role). A bucket policy statement, `Deny` unless
   * `aws:PrincipalArn` is one of those roles. S3 replication is not affected (it uses
   * replication-only actions). Not with `destroyOnRemoval` (the emptying function could not delete
   * the objects).
   *
   * @default false - IAM policies decide who may read the state
   */
  readonly restrictAccess?: boolean;

  /**
   * Roles that keep access to the state objects under `restrictAccess`, e.g. your break-glass or
   * platform administrator role, for the stale-lock runbook, migrations and restores. Compared with
   * `aws:PrincipalArn`, so each must be the role's own ARN, path included (IAM Identity Center roles
   * live under `/aws-reserved/sso.amazonaws.com/`). Only with `restrictAccess: true`.
   *
   * @default - none: only the task role
   */
  readonly administrators?: iam.IRole[];

  /**
   * Days after which noncurrent state versions move to STANDARD_IA (at least 30, S3's minimum).
   *
   * @default 30
   */
  readonly noncurrentVersionTransitionDays?: number;

  /**
   * Days after which noncurrent state versions expire; more than `noncurrentVersionTransitionDays`.
   *
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;

  /**
   * Days after which incomplete multipart uploads are aborted.
   *
   * @default 7
   */
  readonly abortIncompleteMultipartUploadDays?: number;

  /**
   * Where the bucket's server access logs go.
   *
   * @default StateAccessLogs.stackBucket()
   */
  readonly accessLogs?: StateAccessLogs;

  /**
   * Replication of the state to another bucket, e.g. in another region for disaster recovery.
   *
   * @default - no replication
   */
  readonly replication?: StateReplication;
}

/** The bucket that holds the runner's Terraform state: created by the runner, or yours. */
export class StateBucket {
  /**
   * A bucket of the runner's own (construct id `State/Bucket`): versioned, encrypted (SSE-KMS with a
   * bucket key when the runner has a key, SSE-S3 otherwise), TLS-only, ACLs disabled, public access
   * blocked, access-logged, retained when the stack is deleted, with a CloudFormation-generated name.
   */
  public static create(options: CreateStateBucketOptions = {}): StateBucket {
    return new StateBucket('CREATE', undefined, options);
  }

  /**
   * Your bucket (e.g. the Terraform module's, when migrating). The runner grants the roles access to
   * its state prefix and changes nothing of the bucket itself: its policy, lifecycle rules, logging
   * and replication stay yours. Its name must match the API's `^[a-z0-9][a-z0-9-]*[a-z0-9]$`. When
   * it is encrypted with a customer managed KMS key, import it with
   * `s3.Bucket.fromBucketAttributes({ bucketName, encryptionKey, region })` so the task role gets the
   * data-key permissions it needs.
   */
  public static fromBucket(bucket: s3.IBucket): StateBucket {
    return new StateBucket('FROM_BUCKET', bucket);
  }

  /** Which choice this is: `CREATE` or `FROM_BUCKET`. */
  public readonly kind: string;

  /** The bucket given to `fromBucket`; undefined for `create`. */
  public readonly bucket?: s3.IBucket;

  /** The options given to `create`; undefined for `fromBucket`. */
  public readonly createOptions?: CreateStateBucketOptions;

  private constructor(kind: string, bucket?: s3.IBucket, createOptions?: CreateStateBucketOptions) {
    this.kind = kind;
    this.bucket = bucket;
    this.createOptions = createOptions;
  }
}

/** Where the runner keeps the Terraform state. */
export interface StateOptions {
  /**
   * The state bucket.
   *
   * @default StateBucket.create()
   */
  readonly bucket?: StateBucket;

  /**
   * Key prefix of the runner's state objects in the bucket, e.g. `runners/prod`. The job writes
   * `<prefix>/<envUuid>.tfstate`: segments of letters, digits, `.`, `_` and `-` separated by single
   * slashes, no leading or trailing slash, no `.` or `..` segment (a path join would rewrite those,
   * and IAM grants exactly the key the job writes). Runners sharing a bucket need distinct prefixes.
   *
   * @default - the whole bucket
   */
  readonly pathPrefix?: string;
}
