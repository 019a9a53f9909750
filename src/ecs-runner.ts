import { createHash } from 'crypto';
import { Annotations, CfnOutput, CfnResource, RemovalPolicy, Stack, TagManager, Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ContainerInsightsMode, RunnerCluster } from './compute/runner-cluster';
import { EcsRunnerValidationError } from './errors';
import { PlatformOrchestratorOidcProvider } from './identity/oidc-provider';
import { checkJobSecrets, grantJobSecrets, jobSecretArns } from './identity/job-secrets';
import { RunnerRoles } from './identity/runner-roles';
import { checkSubnetsInVpc } from './networking/subnets-in-vpc';
import { RunnerVpc } from './networking/runner-vpc';
import type { IEcsRunner } from './i-ecs-runner';
import { claimRunnerId } from './runner-ids';
import { MANAGED_BY, tagManagedBy } from './managed-by';
import { Orchestrator } from './orchestrator';
import { RunnerMonitoring, RunnerMonitoringOptions } from './monitoring/runner-monitoring';
import {
  checkRemovalPolicy,
  checkRunnerRules,
  RunnerRegistration,
  RunnerRuleProps,
} from './registration/runner-registration';
import { runnerCreateBody } from './registration/runner-create-body';
import { RUNNER_METADATA_KEY, RUNNER_METADATA_VERSION, RunnerMetadata } from './runner-metadata';
import { applyRoleGovernance } from './identity/role-governance';
import { RunnerAccessLogsBucket, RunnerStateStore, StateReplication } from './state/runner-state';
import * as v from './validation';

export { MANAGED_BY };

/** Properties of {@link EcsRunner}. */
export interface EcsRunnerProps {
  /**
   * The orchestrator organization the runner belongs to.
   *
   * Lowercase letters, digits and dashes.
   */
  readonly orgId: string;

  /**
   * The runner's id in the orchestrator. Must match `^[a-z][a-z0-9_-]+$`.
   *
   * @default - `<runnerIdPrefix>-<10 hex characters>`, derived from the stack name, the
   * construct path and (when known at synth time) the account and region: the same stack and
   * path always give the same id, and two runners never share one.
   */
  readonly runnerId?: string;

  /**
   * Prefix of the derived runner id, when `runnerId` is not given.
   *
   * @default 'runner'
   */
  readonly runnerIdPrefix?: string;

  /**
   * A description of the runner, shown in the orchestrator.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * The orchestrator the runner serves: its OIDC issuer (the trust policy), its API (the
   * registration) and the task definition families it registers (the task-manager policy).
   * A self-hosted Stellwerk installation: `Orchestrator.stellwerk({ oidcIssuer, apiUrl })`.
   *
   * @default Orchestrator.humanitec()
   */
  readonly orchestrator?: Orchestrator;

  /**
   * ARN of an existing IAM OIDC provider for the issuer. An account holds one provider per
   * issuer URL: runners in other stacks of the account pass the ARN of the one that exists.
   * When its issuer can be read from a concrete ARN it must match the orchestrator's issuer.
   *
   * @default - the stack's shared provider for the issuer, created with the first runner
   */
  readonly oidcProviderArn?: string;

  /**
   * The VPC the jobs run in. With a VPC the runner can create an egress-only security group
   * and pick subnets itself. `subnets` or `subnetIds` given with it must be subnets of it.
   *
   * @default - with `subnets` or `subnetIds`: none; with neither, a new VPC (two AZs, private
   * subnets with egress through `natGateways` NAT gateways, flow logs to an encrypted-when-keyed,
   * retained log group `/platform-orchestrator/<runnerId>/vpc-flow-logs`)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * NAT gateways of the VPC the runner creates (when it is given none of `vpc`, `subnets`,
   * `subnetIds`): 1 is shared by both AZs, 2 gives each AZ its own (no cross-AZ dependency, twice the
   * hourly cost).
   *
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * Retention of the flow-log group of the VPC the runner creates (when it is given none of `vpc`,
   * `subnets`, `subnetIds`). The runner has no other log group: the orchestrator's task definitions
   * have no log configuration, so jobs' logs are in the orchestrator.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Subnets the jobs run in (1 to 16). Mutually exclusive with `subnetIds`.
   *
   * @default - `subnetIds`; the VPC's private subnets with egress when only `vpc` is given; the
   * private subnets of a new VPC when none of the three is given
   */
  readonly subnets?: ec2.ISubnet[];

  /**
   * Ids of the subnets the jobs run in (1 to 16), e.g. `subnet-0123456789abcdef0`.
   * Mutually exclusive with `subnets`.
   *
   * @default - `subnets`
   */
  readonly subnetIds?: string[];

  /**
   * Security groups of the jobs (at most 5 together with `securityGroupIds`).
   *
   * @default - a new egress-only security group when `vpc` is given, otherwise none (ECS then
   * uses the VPC's default security group)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Ids of security groups of the jobs (at most 5 together with `securityGroups`).
   *
   * @default - none
   */
  readonly securityGroupIds?: string[];

  /**
   * Give jobs a public IP. Needed only in public subnets without a NAT gateway.
   *
   * @default false
   */
  readonly assignPublicIp?: boolean;

  /**
   * An existing ECS cluster for the jobs.
   *
   * @default - a new cluster with Container Insights (enhanced)
   */
  readonly cluster?: ecs.ICluster;

  /**
   * Container Insights of a created cluster. Accounts that enforce the Control Tower proactive
   * control CT.ECS.PR.2 need `ENABLED`: its guard rule accepts only that value.
   *
   * @default ContainerInsightsMode.ENHANCED
   */
  readonly containerInsights?: ContainerInsightsMode;

  /**
   * Environment variables of every job. Names are letters, digits and underscores; values
   * are at most 1024 characters. Not the names the orchestrator API reserves (ORG_ID,
   * DEPLOYMENT_ID, MODE, TOKEN, ENCRYPTING_KEY, PLATFORM_ORCHESTRATOR_BASE_URL), nor those the
   * orchestrator sets for each job (RUNNER_ID, DEPLOYMENT_ENV_UUID, ENCRYPTING_LOGS_KEY,
   * LOG_LEVEL, RUNNER_GATEWAY_URL, METADATA_KEY); RUNNER_GIT_SSH_KEYS only in `secrets`.
   *
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * Secrets of every job, as for an ECS container: variable name to
   * `ecs.Secret.fromSecretsManager(secret)` or `ecs.Secret.fromSsmParameter(parameter)`. The
   * execution role may read exactly these (`grantRead`, which includes the secret's KMS key when
   * the secret knows it). The orchestrator API takes whole secrets by their complete ARN: a secret
   * known only by name (`Secret.fromSecretNameV2`) or a JSON field selection is a synth error; an ARN
   * you have as a string is `ecs.Secret.fromSecretsManager(Secret.fromSecretCompleteArn(this, 'Db', arn))`.
   * The names follow the rules of `environment`, except that RUNNER_GIT_SSH_KEYS is allowed.
   *
   * @default - none
   */
  readonly secrets?: Record<string, ecs.Secret>;

  /**
   * Customer managed KMS keys that encrypt the `secrets` and that the secrets do not know themselves
   * (e.g. `Secret.fromSecretCompleteArn` of a secret with a customer managed key); the execution role
   * may decrypt with them through Secrets Manager and SSM only.
   *
   * @default - none (secrets encrypted with AWS managed keys, or whose `encryptionKey` is known, need none)
   */
  readonly secretsEncryptionKeys?: kms.IKey[];

