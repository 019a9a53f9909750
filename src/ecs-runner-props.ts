import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ContainerInsightsMode } from './compute/runner-cluster';
import { RunnerEncryption } from './encryption/runner-encryption';
import { RunnerNetwork } from './networking/runner-network';
import { Orchestrator } from './orchestrator';
import { RegistrationOptions } from './registration/runner-registration';
import { StateOptions } from './state/state-bucket';

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
   * Where the jobs run: `RunnerNetwork.createVpc({ natGateways, flowLogRetention })`,
   * `RunnerNetwork.fromVpc(vpc, { subnets })`, `RunnerNetwork.fromSubnets(subnets)` or
   * `RunnerNetwork.fromSubnetIds(ids)`.
   *
   * @default RunnerNetwork.createVpc() - a new VPC: two AZs, private subnets with egress through one
   * NAT gateway, flow logs to a retained log group `/platform-orchestrator/<runnerId>/vpc-flow-logs`
   * (encrypted with the runner's key when it has one)
   */
  readonly network?: RunnerNetwork;

  /**
   * Security groups of the jobs (at most 5 together with `securityGroupIds`).
   *
   * @default - a new egress-only security group when the runner knows the VPC (`createVpc`,
   * `fromVpc`), otherwise none (ECS then uses the VPC's default security group)
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
   * Where the Terraform state lives: `{ bucket: StateBucket.create({...}) | StateBucket.fromBucket(bucket), pathPrefix }`.
   *
   * @default - `StateBucket.create()` (a new versioned, encrypted, access-logged, retained bucket with
   * a generated name), the whole bucket
   */
  readonly state?: StateOptions;

  /**
   * How the runner's data is encrypted: the state bucket (SSE-KMS with a bucket key), the flow-log
   * group of the VPC the runner creates, the registration handler's log groups, and the alarm topic
   * and events log group of `addMonitoring`. `RunnerEncryption.createKey()` or
   * `RunnerEncryption.fromKey(key)`: CloudWatch Logs must be allowed to use the key for each log
   * group it encrypts; the runner adds those statements to the policy of a `kms.Key` of the same
   * stack, and for any other key (imported, or of another stack) a synth warning prints each
   * statement the key's owner must add.
   *
   * @default RunnerEncryption.s3Managed() - no KMS key (SSE-S3 for the state)
   */
  readonly encryption?: RunnerEncryption;

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
   * Register the runner on deploy with an orchestrator API token from Secrets Manager (the raw
   * token, or JSON `{"token": "..."}`): the stack registers the runner, updates the registration on
   * change and deregisters it on removal ({@link RunnerRegistration}). The token is read at deploy
   * time and never appears in the template.
   *
   * @default - nothing is registered; register the stack output `RunnerCreateBody` by other
   * means (e.g. the `po-ecs-runner` CLI)
   */
  readonly registration?: RegistrationOptions;

  /**
   * Tag keys that must be set, in `tags` or as tags of the stack (e.g. Environment, Owner,
   * CostCenter, ComplianceScope). A missing key is a synth-time error naming it.
   *
   * @default - none
   */
  readonly requiredTagKeys?: string[];
}
