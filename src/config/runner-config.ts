import { createHash } from 'crypto';
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ContainerInsightsMode } from '../compute/runner-cluster';
import type { EcsRunnerProps } from '../ecs-runner-props';
import { EcsRunnerValidationError } from '../errors';
import { Orchestrator } from '../orchestrator';
import type { RegistrationOptions } from '../registration/runner-registration';
import type { StateReplication } from '../state/runner-state';
import * as v from '../validation';
import { DEFAULT_EXPIRATION_DAYS, DEFAULT_TRANSITION_DAYS, validateProps } from './validate-props';

/** Where the jobs run, settled. */
export interface NetworkConfig {
  /** Create a VPC of the runner's own with these settings. */
  readonly createVpc?: { readonly natGateways: number; readonly flowLogRetention: logs.RetentionDays };
  /** The user's VPC. */
  readonly vpc?: ec2.IVpc;
  /** The user's subnets (without or with their VPC). */
  readonly subnets?: ec2.ISubnet[];
  /** The user's subnet ids, possibly a list token. */
  readonly subnetIds?: string[];
}

/** Where the Terraform state lives, settled. */
export interface StateConfig {
  /** The user's bucket; undefined when the runner creates one. */
  readonly bucket?: s3.IBucket;
  /** Key prefix ending in `/`, or `''` for the whole bucket. */
  readonly pathPrefix: string;
  readonly destroyOnRemoval: boolean;
  readonly restrictAccess: boolean;
  readonly administrators: iam.IRole[];
  readonly noncurrentVersionTransitionDays: number;
  readonly noncurrentVersionExpirationDays: number;
  readonly abortIncompleteMultipartUploadDays: number;
  /** Server access logs of a created bucket: to the stack's bucket, to the user's, or none. */
  readonly accessLogs?: { readonly bucket?: s3.IBucket; readonly retentionDays?: number };
  readonly replication?: StateReplication;
}

/**
 * The runner's props resolved once: every check made, every default applied, every either/or
 * choice settled. `EcsRunner` only wires constructs from it.
 */
export interface RunnerConfig {
  readonly orgId: string;
  readonly runnerId: string;
  readonly orchestrator: Orchestrator;
  /** The orchestrator's OIDC issuer (host and path). */
  readonly issuer: string;
  readonly description?: string;
  readonly oidcProviderArn?: string;
  readonly network: NetworkConfig;
  /** Security groups given as constructs. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /** Concrete security group ids to import. */
  readonly securityGroupIds: string[];
  /** Security group ids as a list token (known at deploy time only), passed to the body as they are. */
  readonly securityGroupIdList?: string[];
  readonly assignPublicIp: boolean;
  readonly cluster?: ecs.ICluster;
  readonly containerInsights: ContainerInsightsMode;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  readonly secretsEncryptionKeys: kms.IKey[];
  readonly image?: string;
  readonly sessionName?: string;
  readonly stsRegion?: string;
  readonly maxTaskCpu: number;
  readonly maxTaskMemoryMiB: number;
  readonly state: StateConfig;
  /** Create the runner's own key, or use the user's (`key`), or neither. */
  readonly encryption: { readonly createKey: boolean; readonly key?: kms.IKey };
  readonly taskRoleStatements: iam.PolicyStatement[];
  readonly taskRoleManagedPolicies: iam.IManagedPolicy[];
  readonly assumableRoleArns: string[];
  readonly permissionsBoundary?: iam.IManagedPolicy;
  readonly rolePath?: string;
  readonly tags: Record<string, string>;
  readonly requiredTagKeys: string[];
  readonly registration?: RegistrationOptions;
}

const DEFAULT_MAX_TASK_CPU = 2048;
const DEFAULT_MAX_TASK_MEMORY_MIB = 4096;

/**
 * Checks the props (nothing is built before) and resolves them into a {@link RunnerConfig}. The
 * warnings about legal-but-risky choices are added to `runner`. Never mutates `props`: every list
 * and record in the result is a copy.
 */