  /**
   * Container image of the jobs. A private ECR image gets pull permissions on its repository.
   *
   * @default - the orchestrator's default runner image
   */
  readonly image?: string;

  /**
   * Session name the orchestrator uses when it assumes the task-manager role (3 to 64 of
   * letters, digits and `+=,.@_-`).
   *
   * @default - the orchestrator's default, `<orgId>-<runnerId>` cut to 64 characters
   */
  readonly sessionName?: string;

  /**
   * Ceiling of the task CPU units (1024 = 1 vCPU) that the orchestrator's session may register
   * and run (`ecs:task-cpu`), so a leaked token cannot run large tasks at the account's cost. The
   * orchestrator registers 512 (0.5 vCPU); at least 512, at most Fargate's 16384.
   *
   * @default 2048
   */
  readonly maxTaskCpu?: number;

  /**
   * Ceiling of the task memory in MiB that the orchestrator's session may register and run
   * (`ecs:task-memory`). The orchestrator registers 1024 (1 GB); at least 1024, at most
   * Fargate's 122880.
   *
   * @default 4096
   */
  readonly maxTaskMemoryMiB?: number;

  /**
   * Region of the STS endpoint the orchestrator uses.
   *
   * @default - the runner's region
   */
  readonly stsRegion?: string;

  /**
   * An existing bucket for the Terraform state. Its name must match the API's
   * `^[a-z0-9][a-z0-9-]*[a-z0-9]$`. When it is encrypted with a customer managed KMS key,
   * import it with `s3.Bucket.fromBucketAttributes({ bucketName, encryptionKey, region })` so
   * the task role gets the data-key permissions it needs.
   *
   * @default - a new versioned, encrypted, retained bucket with a generated name
   */
  readonly stateBucket?: s3.IBucket;

  /**
   * Key prefix of the runner's state objects in the bucket, e.g. `runners/prod`. The job writes
   * `<prefix>/<envUuid>.tfstate`: segments of letters, digits, `.`, `_` and `-` separated by
   * single slashes, no leading or trailing slash, no `.` or `..` segment (a path join would
   * rewrite those, and IAM grants exactly the key the job writes).
   *
   * @default - the whole bucket
   */
  readonly statePathPrefix?: string;

  /**
   * Delete the created state bucket and every object in it when the stack is deleted.
   * For test stacks only: deleting state makes every environment's infrastructure unmanaged.
   *
   * @default false
   */
  readonly destroyStateOnRemoval?: boolean;

  /**
   * Deny reading, writing and deleting the state objects of the created state bucket to every
   * principal but the runner's task role and `stateAdministrators`, whatever their IAM policies
   * allow (a `ReadOnlyAccess` user of the account, another runner's broad task role). A bucket
   * policy statement, `Deny` unless `aws:PrincipalArn` is one of those roles. S3 replication is not
   * affected (it uses replication-only actions). Not with `stateBucket` (add the statement to your
   * bucket's policy) nor `destroyStateOnRemoval` (the emptying function could not delete objects).
   *
   * @default false
   */
  readonly restrictStateAccess?: boolean;

  /**
   * Roles that keep access to the state objects under `restrictStateAccess`, e.g. your break-glass
   * or platform administrator role, for the stale-lock runbook, migrations and restores. Compared
   * with `aws:PrincipalArn`, so each must be the role's own ARN, path included (IAM Identity Center
   * roles live under `/aws-reserved/sso.amazonaws.com/`).
   *
   * @default - none: only the task role
   */
  readonly stateAdministrators?: iam.IRole[];

  /**
   * Days after which noncurrent state versions move to STANDARD_IA (at least 30).
   *
   * @default 30
   */
  readonly noncurrentVersionTransitionDays?: number;

  /**
   * Days after which noncurrent state versions expire (after the transition).
   *
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;

  /**
   * Days after which incomplete multipart uploads to the state bucket are aborted.
   *
   * @default 7
   */
  readonly abortIncompleteMultipartUploadDays?: number;

  /**
   * A customer managed KMS key for the runner's data: the state bucket (SSE-KMS with a bucket
   * key), the flow-log group of the VPC the runner creates, and the alarm topic and events log group
   * of `addMonitoring`. CloudWatch Logs must be allowed to use it for each log group it encrypts:
   * the runner adds those statements to the policy of a `kms.Key` of the same stack; for any other
   * key (imported, or of another stack) a synth warning prints each statement the key's owner must add.
   *
   * @default - a new key when `createEncryptionKey` is true, otherwise none (SSE-S3 for state)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Create a customer managed KMS key (rotation on, retained) for the runner's data.
   *
   * @default false
   */
  readonly createEncryptionKey?: boolean;

  /**
   * Log S3 server access to the state bucket.
   *
   * @default true
   */
  readonly serverAccessLogs?: boolean;

  /**
   * Bucket that receives the state bucket's server access logs. It must not use SSE-KMS.
   *
   * @default - a stack-wide access-logs bucket, created with the first runner
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Days the stack's access-logs bucket keeps logs. The runners of a stack share that bucket:
   * those that set this must set the same value.
   *
   * @default 365
   */
  readonly accessLogsRetentionDays?: number;

  /**
   * Replicate the state bucket to another bucket (usually another region) for disaster recovery.
   *
   * @default - no replication
   */
  readonly stateReplication?: StateReplication;

  /**
   * Statements added to the task role: what the Terraform the runner deploys needs.
   *
   * @default - none
   */
  readonly taskRoleStatements?: iam.PolicyStatement[];

  /**
   * Managed policies attached to the task role. AWS managed policies are only attached when
   * given here.
   *
   * @default - none
   */
  readonly taskRoleManagedPolicies?: iam.IManagedPolicy[];

  /**
   * ARNs of roles, typically in other accounts, the task role may assume (and tag sessions
   * of) to deploy there. Those roles must trust the task role.
   *
   * @default - none
   */
  readonly assumableRoleArns?: string[];

  /**
   * Permissions boundary of every IAM role the runner creates.
   *
   * @default - none
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * IAM path of every role the runner creates, e.g. `/platform/runners/`.
   *
   * @default '/'
   */
  readonly rolePath?: string;

  /**
   * Tags on every taggable resource of the runner, in addition to `ManagedBy`.
   *
   * @default - only `ManagedBy`
   */
  readonly tags?: Record<string, string>;

  /**
   * A Secrets Manager secret with an orchestrator API token (the raw token, or JSON
   * `{"token": "..."}`). When given, the stack registers the runner on deploy, updates the
   * registration on change and deregisters it on removal ({@link RunnerRegistration}). The
   * token is read at deploy time and never appears in the template.
   *
   * @default - nothing is registered; register the stack output `RunnerCreateBody` by other
   * means (e.g. the `po-ecs-runner` CLI)
   */
  readonly apiTokenSecret?: secretsmanager.ISecret;

  /**
   * With `apiTokenSecret`: take over a runner of the same id that already exists in the org
   * (e.g. one created by the Terraform module) and update it to this configuration, instead of
   * failing.
   *
   * @default false
   */
  readonly adoptExistingRegistration?: boolean;

  /**
   * With `apiTokenSecret`: what happens to the registration when the runner leaves the stack.
   * RETAIN leaves it in the orchestrator.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly registrationRemovalPolicy?: RemovalPolicy;

  /**
   * With `apiTokenSecret`: runner rules (by environment type and/or project) created and deleted
   * with the registration.
   *
   * @default - none
   */
  readonly runnerRules?: RunnerRuleProps[];

