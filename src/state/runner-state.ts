import { Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  acknowledge,
  acknowledgeInPacks,
  acknowledgeWildcardResources,
  controlTower,
  REGULATORY_PACKS,
} from '../acknowledgements';
import { EcsRunnerValidationError } from '../errors';
import { stackSingleton } from '../singletons';
import { tagManagedBy } from '../managed-by';

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
    if (props.bucket) {
      this.bucket = props.bucket;
      return;
    }
    const replicationRole = props.replication ? this.replicationRole() : undefined;
    const bucket = new s3.Bucket(this, 'Bucket', {
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
      replicationRole,
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
    this.bucket = bucket;
    if (props.replication && replicationRole) {
      this.replicationPolicy(replicationRole, bucket, props.replication, props.encryptionKey);
    }
    // Every write and delete of state as an EventBridge event: the native setting (the L2's
    // eventBridgeEnabled deploys a notification Lambda), free until a rule uses it.
    (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    acknowledge(
      bucket,
      controlTower('s3_bucket_object_lock_enabled_check'),
      'Terraform rewrites the state object on every apply and creates and deletes a .tflock lock file per run; ' +
        'versioning with noncurrent versions kept for noncurrentVersionExpirationDays is the recovery control. ' +
        'Object Lock would pin every state version and lock file beyond that lifecycle.',
    );
  }

  /**
   * Denies reading, writing and deleting the objects of the created bucket to every principal but
   * `roles` (compared with `aws:PrincipalArn`, which is the role's ARN for its sessions). The
   * replication role keeps working: replication uses `s3:GetObjectVersionForReplication` and its
   * kin, which are not denied.
   */
  public restrictObjectAccess(roles: iam.IRole[]): void {
    const { statementAdded } = this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyStateObjectAccessToAllButTheRunner',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        // Not the replication-only actions (s3:GetObjectVersionForReplication and its kin).
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roles.map((r) => r.roleArn) } },
      }),
    );
    // StateBucket.fromBucket has no restrictAccess: a brought bucket, whose policy is not ours.
    if (!statementAdded) throw new Error('restrictObjectAccess needs the bucket the state store created');
  }

  /**
   * S3's role for replicating the state: no fixed name (CDK's default `CDKReplicationRole` would
   * collide with a second runner), confused-deputy protection, and a customer managed policy
   * with exactly the replication actions on the two buckets and keys.
   */
  private replicationRole(): iam.Role {
    return new iam.Role(this, 'ReplicationRole', {
      description: 'S3 replication of Terraform state to the disaster recovery bucket',
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      }),
    });
  }

  private replicationPolicy(
    role: iam.Role,
    source: s3.IBucket,
    replication: StateReplication,
    sourceKey?: kms.IKey,
  ): void {
    const stack = Stack.of(this);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ReadReplicationConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [source.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadStateVersions',
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        resources: [`${source.bucketArn}/*`],
      }),
      new iam.PolicyStatement({
        sid: 'WriteReplicas',
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: [replication.destinationBucket.arnForObjects('*')],
      }),
    ];
    if (sourceKey) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptState',
          actions: ['kms:Decrypt'],
          resources: [sourceKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    if (replication.destinationEncryptionKey) {
      const destinationRegion = replication.destinationBucket.env.region;
      statements.push(
        new iam.PolicyStatement({
          sid: 'EncryptReplicas',
          actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [replication.destinationEncryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${destinationRegion}.amazonaws.com` } },
        }),
      );
    }
    const policy = new iam.ManagedPolicy(this, 'ReplicationPolicy', {
      description: 'Replicates the runner Terraform state to the disaster recovery bucket',
      statements,
      roles: [role],
    });
    acknowledgeWildcardResources(policy, statements, {
      ReadStateVersions:
        'S3 replication reads every object version of the Terraform state bucket to copy it to the replication destination; object keys are environment ids chosen at run time.',
      WriteReplicas:
        'S3 replication writes replicas and delete markers of every Terraform state object into the replication destination bucket.',
    });
  }

  /** The statements Terraform's S3 backend needs on this state (see grantStateReadWrite). */
  public stateAccessStatements(): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        sid: 'ListStateBucket',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
      new iam.PolicyStatement({
        sid: 'ReadWriteState',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${this.pathPrefix}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'DeleteStateLockFiles',
        actions: ['s3:DeleteObject'],
        resources: [this.bucket.arnForObjects(`${this.pathPrefix}*.tflock`)],
      }),
    ];
    if (this.encryptionKey) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'StateDataKeys',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
          // The bucket's region: an imported bucket may live in another region than the stack.
          conditions: { StringEquals: { 'kms:ViaService': `s3.${this.bucket.env.region}.amazonaws.com` } },
        }),
      );
    }
    return statements;
  }

  /** Reasons for the wildcard resources of {@link stateAccessStatements}, by Sid. */
  public static readonly WILDCARD_REASONS: Record<string, string> = {
    ReadWriteState:
      "Terraform's S3 backend reads and writes one state object per environment under the runner's state prefix; the keys are environment ids the orchestrator chooses at run time.",
    DeleteStateLockFiles:
      "Terraform's S3-native locking (use_lockfile) creates and deletes a <key>.tflock next to each state object; s3:DeleteObject is granted on lock files only, never on state.",
  };

  /**
   * Grant what Terraform's S3 backend needs on this state: list the bucket, read and write
   * the state objects under the prefix, and create and delete the S3-native lock files
   * (`<key>.tflock`, Terraform's `use_lockfile`), plus the KMS data-key operations, through S3
   * only, when the bucket is encrypted with a KMS key.
   */
  public grantStateReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.stateAccessStatements()
      .map((statement) =>
        iam.Grant.addToPrincipal({
          grantee,
          actions: statement.actions,
          resourceArns: statement.resources,
          conditions: statement.conditions,
        }),
      )
      .reduce((all, grant) => all.combine(grant));
  }
}

/** Construct id of the stack's access-logs bucket (a public contract: it decides logical ids). */
const ACCESS_LOGS_ID = 'PlatformOrchestratorRunnerAccessLogs';

/**
 * The stack's bucket for S3 server access logs of the runners' state buckets, created with
 * the first runner that needs it. Server access logs cannot be delivered to an SSE-KMS bucket,
 * so it uses SSE-S3; it is TLS-only, blocks public access and is retained.
 */
export class RunnerAccessLogsBucket extends Construct {
  /**
   * The stack's access-logs bucket, created on first use. Every runner of the stack logs to it, so
   * they share its retention: the runners that set `StateAccessLogs.stackBucket({ retentionDays })` must set the same
   * value (whatever their order); without any, it is 365 days.
   */
  public static forStack(scope: Construct, retentionDays: number | undefined): s3.IBucket {
    RunnerAccessLogsBucket.checkRetention(scope, retentionDays);
    const shared = stackSingleton(
      scope,
      ACCESS_LOGS_ID,
      RunnerAccessLogsBucket,
      (stack, id) => new RunnerAccessLogsBucket(stack, id),
    );
    if (retentionDays !== undefined) shared.retentionDays = retentionDays;
    return shared.bucket;
  }

  /**
   * Refuses, before anything is built, a retention other than the one another runner of the stack
   * gave the shared bucket.
   */
  public static checkRetention(scope: Construct, retentionDays: number | undefined): void {
    const shared = Stack.of(scope).node.tryFindChild(ACCESS_LOGS_ID);
    if (!(shared instanceof RunnerAccessLogsBucket) || retentionDays === undefined) return;
    // Tokens cannot be compared at synth (two equal ones have different encodings).
    const comparable =
      shared.retentionDays !== undefined &&
      !Token.isUnresolved(shared.retentionDays) &&
      !Token.isUnresolved(retentionDays);
    if (comparable && shared.retentionDays !== retentionDays) {
      throw new EcsRunnerValidationError(
        'state.bucket.accessLogs.retentionDays',
        retentionDays,
        `${shared.retentionDays}, the retention another runner of this stack gave the stack's shared access-logs bucket, or no retentionDays`,
      );
    }
  }

  public readonly bucket: s3.Bucket;
  /** The retention a runner asked for; the lifecycle rule reads it at synthesis. */
  private retentionDays?: number;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const retentionDays = Lazy.number({ produce: () => this.retentionDays ?? 365 });
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
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    tagManagedBy(this);
    acknowledgeInPacks(
      this.bucket,
      REGULATORY_PACKS,
      'S3BucketReplicationEnabled',
      "Holds only S3 server access logs of the runners' state buckets: an audit by-product that expires after " +
        'retentionDays of StateAccessLogs.stackBucket(), not data needed to recover a runner; disaster recovery replicates the Terraform ' +
        'state bucket itself (StateBucket.create({ replication })).',
    );
    const sseS3 =
      "S3 server access log delivery only supports target buckets encrypted with SSE-S3; SSE-KMS would make S3 drop the state buckets' access logs, so this access-logs bucket uses SSE-S3 with TLS-only access and all public access blocked.";
    acknowledgeInPacks(this.bucket, REGULATORY_PACKS, 'S3DefaultEncryptionKMS', sseS3);
    acknowledge(this.bucket, controlTower('s3_bucket_default_encryption_kms_check'), sseS3);
    acknowledge(
      this.bucket,
      controlTower('s3_bucket_logging_enabled_check'),
      "This is the server access log destination of the runners' state buckets; logging it to itself would log its " +
        'own log deliveries in a loop, and a further bucket would only move the same finding there.',
    );
    acknowledge(
      this.bucket,
      controlTower('s3_bucket_object_lock_enabled_check'),
      'S3 server access log delivery does not support a target bucket with an Object Lock default retention, and ' +
        "these access logs must expire after the retentionDays of StateAccessLogs.stackBucket() through the bucket's lifecycle rule.",
    );
  }
}