export function resolveRunnerConfig(runner: Construct, props: EcsRunnerProps): RunnerConfig {
  const stack = Stack.of(runner);
  validateProps(props, stack);
  const orchestrator = props.orchestrator ?? Orchestrator.humanitec();
  const runnerId = props.runnerId ?? deriveRunnerId(runner, props.runnerIdPrefix ?? 'runner');
  const sgIdList = v.unresolved(props.securityGroupIds) ? [...props.securityGroupIds!] : undefined;
  const config: RunnerConfig = {
    orgId: props.orgId,
    runnerId,
    orchestrator,
    issuer: resolveIssuer(props, orchestrator),
    description: props.description,
    oidcProviderArn: props.oidcProviderArn,
    network: resolveNetwork(props),
    securityGroups: [...(props.securityGroups ?? [])],
    securityGroupIds: sgIdList ? [] : [...(props.securityGroupIds ?? [])],
    securityGroupIdList: sgIdList,
    assignPublicIp: props.assignPublicIp ?? false,
    cluster: props.cluster,
    containerInsights: props.containerInsights ?? ContainerInsightsMode.ENHANCED,
    environment: { ...(props.environment ?? {}) },
    secrets: { ...(props.secrets ?? {}) },
    secretsEncryptionKeys: [...(props.secretsEncryptionKeys ?? [])],
    image: props.image,
    sessionName: props.sessionName,
    stsRegion: props.stsRegion,
    maxTaskCpu: props.maxTaskCpu ?? DEFAULT_MAX_TASK_CPU,
    maxTaskMemoryMiB: props.maxTaskMemoryMiB ?? DEFAULT_MAX_TASK_MEMORY_MIB,
    state: resolveState(props),
    encryption: { createKey: props.encryption?.kind === 'CREATE_KEY', key: props.encryption?.key },
    taskRoleStatements: [...(props.taskRoleStatements ?? [])],
    taskRoleManagedPolicies: [...(props.taskRoleManagedPolicies ?? [])],
    assumableRoleArns: [...(props.assumableRoleArns ?? [])],
    permissionsBoundary: props.permissionsBoundary,
    rolePath: props.rolePath,
    tags: { ...(props.tags ?? {}) },
    requiredTagKeys: [...(props.requiredTagKeys ?? [])],
    registration: props.registration,
  };
  checkDerivedIdEnvironment(runner, props, config);
  warn(runner, props, config);
  return config;
}

function resolveNetwork(props: EcsRunnerProps): NetworkConfig {
  const network = props.network;
  if (network === undefined || network.kind === 'CREATE_VPC') {
    const options = network?.createOptions ?? {};
    return {
      createVpc: {
        natGateways: options.natGateways ?? 1,
        flowLogRetention: options.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      },
    };
  }
  return {
    vpc: network.vpc,
    subnets: network.subnets ? [...network.subnets] : undefined,
    subnetIds: network.subnetIds ? [...network.subnetIds] : undefined,
  };
}