  /**
   * Tag keys that must be set, in `tags` or as tags of the stack (e.g. Environment, Owner,
   * CostCenter, ComplianceScope). A missing key is a synth-time error naming it.
   *
   * @default - none
   */
  readonly requiredTagKeys?: string[];
}

/** Construct id of the RunnerMonitoring that `addMonitoring` adds (a public contract: it decides logical ids). */
const MONITORING_ID = 'Monitoring';

/**
 * A serverless ECS runner for the Platform Orchestrator.
 *
 * The orchestrator authenticates with an OIDC token, assumes the runner's task-manager role
 * and runs Terraform jobs as Fargate tasks on the runner's cluster, with the runner's
 * execution and task roles, keeping Terraform state in the runner's S3 bucket.
 * `registrationBody` (also a stack output) is what to register with the orchestrator.
 */
export class EcsRunner extends Construct implements IEcsRunner, ec2.IConnectable {
  /**
   * The value of the `ManagedBy` tag on every resource the library creates (also exported as
   * `MANAGED_BY` for TypeScript; this static is what the other jsii languages see).
   */
  public static readonly MANAGED_BY: string = MANAGED_BY;

  /** The runner's id in the orchestrator. */
  public readonly runnerId: string;
  /** The orchestrator organization. */
  public readonly orgId: string;
  /** The ECS cluster the jobs run on. */
  public readonly cluster: ecs.ICluster;
  /** The cluster's name. */
  public readonly clusterName: string;
  /** The cluster's ARN. */
  public readonly clusterArn: string;
  /** The Terraform state bucket. */
  public readonly stateBucket: s3.IBucket;
  /** Key prefix of the state objects in the bucket ('' for the whole bucket). */
  public readonly statePathPrefix: string;
  /** The role the orchestrator assumes with its OIDC token. */
  public readonly taskManagerRole: iam.IRole;
  /** The role ECS uses to start jobs (image, secrets). */
  public readonly executionRole: iam.IRole;
  /** The jobs' own role: Terraform state and whatever Terraform deploys. */
  public readonly taskRole: iam.IRole;
  /** ARN of the IAM OIDC provider the task-manager role trusts. */
  public readonly oidcProviderArn: string;
  /** The orchestrator the runner serves. */
  public readonly orchestrator: Orchestrator;
  /** The runner's customer managed KMS key, when it has one. */
  public readonly encryptionKey?: kms.IKey;
  /** The jobs' security groups. */
  public readonly connections: ec2.Connections;
  /** The VPC of the jobs, when it is known: `vpc`, or the one the runner created. */
  public readonly vpc?: ec2.IVpc;
  /** The VPC the runner created (when given none of `vpc`, `subnets`, `subnetIds`). */
  public readonly createdVpc?: RunnerVpc;
  /** The subnets' ids, as registered. */
  public readonly subnetIds: string[];
  /** The security groups' ids, as registered. */
  public readonly securityGroupIds: string[];
  /**
   * The orchestrator API's `RunnerCreateBody` for this runner, as a JSON string (with
   * CloudFormation references resolved at deploy time). Also the stack output
   * `RunnerCreateBody`.
   */
  public readonly registrationBody: string;
  /** The stack output that carries `registrationBody`. */
  public readonly registrationBodyOutput: CfnOutput;
  /** The registration with the orchestrator, when `apiTokenSecret` is given. */
  public readonly registration?: RunnerRegistration;

  private readonly state: RunnerStateStore;

  constructor(scope: Construct, id: string, props: EcsRunnerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateProps(props, stack);

    this.orchestrator = props.orchestrator ?? Orchestrator.humanitec();
    this.orgId = props.orgId;
    this.runnerId = props.runnerId ?? deriveRunnerId(this, props.runnerIdPrefix ?? 'runner');
    warnOnCutSessionName(this, props, this.orgId, this.runnerId);
    claimRunnerId(this, this.orgId, this.runnerId);
    if (
      props.runnerId === undefined &&
      props.apiTokenSecret !== undefined &&
      (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region))
    ) {
      // The derived id leaves out what is unknown at synth: the same in every account or region.
      if (props.adoptExistingRegistration === true) {
        throw new EcsRunnerValidationError(
          'runnerId',
          props.runnerId,
          "a runnerId, or a stack with a concrete account and region, when adoptExistingRegistration is true: the derived id of an environment-agnostic stack is the same in every account and region, so a second deployment would adopt, and repoint, the first one's runner",
        );
      }
      Annotations.of(this).addWarningV2(
        'platform-orchestrator-ecs-runner:derivedRunnerIdWithoutEnv',
        `The runner id ${this.runnerId} is derived without the stack's ${Token.isUnresolved(stack.account) ? 'account' : 'region'} (unknown at synth): deploying this stack to a second account or region registers the same id, which the orchestrator refuses. Set runnerId, or a concrete env on the stack.`,
      );
    }

    // Encryption.
    this.encryptionKey =
      props.encryptionKey ??
      (props.createEncryptionKey
        ? new kms.Key(this, 'EncryptionKey', {
            description: `Platform Orchestrator runner ${this.runnerId}: Terraform state, alarms`,
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined);
    const keyCreated = props.encryptionKey === undefined && this.encryptionKey !== undefined;
    if (keyCreated) {
      // Nothing of the runner uses KMS grants: only AWS services acting for a resource may create them.
      this.encryptionKey!.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyGrantsExceptForAwsServices',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }),
      );
    }

    // Identity: the account-wide OIDC provider of the issuer.
    const issuer = resolveIssuer(props, this.orchestrator);
    this.oidcProviderArn =
      props.oidcProviderArn ?? PlatformOrchestratorOidcProvider.forIssuer(this, issuer).providerArn;

    // Network: the given subnets, or the given VPC's, or a VPC of the runner's own.
    checkSubnetsInVpc(props);
    if (props.vpc === undefined && props.subnets === undefined && props.subnetIds === undefined) {
      this.createdVpc = new RunnerVpc(this, 'Network', {
        natGateways: props.natGateways ?? 1,
        flowLogGroupName: `/platform-orchestrator/${this.runnerId}/vpc-flow-logs`,
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: this.encryptionKey,
      });
    }
    this.vpc = props.vpc ?? this.createdVpc?.vpc;
    const subnetIds = resolveSubnetIds(props, this.vpc);
    const securityGroups = [...(props.securityGroups ?? [])];
    // A list token of ids (validateProps refuses securityGroups with it) goes to the body as it is.
    const sgIdList = Token.isUnresolved(props.securityGroupIds) ? props.securityGroupIds : undefined;
    (sgIdList ? [] : (props.securityGroupIds ?? [])).forEach((sgId, i) =>
      securityGroups.push(
        ec2.SecurityGroup.fromSecurityGroupId(this, `ImportedSecurityGroup${i}`, sgId, { mutable: false }),
      ),
    );
    if (securityGroups.length === 0 && !sgIdList && this.vpc) {
      securityGroups.push(
        new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
          vpc: this.vpc,
          description: 'Platform Orchestrator runner jobs: no inbound, outbound for images, providers and AWS APIs',
          allowAllOutbound: true,
        }),
      );
    }
    if (securityGroups.length === 0 && !sgIdList) {
      Annotations.of(this).addWarningV2(
        'platform-orchestrator-ecs-runner:defaultSecurityGroup',
        'No security group: ECS attaches the VPC default security group to jobs. Pass `vpc` to get an egress-only group, or `securityGroups`.',
      );
    }
    this.connections = new ec2.Connections({ securityGroups });
    this.subnetIds = subnetIds;
    this.securityGroupIds = sgIdList ? [...sgIdList] : securityGroups.map((sg) => sg.securityGroupId);

    // Compute.
    let clusterConstruct: RunnerCluster | undefined;
    if (props.cluster) {
      this.cluster = props.cluster;
      this.clusterName = props.cluster.clusterName;
      this.clusterArn = props.cluster.clusterArn;
    } else {
      const created = new RunnerCluster(this, 'Cluster', {
        containerInsights: props.containerInsights ?? ContainerInsightsMode.ENHANCED,
        vpc: this.vpc,
      });
      this.cluster = created.cluster;
      this.clusterName = created.clusterName;
      this.clusterArn = created.clusterArn;
      clusterConstruct = created;
    }

    // State.
    this.state = new RunnerStateStore(this, 'State', {
      bucket: props.stateBucket,
      pathPrefix: normalizePrefix(props.statePathPrefix),
      destroyOnRemoval: props.destroyStateOnRemoval ?? false,
      noncurrentVersionTransitionDays: props.noncurrentVersionTransitionDays ?? 30,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays ?? 90,
      abortIncompleteMultipartUploadDays: props.abortIncompleteMultipartUploadDays ?? 7,
      encryptionKey: this.encryptionKey,
      accessLogsBucket:
        props.stateBucket !== undefined || props.serverAccessLogs === false
          ? undefined
          : (props.accessLogsBucket ?? RunnerAccessLogsBucket.forStack(this, props.accessLogsRetentionDays)),
      accessLogsPrefix: `${this.runnerId}/`,
      replication: props.stateReplication,
    });
    this.stateBucket = this.state.bucket;
    this.statePathPrefix = this.state.pathPrefix;

    // Roles.
    const jobSecrets = { ...(props.secrets ?? {}) };
    const secrets = jobSecretArns(jobSecrets);
    const familyScope = this.orchestrator.taskDefinitionFamilyScope(this.orgId);
    const roles = new RunnerRoles(this, 'Roles', {
      oidcProviderArn: this.oidcProviderArn,
      issuer,
      orgId: this.orgId,
      runnerId: this.runnerId,
      clusterArn: this.clusterArn,
      clusterName: this.clusterName,
      taskDefinitionFamilyScope: familyScope,
      maxTaskCpu: props.maxTaskCpu ?? DEFAULT_MAX_TASK_CPU,
      maxTaskMemoryMiB: props.maxTaskMemoryMiB ?? DEFAULT_MAX_TASK_MEMORY_MIB,
      secretsEncryptionKeys: props.secretsEncryptionKeys ?? [],
      image: props.image,
      assumableRoleArns: [...(props.assumableRoleArns ?? [])],
      taskRoleStatements: [...(props.taskRoleStatements ?? [])],
      taskRoleManagedPolicies: [...(props.taskRoleManagedPolicies ?? [])],
      stateStatements: this.state.stateAccessStatements(),
      stateWildcardReasons: RunnerStateStore.WILDCARD_REASONS,
    });
    this.taskManagerRole = roles.taskManagerRole;
    this.executionRole = roles.executionRole;
    this.taskRole = roles.taskRole;
    // What tools that read only the template (po-ecs-runner check, the conformance tests) need.
    const metadata: RunnerMetadata = {
      version: RUNNER_METADATA_VERSION,
      orgId: this.orgId,
      runnerId: this.runnerId,
      orchestrator: {
        name: this.orchestrator.name,
        issuer,
        apiUrl: this.orchestrator.apiUrl,
        taskDefinitionFamilyPrefix: this.orchestrator.taskDefinitionFamilyPrefix,
        taskDefinitionFamilyScope: familyScope,
      },
    };
    (roles.taskManagerRole.node.defaultChild as iam.CfnRole).addMetadata(RUNNER_METADATA_KEY, metadata);
    grantJobSecrets(jobSecrets, roles.executionRole);
    if (props.restrictStateAccess === true) {
      this.state.restrictObjectAccess([this.taskRole, ...(props.stateAdministrators ?? [])]);
    }

    // Registration body.
    const body = runnerCreateBody({
      runnerId: this.runnerId,
      description: props.description,
      taskManagerRoleArn: this.taskManagerRole.roleArn,
      sessionName: props.sessionName,
      stsRegion: props.stsRegion,
      region: stack.region,
      clusterName: this.clusterName,
      subnetIds,
      securityGroupIds: this.securityGroupIds,
      assignPublicIp: props.assignPublicIp ?? false,
      executionRoleArn: this.executionRole.roleArn,
      taskRoleArn: this.taskRole.roleArn,
      image: props.image,
      environment: { ...(props.environment ?? {}) },
      secrets,
      bucketName: this.stateBucket.bucketName,
      pathPrefix: this.statePathPrefix === '' ? undefined : this.statePathPrefix,
    });
    this.registrationBody = stack.toJsonString(body);
    this.registrationBodyOutput = new CfnOutput(this, 'RunnerCreateBody', {
      value: this.registrationBody,
      description: `Platform Orchestrator RunnerCreateBody of runner ${this.runnerId} (org ${this.orgId})`,
    });

    // Registration on deploy.
    if (props.apiTokenSecret) {
      this.registration = new RunnerRegistration(this, 'Registration', {
        runnerId: this.runnerId,
        orgId: this.orgId,
        body: this.registrationBody,
        apiTokenSecret: props.apiTokenSecret,
        apiUrl: this.orchestrator.apiUrl,
        adoptExisting: props.adoptExistingRegistration,
        removalPolicy: props.registrationRemovalPolicy,
        rules: props.runnerRules,
        permissionsBoundary: props.permissionsBoundary,
        rolePath: props.rolePath,
        encryptionKey: this.encryptionKey,
      });
      // The orchestrator may start jobs as soon as the runner is registered and until it is
      // deregistered: register after, and deregister before, everything a job needs (the roles'
      // policies, the cluster, the security group, state bucket and its policy), not only what the
      // body references.
      this.registration.node.addDependency(
        roles,
        this.state,
        ...(clusterConstruct ? [clusterConstruct] : []),
        ...(this.createdVpc ? [this.createdVpc] : []),
        ...securityGroups.filter((sg) => sg.node.scope === this),
      );
    }

    // Governance: boundary and path on every role under the runner, and on the stack-level
    // provider that deletes a test stack's state objects.
    applyRoleGovernance(this, props.permissionsBoundary, props.rolePath);
    const autoDelete = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    if (autoDelete && props.destroyStateOnRemoval) {
      applyRoleGovernance(autoDelete, props.permissionsBoundary, props.rolePath);
    }
    // The created VPC's default security group is emptied by CDK's stack-level provider.
    const restrictDefaultSg = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (restrictDefaultSg && this.createdVpc) {
      applyRoleGovernance(restrictDefaultSg, props.permissionsBoundary, props.rolePath);
    }

    // Tags.
    tagManagedBy(this);
    for (const [key, value] of Object.entries(props.tags ?? {})) {
      Tags.of(this).add(key, value);
    }
    limitTagCount(this);
    if ((props.requiredTagKeys ?? []).length > 0) {
      requireTags(this, this.taskRole, [...props.requiredTagKeys!]);
    }
    if (props.destroyStateOnRemoval === true) {
      Annotations.of(this).addWarningV2(
        'platform-orchestrator-ecs-runner:destroyStateOnRemoval',
        'destroyStateOnRemoval deletes the state bucket and every Terraform state in it when the runner leaves the stack or the stack is deleted: use it for test stacks only.',
      );
    }
    if (props.image !== undefined && Token.isUnresolved(props.image)) {
      Annotations.of(this).addWarningV2(
        'platform-orchestrator-ecs-runner:imageToken',
        'image is only known at deploy time, so the execution role gets no ECR pull permission for it: grant it, e.g. repository.grantPull(runner.executionRole).',
      );
    }
  }

  /**
   * Alarms, an alarm topic and a section on the stack's shared runner dashboard
   * (`PlatformOrchestratorRunnersDashboard`) for this runner's jobs and state (see
   * {@link RunnerMonitoring}). The topic and the events log group are encrypted with the runner's
   * key when it has one, and the registration handler's errors are alarmed on when the runner
   * registers itself. Call it once per runner: a second call is an error (its options would
   * otherwise be silently ignored, and a second monitoring would count every job twice).
   */
  public addMonitoring(options: RunnerMonitoringOptions = {}): RunnerMonitoring {
    const existing = this.node.tryFindChild(MONITORING_ID);
    if (existing !== undefined) {
      throw new EcsRunnerValidationError(
        'addMonitoring',
        existing.node.path,
        'one addMonitoring() call per runner: keep the RunnerMonitoring the first call returned and pass every option to that call',
      );
    }
    return new RunnerMonitoring(this, MONITORING_ID, {
      ...options,
      runner: this,
      encryptionKey: options.encryptionKey ?? this.encryptionKey,
      registrationFunction: options.registrationFunction ?? this.registration?.handlerFunction,
    });
  }

  /** Grant read and write access to this runner's Terraform state (objects, lock files, key). */
  public grantStateReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.state.grantStateReadWrite(grantee);
  }
}