function resolveState(props: EcsRunnerProps): StateConfig {
  const bucket = props.state?.bucket;
  const options = bucket?.createOptions ?? {};
  const accessLogs = options.accessLogs;
  return {
    bucket: bucket?.bucket,
    pathPrefix: normalizePrefix(props.state?.pathPrefix),
    destroyOnRemoval: options.destroyOnRemoval ?? false,
    restrictAccess: options.restrictAccess ?? false,
    administrators: [...(options.administrators ?? [])],
    noncurrentVersionTransitionDays: options.noncurrentVersionTransitionDays ?? DEFAULT_TRANSITION_DAYS,
    noncurrentVersionExpirationDays: options.noncurrentVersionExpirationDays ?? DEFAULT_EXPIRATION_DAYS,
    abortIncompleteMultipartUploadDays: options.abortIncompleteMultipartUploadDays ?? 7,
    // A brought bucket's logging is its owner's.
    accessLogs:
      bucket?.kind === 'FROM_BUCKET' || accessLogs?.kind === 'DISABLED'
        ? undefined
        : { bucket: accessLogs?.bucket, retentionDays: accessLogs?.retentionDays },
    replication: options.replication,
  };
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

/** A derived id leaves out what is unknown at synth: it is the same in every account or region. */
function checkDerivedIdEnvironment(runner: Construct, props: EcsRunnerProps, config: RunnerConfig): void {
  const stack = Stack.of(runner);
  const agnostic = Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region);
  if (props.runnerId !== undefined || config.registration === undefined || !agnostic) return;
  if (config.registration.adoptExisting === true) {
    throw new EcsRunnerValidationError(
      'runnerId',
      props.runnerId,
      "a runnerId, or a stack with a concrete account and region, when registration.adoptExisting is true: the derived id of an environment-agnostic stack is the same in every account and region, so a second deployment would adopt, and repoint, the first one's runner",
    );
  }
  Annotations.of(runner).addWarningV2(
    'platform-orchestrator-ecs-runner:derivedRunnerIdWithoutEnv',
    `The runner id ${config.runnerId} is derived without the stack's ${Token.isUnresolved(stack.account) ? 'account' : 'region'} (unknown at synth): deploying this stack to a second account or region registers the same id, which the orchestrator refuses. Set runnerId, or a concrete env on the stack.`,
  );
}

/** Warnings for legal-but-risky choices. */
function warn(runner: Construct, props: EcsRunnerProps, config: RunnerConfig): void {
  const warning = (id: string, text: string) =>
    Annotations.of(runner).addWarningV2(`platform-orchestrator-ecs-runner:${id}`, text);
  // The orchestrator's default session name is `<orgId>-<runnerId>`, which it cuts to STS's 64
  // characters rather than refusing it: the session (and CloudTrail) then shows a cut name.
  const session = `${config.orgId}-${config.runnerId}`;
  if (props.sessionName === undefined && !Token.isUnresolved(session) && session.length > 64) {
    warning(
      'sessionNameCut',
      `The orchestrator's default session name "<orgId>-<runnerId>" is ${session.length} characters: it cuts it to 64 ("${session.slice(0, 64)}"), so CloudTrail shows that name. Set sessionName (3 to 64 characters) to choose one.`,
    );
  }
  if (config.state.destroyOnRemoval) {
    warning(
      'destroyStateOnRemoval',
      'state.bucket destroyOnRemoval deletes the state bucket and every Terraform state in it when the runner leaves the stack or the stack is deleted: use it for test stacks only.',
    );
  }
  if (Token.isUnresolved(config.requiredTagKeys) || config.requiredTagKeys.some((key) => Token.isUnresolved(key))) {
    warning(
      'requiredTagKeysToken',
      'requiredTagKeys holds keys known only at deploy time: those are not checked against the tags at synth.',
    );
  }
  // Stack.toJsonString puts a string token's deployed value into the body's JSON as it is.
  const tokens = [
    ['description', config.description],
    ['sessionName', config.sessionName],
    ['stsRegion', config.stsRegion],
    ...Object.entries(config.environment).map(([name, value]) => [`environment.${name}`, value]),
  ].filter(([, value]) => value !== undefined && Token.isUnresolved(value));
  if (tokens.length > 0) {
    warning(
      'bodyStringToken',
      `${tokens.map(([name]) => name).join(', ')} ${tokens.length === 1 ? 'is' : 'are'} known only at deploy time and go into the RunnerCreateBody JSON unescaped: the deployed value must not contain ", \\ or control characters, or the body is not JSON.`,
    );
  }
  if (config.image !== undefined && Token.isUnresolved(config.image)) {
    warning(
      'imageToken',
      'image is only known at deploy time, so the execution role gets no ECR pull permission for it: grant it, e.g. repository.grantPull(runner.executionRole).',
    );
  }
}

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