/** Construct-typed props are recognised by the members the runner reads of them. */
const construct = (what: string, ...has: string[]): v.PropKind => ({ construct: what, has });
const constructs = (what: string, ...has: string[]): v.PropKind => ({ constructs: what, has });

/** The kind of every prop of {@link EcsRunnerProps}, for {@link v.checkShapes}. */
const PROP_KINDS: Record<keyof EcsRunnerProps, v.PropKind> = {
  orgId: 'string',
  runnerId: 'string',
  runnerIdPrefix: 'string',
  description: 'string',
  orchestrator: construct(
    'an Orchestrator (Orchestrator.humanitec(), .stellwerk(...) or .custom(...))',
    'oidcIssuer',
    'apiUrl',
    'taskDefinitionFamilyPrefix',
    'taskDefinitionFamilyScope',
  ),
  oidcProviderArn: 'string',
  vpc: construct('an ec2.IVpc', 'vpcId', 'selectSubnets'),
  natGateways: 'number',
  logRetention: 'number',
  subnets: constructs('ec2.ISubnet', 'subnetId'),
  subnetIds: 'string[]',
  securityGroups: constructs('ec2.ISecurityGroup', 'securityGroupId'),
  securityGroupIds: 'string[]',
  assignPublicIp: 'boolean',
  cluster: construct('an ecs.ICluster', 'clusterName', 'clusterArn'),
  containerInsights: 'string',
  environment: 'record<string>',
  secrets: 'record<object>',
  secretsEncryptionKeys: constructs('kms.IKey', 'keyArn'),
  image: 'string',
  sessionName: 'string',
  maxTaskCpu: 'number',
  maxTaskMemoryMiB: 'number',
  stsRegion: 'string',
  stateBucket: construct('an s3.IBucket', 'bucketName', 'bucketArn'),
  statePathPrefix: 'string',
  destroyStateOnRemoval: 'boolean',
  restrictStateAccess: 'boolean',
  stateAdministrators: constructs('iam.IRole', 'roleArn'),
  noncurrentVersionTransitionDays: 'number',
  noncurrentVersionExpirationDays: 'number',
  abortIncompleteMultipartUploadDays: 'number',
  encryptionKey: construct('a kms.IKey', 'keyArn'),
  createEncryptionKey: 'boolean',
  serverAccessLogs: 'boolean',
  accessLogsBucket: construct('an s3.IBucket', 'bucketName', 'bucketArn'),
  accessLogsRetentionDays: 'number',
  stateReplication: construct('a StateReplication', 'destinationBucket'),
  taskRoleStatements: constructs('iam.PolicyStatement', 'toStatementJson'),
  taskRoleManagedPolicies: constructs('iam.IManagedPolicy', 'managedPolicyArn'),
  assumableRoleArns: 'string[]',
  permissionsBoundary: construct('an iam.IManagedPolicy', 'managedPolicyArn'),
  rolePath: 'string',
  tags: 'record<string>',
  apiTokenSecret: construct('a secretsmanager.ISecret', 'secretArn'),
  adoptExistingRegistration: 'boolean',
  registrationRemovalPolicy: 'string',
  runnerRules: constructs('RunnerRuleProps'),
  requiredTagKeys: 'string[]',
};

function validateProps(props: EcsRunnerProps, stack: Stack): void {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw new EcsRunnerValidationError('props', props, 'an object of EcsRunnerProps with at least orgId');
  }
  if (props.orgId === undefined || props.orgId === null) {
    throw new EcsRunnerValidationError('orgId', props.orgId, 'the orchestrator organization id');
  }
  // Every prop's type first, so a caller without a compiler gets this error, not a TypeError below.
  v.checkShapes(props as unknown as Record<string, unknown>, PROP_KINDS);
  if (props.stateReplication !== undefined) {
    v.checkShapes(
      props.stateReplication as unknown as Record<string, unknown>,
      {
        destinationBucket: construct('an s3.IBucket', 'bucketName', 'bucketArn'),
        destinationEncryptionKey: construct('a kms.IKey', 'keyArn'),
      },
      'stateReplication.',
    );
  }
  v.checkOrgId('orgId', props.orgId);
  v.checkRunnerId('runnerId', props.runnerId);
  if (props.runnerId !== undefined && props.runnerIdPrefix !== undefined) {
    throw new EcsRunnerValidationError(
      'runnerIdPrefix',
      props.runnerIdPrefix,
      'no runnerIdPrefix when runnerId is given',
    );
  }
  v.checkPattern(
    'runnerIdPrefix',
    props.runnerIdPrefix,
    /^[a-z][a-z0-9_-]*$/,
    'a lowercase letter followed by lowercase letters, digits, "_" or "-"',
  );
  v.checkLength('runnerIdPrefix', props.runnerIdPrefix, 1, 40);
  v.checkPattern(
    'oidcProviderArn',
    props.oidcProviderArn,
    v.OIDC_PROVIDER_ARN_PATTERN,
    'an IAM OIDC provider ARN, arn:<partition>:iam::<12-digit account>:oidc-provider/<issuer>',
  );
  if (!Token.isUnresolved(stack.region)) {
    v.checkPattern(
      'stack region',
      stack.region,
      v.REGION_PATTERN,
      'a region the orchestrator API accepts (^[a-z]{2}-[a-z]+-\\d$)',
    );
    // China's regions match the API's region pattern, but its role ARN patterns are arn:aws: only.
    if (stack.region.startsWith('cn-')) {
      throw new EcsRunnerValidationError(
        'stack region',
        stack.region,
        'a region of the aws partition: the orchestrator API accepts only arn:aws: role ARNs, so a runner in aws-cn cannot be registered',
      );
    }
  }
  v.checkPattern(
    'stsRegion',
    props.stsRegion,
    v.REGION_PATTERN,
    'a region such as "eu-central-1" (^[a-z]{2}-[a-z]+-\\d$)',
  );
  v.checkPattern('sessionName', props.sessionName, v.SESSION_NAME_PATTERN, '3 to 64 of letters, digits and +=,.@_-');
  v.checkLength('description', props.description, 0, 1000);

  // Network.
  if (props.subnets !== undefined && props.subnetIds !== undefined) {
    throw new EcsRunnerValidationError('subnetIds', props.subnetIds, 'either subnets or subnetIds, not both');
  }
  v.checkIntegerRange('natGateways', props.natGateways, 1, 2);
  v.checkOneOf(
    'logRetention',
    props.logRetention,
    Object.values(logs.RetentionDays).filter((d) => typeof d === 'number') as logs.RetentionDays[],
  );
  if (props.logRetention === logs.RetentionDays.INFINITE) {
    throw new EcsRunnerValidationError('logRetention', props.logRetention, 'a finite retention from 1 to 3653 days');
  }
  if (
    props.logRetention !== undefined &&
    (props.vpc !== undefined || props.subnets !== undefined || props.subnetIds !== undefined)
  ) {
    throw new EcsRunnerValidationError(
      'logRetention',
      props.logRetention,
      'no logRetention with vpc, subnets or subnetIds (it sets the retention of the flow logs of the VPC the runner creates when given none of them; the runner has no other log group)',
    );
  }
  if (
    props.natGateways !== undefined &&
    (props.subnets !== undefined || props.subnetIds !== undefined || props.vpc !== undefined)
  ) {
    throw new EcsRunnerValidationError(
      'natGateways',
      props.natGateways,
      'no natGateways with vpc, subnets or subnetIds (it configures the VPC the runner creates when given none of them)',
    );
  }
  v.checkCount('subnets', props.subnets, 1, 16);
  v.checkCount('subnetIds', props.subnetIds, 1, 16);
  // A list token (a List<AWS::EC2::Subnet::Id> parameter, Fn.split, Lazy.list) is one encoded
  // element: Token.isUnresolved of the list detects it, of its element does not.
  for (const [i, subnetId] of (v.unresolved(props.subnetIds) ? [] : (props.subnetIds ?? [])).entries()) {
    v.checkPattern(`subnetIds[${i}]`, subnetId, v.SUBNET_ID_PATTERN, 'a subnet id such as "subnet-0123456789abcdef0"');
  }
  // `subnets` are not pattern-checked: their ids come from CDK, and `ec2.Vpc.fromLookup` gives
  // placeholder ids ("p-12345") until the CLI has looked the VPC up, so a check would fail the
  // synth that the lookup needs.
  if (v.unresolved(props.securityGroupIds) && (props.securityGroups ?? []).length > 0) {
    throw new EcsRunnerValidationError(
      'securityGroups',
      props.securityGroups!.map((sg) => sg.securityGroupId),
      'no securityGroups when securityGroupIds is a list token (a list known only at deploy time cannot be extended): put all ids in the list',
    );
  }
  const sgCount = (props.securityGroups?.length ?? 0) + (props.securityGroupIds?.length ?? 0);
  if (sgCount > 5 && !v.unresolved(props.securityGroupIds)) {
    throw new EcsRunnerValidationError(
      'securityGroups and securityGroupIds',
      [...(props.securityGroups ?? []), ...(props.securityGroupIds ?? [])],
      'at most 5 security groups in all',
    );
  }
  for (const [i, sgId] of (v.unresolved(props.securityGroupIds) ? [] : (props.securityGroupIds ?? [])).entries()) {
    v.checkPattern(
      `securityGroupIds[${i}]`,
      sgId,
      v.SECURITY_GROUP_ID_PATTERN,
      'a security group id such as "sg-0123456789abcdef0"',
    );
  }
  for (const [i, sg] of (props.securityGroups ?? []).entries()) {
    v.checkPattern(
      `securityGroups[${i}].securityGroupId`,
      sg.securityGroupId,
      v.SECURITY_GROUP_ID_PATTERN,
      'a security group id such as "sg-0123456789abcdef0"',
    );
  }
  checkVpcHasJobSubnets(props);
  if (props.cluster !== undefined && props.containerInsights !== undefined) {
    throw new EcsRunnerValidationError(
      'containerInsights',
      props.containerInsights,
      'no containerInsights with an existing cluster (configure the cluster itself)',
    );
  }
  v.checkOneOf('containerInsights', props.containerInsights, Object.values(ContainerInsightsMode));
  checkSameEnvironment(stack, props);
  // Job.
  checkEnvironment(props.environment);
  checkJobSecrets(stack, props.secrets);
  v.checkIntegerRange('maxTaskCpu', props.maxTaskCpu, 512, 16384);
  v.checkIntegerRange('maxTaskMemoryMiB', props.maxTaskMemoryMiB, 1024, 122880);
  if (
    props.environment &&
    props.secrets &&
    !Token.isUnresolved(props.environment) &&
    !Token.isUnresolved(props.secrets)
  ) {
    for (const name of Object.keys(props.secrets)) {
      // Own keys only: `in` would find `constructor` or `toString` on every object's prototype.
      if (Object.prototype.hasOwnProperty.call(props.environment, name)) {
        throw new EcsRunnerValidationError(`secrets.${name}`, name, 'a variable name that is not also in environment');
      }
    }
  }
  v.checkPattern(
    'image',
    props.image,
    v.IMAGE_PATTERN,
    'a container image reference (^[a-zA-Z0-9._:/-]+(@<algorithm>:<hex digest>)?$), e.g. "123456789012.dkr.ecr.eu-central-1.amazonaws.com/runner:1.2.3"',
  );
  v.checkLength('image', props.image, 1, 255);
  // State.
  if (props.stateBucket !== undefined) {
    v.checkPattern(
      'stateBucket.bucketName',
      props.stateBucket.bucketName,
      v.BUCKET_PATTERN,
      'a bucket name the API accepts: ^[a-z0-9][a-z0-9-]*[a-z0-9]$ (no dots)',
    );
    v.checkLength('stateBucket.bucketName', props.stateBucket.bucketName, 3, 63);
    if (props.destroyStateOnRemoval) {
      throw new EcsRunnerValidationError(
        'destroyStateOnRemoval',
        true,
        'false with an existing stateBucket (the runner never deletes a bucket it did not create)',
      );
    }
    if (props.restrictStateAccess === true) {
      throw new EcsRunnerValidationError(
        'restrictStateAccess',
        true,
        "false with an existing stateBucket: the runner does not change your bucket's policy (add the statement to it)",
      );
    }
    for (const name of [
      'noncurrentVersionTransitionDays',
      'noncurrentVersionExpirationDays',
      'abortIncompleteMultipartUploadDays',
      'accessLogsRetentionDays',
    ] as const) {
      if (props[name] !== undefined) {
        throw new EcsRunnerValidationError(
          name,
          props[name],
          `no ${name} with an existing stateBucket: it configures the bucket the runner creates (set your bucket's lifecycle rules itself)`,
        );
      }
    }
  }
  if (props.restrictStateAccess === true && props.destroyStateOnRemoval === true) {
    throw new EcsRunnerValidationError(
      'restrictStateAccess',
      true,
      'false with destroyStateOnRemoval: the function that empties the bucket on deletion could not delete the state',
    );
  }
  if (props.stateAdministrators !== undefined && props.restrictStateAccess !== true) {
    throw new EcsRunnerValidationError(
      'stateAdministrators',
      props.stateAdministrators.map((r) => r.roleArn),
      'no stateAdministrators unless restrictStateAccess is true (without it, IAM policies decide who may read the state)',
    );
  }
  v.checkStatePathPrefix('statePathPrefix', props.statePathPrefix);
  v.checkLength('statePathPrefix', props.statePathPrefix, 1, 512);
  v.checkIntegerRange('noncurrentVersionTransitionDays', props.noncurrentVersionTransitionDays, 30, 36500);
  v.checkIntegerRange('noncurrentVersionExpirationDays', props.noncurrentVersionExpirationDays, 1, 36500);
  v.checkIntegerRange('abortIncompleteMultipartUploadDays', props.abortIncompleteMultipartUploadDays, 1, 36500);
  const transition = props.noncurrentVersionTransitionDays ?? 30;
  const expiration = props.noncurrentVersionExpirationDays ?? 90;
  if (!Token.isUnresolved(transition) && !Token.isUnresolved(expiration) && expiration <= transition) {
    throw new EcsRunnerValidationError(
      'noncurrentVersionExpirationDays',
      expiration,
      `more days than noncurrentVersionTransitionDays (${transition})`,
    );
  }
  // Encryption, access logs, replication, task role.
  if (props.encryptionKey !== undefined && props.createEncryptionKey) {
    throw new EcsRunnerValidationError('createEncryptionKey', true, 'false when encryptionKey is given');
  }
  if (props.accessLogsBucket !== undefined && props.serverAccessLogs === false) {
    throw new EcsRunnerValidationError(
      'accessLogsBucket',
      'given',
      'no accessLogsBucket when serverAccessLogs is false',
    );
  }
  if (
    props.stateBucket !== undefined &&
    (props.accessLogsBucket !== undefined || props.stateReplication !== undefined)
  ) {
    throw new EcsRunnerValidationError(
      props.accessLogsBucket !== undefined ? 'accessLogsBucket' : 'stateReplication',
      'given',
      'configure access logging and replication on the existing stateBucket itself',
    );
  }
  v.checkIntegerRange('accessLogsRetentionDays', props.accessLogsRetentionDays, 1, 36500);
  if (props.accessLogsRetentionDays !== undefined && (props.serverAccessLogs === false || props.accessLogsBucket)) {
    throw new EcsRunnerValidationError(
      'accessLogsRetentionDays',
      props.accessLogsRetentionDays,
      props.serverAccessLogs === false
        ? 'no accessLogsRetentionDays when serverAccessLogs is false (there are no access logs to keep)'
        : "no accessLogsRetentionDays with accessLogsBucket: it is the retention of the stack's own access-logs bucket (set your bucket's lifecycle rules itself)",
    );
  }
  if (props.accessLogsBucket?.encryptionKey !== undefined) {
    throw new EcsRunnerValidationError(
      'accessLogsBucket',
      props.accessLogsBucket.node?.path ?? props.accessLogsBucket.bucketName,
      'a bucket encrypted with SSE-S3: S3 server access logs are not delivered to an SSE-KMS bucket (this one has an encryptionKey)',
    );
  }
  if (
    props.stateReplication !== undefined &&
    props.stateReplication.destinationEncryptionKey === undefined &&
    (props.encryptionKey !== undefined || props.createEncryptionKey === true)
  ) {
    throw new EcsRunnerValidationError(
      'stateReplication.destinationEncryptionKey',
      undefined,
      "a KMS key of the destination bucket's region when the state is KMS-encrypted (encryptionKey or createEncryptionKey): S3 replicates SSE-KMS objects only with a replica key, and CloudFormation refuses the rule without one",
    );
  }
  for (const [i, arn] of (v.unresolved(props.assumableRoleArns) ? [] : (props.assumableRoleArns ?? [])).entries()) {
    v.checkPattern(
      `assumableRoleArns[${i}]`,
      arn,
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
      'an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<path and name>',
    );
  }
  for (const [i, key] of (v.unresolved(props.requiredTagKeys) ? [] : (props.requiredTagKeys ?? [])).entries()) {
    v.checkLength(`requiredTagKeys[${i}]`, key, 1, 128);
  }

  if (
    props.apiTokenSecret === undefined &&
    (props.adoptExistingRegistration !== undefined ||
      props.runnerRules !== undefined ||
      props.registrationRemovalPolicy !== undefined)
  ) {
    throw new EcsRunnerValidationError(
      'apiTokenSecret',
      undefined,
      'a Secrets Manager secret with the API token when adoptExistingRegistration, registrationRemovalPolicy or runnerRules is set',
    );
  }
  // Named as the user wrote them (RunnerRegistration calls them removalPolicy and rules).
  checkRemovalPolicy('registrationRemovalPolicy', props.registrationRemovalPolicy);
  checkRunnerRules('runnerRules', props.runnerRules);

  // Governance.
  v.checkRolePath('rolePath', props.rolePath);
  v.checkTags('tags', props.tags);
}

function checkEnvironment(environment: Record<string, string> | undefined): void {
  if (environment === undefined) return;
  if (Token.isUnresolved(environment)) {
    throw new EcsRunnerValidationError(
      'environment',
      'a token',
      'an object with concrete variable names (values may be tokens): the registration body lists each variable',
    );
  }
  for (const [name, value] of Object.entries(environment)) {
    v.checkPattern(
      'environment key',
      name,
      v.ENV_NAME_PATTERN,
      'a variable name of letters, digits and "_" that does not start with a digit',
    );
    v.checkJobVariableName('environment', name, false);
    if (typeof value !== 'string') {
      throw new EcsRunnerValidationError(`environment.${name}`, value, 'a string');
    }
    v.checkLength(`environment.${name}`, value, 0, v.ENV_VALUE_MAX);
  }
}

/**
 * The orchestrator's default session name is `<orgId>-<runnerId>`, which it cuts to STS's 64
 * characters rather than refusing it: legal, but the session (and CloudTrail) then shows a name
 * that may no longer carry the whole runner id.
 */
function warnOnCutSessionName(scope: Construct, props: EcsRunnerProps, orgId: string, runnerId: string): void {
  if (props.sessionName !== undefined || Token.isUnresolved(orgId) || Token.isUnresolved(runnerId)) return;
  const session = `${orgId}-${runnerId}`;
  if (session.length > 64) {
    Annotations.of(scope).addWarningV2(
      'platform-orchestrator-ecs-runner:sessionNameCut',
      `The orchestrator's default session name "<orgId>-<runnerId>" is ${session.length} characters: it cuts it to 64 ("${session.slice(0, 64)}"), so CloudTrail shows that name. Set sessionName (3 to 64 characters) to choose one.`,
    );
  }
}

/** Every required tag key must be set in `tags` or on the stack. */
/**
 * Every required tag key must be on the runner's resources when the app is synthesized, from
 * `tags`, the stack's tags or `Tags.of(...)` anywhere above the runner (tags are aspects, so
 * they are only known then). Checked on the task role, which every runner has.
 * Stack tags count too: CloudFormation applies them to every resource of the stack.
 */
function requireTags(runner: Construct, taskRole: iam.IRole, requiredTagKeys: string[]): void {
  const cfnRole = taskRole.node.defaultChild as iam.CfnRole;
  runner.node.addValidation({
    validate: () => {
      // Stack tags are applied by CloudFormation at deploy time, not written on each resource.
      const present = { ...Stack.of(runner).tags.tagValues(), ...cfnRole.tags.tagValues() };
      // A list token's keys are known only at deploy time: nothing to check.
      if (Token.isUnresolved(requiredTagKeys)) return [];
      return requiredTagKeys
        .filter((key) => !Token.isUnresolved(key) && !Object.prototype.hasOwnProperty.call(present, key))
        .map(
          (key) =>
            new EcsRunnerValidationError(
              'tags',
              Object.keys(present).join(', '),
              `a value for the required tag key "${key}" (requiredTagKeys), from tags, the stack's tags or Tags.of()`,
            ).message,
        );
    },
  });
}

/**
 * With `vpc` and neither `subnets` nor `subnetIds`, the jobs run in the VPC's private subnets with
 * egress: a VPC without them is the library's error, not CDK's "There are no 'Private' subnet groups".
 */
function checkVpcHasJobSubnets(props: EcsRunnerProps): void {
  if (props.vpc === undefined || props.subnets !== undefined || props.subnetIds !== undefined) return;
  let selected: string[];
  try {
    selected = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
  } catch {
    selected = [];
  }
  if (selected.length === 0) {
    throw new EcsRunnerValidationError(
      'vpc',
      Token.isUnresolved(props.vpc.vpcId) ? props.vpc.node.path : props.vpc.vpcId,
      'a VPC with private subnets with egress (SubnetType.PRIVATE_WITH_EGRESS) for the jobs, or pass subnets (or subnetIds) to choose the subnets the jobs run in',
    );
  }
  v.checkCount('subnets selected from vpc', selected, 1, 16);
}

/** The concrete account, region and partition of an ARN, when the ARN is concrete. */
function arnEnv(arn: string | undefined): { partition: string; account: string; region: string } | undefined {
  if (arn === undefined || Token.isUnresolved(arn) || !arn.startsWith('arn:')) return undefined;
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return { partition: parts[1], region: parts[3], account: parts[4] };
}

/**
 * The OIDC provider and an existing cluster must be the stack's: a role trusts only a provider of
 * its own account, and the orchestrator runs jobs on the body's cluster name in the body's region
 * (the stack's) with the task-manager role of the stack's account. Compared where both are concrete.
 */
function checkSameEnvironment(stack: Stack, props: EcsRunnerProps): void {
  const concrete = (s: string) => !Token.isUnresolved(s);
  // The API's role ARN patterns are arn:aws: only, and validateProps refuses other regions.
  const partition = concrete(stack.partition) ? stack.partition : concrete(stack.region) ? 'aws' : undefined;
  const provider = arnEnv(props.oidcProviderArn);
  if (provider) {
    if (partition !== undefined && provider.partition !== partition) {
      throw new EcsRunnerValidationError(
        'oidcProviderArn',
        props.oidcProviderArn,
        `a provider of the stack's partition (arn:${partition}:iam::...)`,
      );
    }
    if (concrete(stack.account) && provider.account !== stack.account) {
      throw new EcsRunnerValidationError(
        'oidcProviderArn',
        props.oidcProviderArn,
        `a provider of the stack's account ${stack.account}: a role can only trust an OIDC provider of its own account`,
      );
    }
  }
  const cluster = props.cluster;
  const clusterEnv = cluster ? arnEnv(cluster.clusterArn) : undefined;
  if (cluster && clusterEnv) {
    const mismatch =
      (partition !== undefined && clusterEnv.partition !== partition) ||
      (concrete(stack.account) && clusterEnv.account !== stack.account) ||
      (concrete(stack.region) && clusterEnv.region !== stack.region);
    if (mismatch) {
      throw new EcsRunnerValidationError(
        'cluster',
        cluster.clusterArn,
        `a cluster of the stack's account and region (${concrete(stack.account) ? stack.account : '<account>'}, ${concrete(stack.region) ? stack.region : '<region>'}): the orchestrator runs jobs on the registered cluster name in the stack's region with a role of the stack's account`,
      );
    }
  }
}

/** AWS's limit of tags per resource (IAM roles, S3 buckets, KMS keys, ECS clusters, log groups). */
const MAX_TAGS_PER_RESOURCE = 50;

/**
 * No resource of the runner may carry more than 50 tags once the stack's tags (which
 * CloudFormation adds to every resource) and every `Tags.of()` are applied: checked when the app
 * is synthesized, after the tag aspects ran.
 */
function limitTagCount(runner: Construct): void {
  runner.node.addValidation({
    validate: () => {
      const stackTags = Stack.of(runner).tags.tagValues();
      const errors: string[] = [];
      for (const child of runner.node.findAll()) {
        if (!CfnResource.isCfnResource(child) || !TagManager.isTaggable(child)) continue;
        const all = { ...stackTags, ...child.tags.tagValues() };
        const count = Object.keys(all).length;
        if (count > MAX_TAGS_PER_RESOURCE) {
          errors.push(
            new EcsRunnerValidationError(
              'tags',
              `${count} tags on ${child.node.path}`,
              `at most ${MAX_TAGS_PER_RESOURCE} tags per resource, counting tags, the stack's tags and Tags.of() (AWS refuses more)`,
            ).message,
          );
          break;
        }
      }
      return errors;
    },
  });
}

function resolveIssuer(props: EcsRunnerProps, orchestrator: Orchestrator): string {
  const fromArn =
    props.oidcProviderArn && !Token.isUnresolved(props.oidcProviderArn)
      ? v.OIDC_PROVIDER_ARN_PATTERN.exec(props.oidcProviderArn)?.[1]
      : undefined;
  const issuer = orchestrator.oidcIssuer;
  if (fromArn !== undefined && !Token.isUnresolved(issuer) && fromArn !== issuer) {
    throw new EcsRunnerValidationError(
      'oidcProviderArn',
      props.oidcProviderArn,
      `the provider of the orchestrator's issuer "${issuer}" (arn:<partition>:iam::<account>:oidc-provider/${issuer}), or an orchestrator whose oidcIssuer is the provider's`,
    );
  }
  return issuer;
}

function resolveSubnetIds(props: EcsRunnerProps, vpc: ec2.IVpc | undefined): string[] {
  if (props.subnetIds) return [...props.subnetIds];
  if (props.subnets) return props.subnets.map((s) => s.subnetId);
  const selected = vpc!.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
  v.checkCount('subnets selected from vpc', selected, 1, 16);
  return selected;
}

const DEFAULT_MAX_TASK_CPU = 2048;
const DEFAULT_MAX_TASK_MEMORY_MIB = 4096;

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || Token.isUnresolved(prefix)) return prefix ?? '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * `<prefix>-<10 hex>`: a hash of what identifies the runner in the account. The stack name and
 * construct path are unique within an account and region; the account and region are included
 * when they are known at synth time, so an environment-agnostic stack deployed to several
 * regions should set `runnerId` or a concrete `env`.
 */
function deriveRunnerId(scope: Construct, prefix: string): string {
  const stack = Stack.of(scope);
  const parts = [stack.stackName, scope.node.path];
  if (!Token.isUnresolved(stack.account)) parts.push(stack.account);
  if (!Token.isUnresolved(stack.region)) parts.push(stack.region);
  const hash = createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 10);
  return `${prefix}-${hash}`;
}
