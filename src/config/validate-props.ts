import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ContainerInsightsMode } from '../compute/runner-cluster';
import type { EcsRunnerProps } from '../ecs-runner-props';
import { EcsRunnerValidationError } from '../errors';
import { pseudoParameters, readable } from '../encryption/key-policy';
import { checkJobSecrets } from '../identity/job-secrets';
import { checkSubnetsInVpc } from '../networking/subnets-in-vpc';
import {
  checkRemovalPolicy,
  checkRunnerRules,
  checkSharedRegistrationProvider,
} from '../registration/runner-registration';
import { RunnerAccessLogsBucket } from '../state/runner-state';
import type { StateBucket } from '../state/state-bucket';
import * as v from '../validation';
import * as kinds from './prop-kinds';

/** The choices a factory class may be: its `kind`s. */
const NETWORK_CHOICES = ['CREATE_VPC', 'FROM_VPC', 'FROM_SUBNETS', 'FROM_SUBNET_IDS'];
const ENCRYPTION_CHOICES = ['S3_MANAGED', 'CREATE_KEY', 'FROM_KEY'];
const BUCKET_CHOICES = ['CREATE', 'FROM_BUCKET'];
const ACCESS_LOGS_CHOICES = ['STACK_BUCKET', 'TO_BUCKET', 'DISABLED'];

const shape = (value: object | undefined, table: Record<string, v.PropKind>, prefix: string) => {
  if (value !== undefined) v.checkShapes(value as Record<string, unknown>, table, prefix);
};

/**
 * Every check of the runner's props, in one place, before anything is built: a refused runner
 * leaves nothing in the stack. Errors name the prop as the user wrote it (`state.bucket.…`).
 */
export function validateProps(props: EcsRunnerProps, stack: Stack): void {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw new EcsRunnerValidationError('props', props, 'an object of EcsRunnerProps with at least orgId');
  }
  if (props.orgId === undefined || props.orgId === null) {
    throw new EcsRunnerValidationError('orgId', props.orgId, 'the orchestrator organization id');
  }
  checkShapes(props);
  checkIdentity(props, stack);
  checkNetwork(props);
  checkSameEnvironment(stack, props);
  checkJob(props, stack);
  checkState(props, stack);
  checkRoles(props, stack);
  checkRegistration(props, stack);
}

/** Every prop's type first, so a caller without a compiler gets this error, not a TypeError below. */
function checkShapes(props: EcsRunnerProps): void {
  v.checkShapes(props as unknown as Record<string, unknown>, kinds.PROP_KINDS);
  checkChoice('network', props.network, NETWORK_CHOICES);
  checkChoice('encryption', props.encryption, ENCRYPTION_CHOICES);
  checkFactoryArguments(props);
  shape(props.network?.createOptions, kinds.CREATE_VPC_KINDS, 'network.');
  shape(props.state, kinds.STATE_KINDS, 'state.');
  checkChoice('state.bucket', props.state?.bucket, BUCKET_CHOICES);
  const created = props.state?.bucket?.createOptions;
  shape(created, kinds.CREATE_BUCKET_KINDS, 'state.bucket.');
  checkChoice('state.bucket.accessLogs', created?.accessLogs, ACCESS_LOGS_CHOICES);
  shape(created?.replication, kinds.REPLICATION_KINDS, 'state.bucket.replication.');
  if (props.registration !== undefined) {
    shape(props.registration, kinds.REGISTRATION_KINDS, 'registration.');
    if (props.registration.apiTokenSecret === undefined) {
      throw new EcsRunnerValidationError(
        'registration.apiTokenSecret',
        undefined,
        'a Secrets Manager secret with the orchestrator API token',
      );
    }
  }
}

/**
 * What was given to a factory method, named as the user wrote the call (e.g.
 * `network: RunnerNetwork.fromSubnetIds(subnetIds)`), not by the factory's field.
 */
function checkFactoryArguments(props: EcsRunnerProps): void {
  /** A required argument: the library's error when it is missing or of the wrong kind. */
  const argument = (property: string, value: unknown, kind: v.PropKind) => {
    if (value === undefined || value === null)
      throw new EcsRunnerValidationError(property, value, v.describeKind(kind));
    v.checkShapes({ [property]: value }, { [property]: kind });
  };
  const optional = (property: string, value: unknown, kind: v.PropKind) => {
    if (value !== undefined) argument(property, value, kind);
  };
  const { vpc, subnets, subnetIds } = kinds.NETWORK_KINDS;
  const network = props.network;
  switch (network?.kind) {
    case 'CREATE_VPC':
      optional('network: RunnerNetwork.createVpc(options)', network.createOptions, kinds.CREATE_VPC_OPTIONS);
      break;
    case 'FROM_VPC':
      argument('network: RunnerNetwork.fromVpc(vpc)', network.vpc, vpc);
      break;
    case 'FROM_SUBNETS':
      argument('network: RunnerNetwork.fromSubnets(subnets)', network.subnets, subnets);
      optional('network: RunnerNetwork.fromSubnets(subnets, { vpc })', network.vpc, vpc);
      break;
    case 'FROM_SUBNET_IDS':
      argument('network: RunnerNetwork.fromSubnetIds(subnetIds)', network.subnetIds, subnetIds);
      optional('network: RunnerNetwork.fromSubnetIds(subnetIds, { vpc })', network.vpc, vpc);
      break;
  }
  if (props.encryption?.kind === 'FROM_KEY') {
    argument('encryption: RunnerEncryption.fromKey(key)', props.encryption.key, kinds.KEY);
  }
  const bucket = props.state?.bucket;
  if (bucket?.kind === 'FROM_BUCKET')
    argument('state.bucket: StateBucket.fromBucket(bucket)', bucket.bucket, kinds.BUCKET);
  if (bucket?.kind === 'CREATE') {
    optional('state.bucket: StateBucket.create(options)', bucket.createOptions, kinds.CREATE_BUCKET_OPTIONS);
  }
  const accessLogs = bucket?.createOptions?.accessLogs;
  if (accessLogs?.kind === 'TO_BUCKET') {
    argument('state.bucket.accessLogs: StateAccessLogs.toBucket(bucket)', accessLogs.bucket, kinds.BUCKET);
  }
}

/** A factory class's value (a plain JavaScript caller may write one by hand) must be one of its choices. */
function checkChoice(property: string, value: { readonly kind: string } | undefined, choices: string[]): void {
  if (value !== undefined && !choices.includes(value.kind)) {
    throw new EcsRunnerValidationError(`${property}.kind`, value.kind, `one of ${choices.join(', ')}`);
  }
}

function checkIdentity(props: EcsRunnerProps, stack: Stack): void {
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
}

function checkNetwork(props: EcsRunnerProps): void {
  const network = props.network;
  const created = network?.kind === 'CREATE_VPC' ? (network.createOptions ?? {}) : undefined;
  if (created?.natGateways !== undefined && Token.isUnresolved(created.natGateways)) {
    // The number of NAT gateways decides the VPC's resources at synth: a token would make none.
    throw new EcsRunnerValidationError('network.natGateways', 'a token', 'a number known at synth, 1 or 2');
  }
  v.checkIntegerRange('network.natGateways', created?.natGateways, 1, 2);
  v.checkLogRetention('network.flowLogRetention', created?.flowLogRetention);
  if (network?.kind === 'FROM_SUBNETS') v.checkCount('network.subnets', network.subnets, 1, 16);
  if (network?.kind === 'FROM_SUBNET_IDS') {
    v.checkCount('network.subnetIds', network.subnetIds, 1, 16);
    // A list token (a List<AWS::EC2::Subnet::Id> parameter, Fn.split, Lazy.list) is one encoded
    // element: Token.isUnresolved of the list detects it, of its element does not.
    for (const [i, subnetId] of (v.unresolved(network.subnetIds) ? [] : network.subnetIds!).entries()) {
      v.checkPattern(
        `network.subnetIds[${i}]`,
        subnetId,
        v.SUBNET_ID_PATTERN,
        'a subnet id such as "subnet-0123456789abcdef0"',
      );
    }
  }
  // `subnets` are not pattern-checked: their ids come from CDK, and `ec2.Vpc.fromLookup` gives
  // placeholder ids ("p-12345") until the CLI has looked the VPC up, so a check would fail the
  // synth that the lookup needs.
  if (network?.vpc !== undefined) {
    checkSubnetsInVpc({ vpc: network.vpc, subnets: network.subnets, subnetIds: network.subnetIds }, 'network.');
  }
  if (network?.kind === 'FROM_VPC') checkVpcHasJobSubnets(network.vpc!);
  checkSecurityGroups(props);
  if (props.cluster !== undefined && props.containerInsights !== undefined) {
    throw new EcsRunnerValidationError(
      'containerInsights',
      props.containerInsights,
      'no containerInsights with an existing cluster (configure the cluster itself)',
    );
  }
  v.checkOneOf('containerInsights', props.containerInsights, Object.values(ContainerInsightsMode));
}

function checkSecurityGroups(props: EcsRunnerProps): void {
  const idList = v.unresolved(props.securityGroupIds);
  if (idList && (props.securityGroups ?? []).length > 0) {
    throw new EcsRunnerValidationError(
      'securityGroups',
      props.securityGroups!.map((sg) => sg.securityGroupId),
      'no securityGroups when securityGroupIds is a list token (a list known only at deploy time cannot be extended): put all ids in the list',
    );
  }
  const count = (props.securityGroups?.length ?? 0) + (props.securityGroupIds?.length ?? 0);
  if (count > 5 && !idList) {
    throw new EcsRunnerValidationError(
      'securityGroups and securityGroupIds',
      [...(props.securityGroups ?? []), ...(props.securityGroupIds ?? [])],
      'at most 5 security groups in all',
    );
  }
  const ids: [string, string | undefined][] = [
    ...(idList ? [] : (props.securityGroupIds ?? [])).map((id, i): [string, string] => [`securityGroupIds[${i}]`, id]),
    ...(props.securityGroups ?? []).map((sg, i): [string, string] => [
      `securityGroups[${i}].securityGroupId`,
      sg.securityGroupId,
    ]),
  ];
  for (const [property, id] of ids) {
    v.checkPattern(property, id, v.SECURITY_GROUP_ID_PATTERN, 'a security group id such as "sg-0123456789abcdef0"');
  }
}

/**
 * `RunnerNetwork.fromVpc(vpc)` runs the jobs in the VPC's private subnets with
 * egress: a VPC without them is the library's error, not CDK's "There are no 'Private' subnet groups".
 */
function checkVpcHasJobSubnets(vpc: ec2.IVpc): void {
  let selected: string[];
  try {
    selected = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
  } catch {
    selected = [];
  }
  if (selected.length === 0) {
    throw new EcsRunnerValidationError(
      'network',
      Token.isUnresolved(vpc.vpcId) ? vpc.node.path : vpc.vpcId,
      'a VPC with private subnets with egress (SubnetType.PRIVATE_WITH_EGRESS) for the jobs, or RunnerNetwork.fromSubnets(subnets, { vpc }) (or fromSubnetIds) to choose the subnets the jobs run in',
    );
  }
  v.checkCount('subnets selected from network.vpc', selected, 1, 16);
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

function checkJob(props: EcsRunnerProps, stack: Stack): void {
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

function checkState(props: EcsRunnerProps, stack: Stack): void {
  v.checkStatePathPrefix('state.pathPrefix', props.state?.pathPrefix);
  v.checkLength('state.pathPrefix', props.state?.pathPrefix, 1, 512);
  const bucket: StateBucket | undefined = props.state?.bucket;
  if (bucket?.kind === 'FROM_BUCKET') {
    const name = bucket.bucket!.bucketName;
    v.checkPattern(
      'state.bucket.bucketName',
      name,
      v.BUCKET_PATTERN,
      'a bucket name the API accepts: ^[a-z0-9][a-z0-9-]*[a-z0-9]$ (no dots)',
    );
    v.checkLength('state.bucket.bucketName', name, 3, 63);
    return;
  }
  const options = bucket?.createOptions ?? {};
  if (options.restrictAccess === true && options.destroyOnRemoval === true) {
    throw new EcsRunnerValidationError(
      'state.bucket.restrictAccess',
      true,
      'false with destroyOnRemoval: the function that empties the bucket on deletion could not delete the state',
    );
  }
  if (options.administrators !== undefined && options.restrictAccess !== true) {
    throw new EcsRunnerValidationError(
      'state.bucket.administrators',
      options.administrators.map((r) => r.roleArn),
      'no administrators unless restrictAccess is true (without it, IAM policies decide who may read the state)',
    );
  }
  const days = 'state.bucket.';
  v.checkIntegerRange(`${days}noncurrentVersionTransitionDays`, options.noncurrentVersionTransitionDays, 30, 36500);
  v.checkIntegerRange(`${days}noncurrentVersionExpirationDays`, options.noncurrentVersionExpirationDays, 1, 36500);
  v.checkIntegerRange(
    `${days}abortIncompleteMultipartUploadDays`,
    options.abortIncompleteMultipartUploadDays,
    1,
    36500,
  );
  const transition = options.noncurrentVersionTransitionDays ?? DEFAULT_TRANSITION_DAYS;
  const expiration = options.noncurrentVersionExpirationDays ?? DEFAULT_EXPIRATION_DAYS;
  if (!Token.isUnresolved(transition) && !Token.isUnresolved(expiration) && expiration <= transition) {
    throw new EcsRunnerValidationError(
      `${days}noncurrentVersionExpirationDays`,
      expiration,
      `more days than noncurrentVersionTransitionDays (${transition})`,
    );
  }
  const accessLogs = options.accessLogs;
  v.checkIntegerRange(`${days}accessLogs.retentionDays`, accessLogs?.retentionDays, 1, 36500);
  if ((accessLogs?.kind ?? 'STACK_BUCKET') === 'STACK_BUCKET') {
    RunnerAccessLogsBucket.checkRetention(stack, accessLogs?.retentionDays);
  }
  if (accessLogs?.bucket?.encryptionKey !== undefined) {
    throw new EcsRunnerValidationError(
      `${days}accessLogs`,
      accessLogs.bucket.node?.path ?? accessLogs.bucket.bucketName,
      'a bucket encrypted with SSE-S3: S3 server access logs are not delivered to an SSE-KMS bucket (this one has an encryptionKey)',
    );
  }
  if (
    options.replication !== undefined &&
    options.replication.destinationEncryptionKey === undefined &&
    (props.encryption?.kind ?? 'S3_MANAGED') !== 'S3_MANAGED'
  ) {
    throw new EcsRunnerValidationError(
      `${days}replication.destinationEncryptionKey`,
      undefined,
      "a KMS key of the destination bucket's region when the state is KMS-encrypted (RunnerEncryption.createKey() or .fromKey()): S3 replicates SSE-KMS objects only with a replica key, and CloudFormation refuses the rule without one",
    );
  }
}

function checkRoles(props: EcsRunnerProps, stack: Stack): void {
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
  for (const [i, statement] of (props.taskRoleStatements ?? []).entries()) {
    // CDK refuses these at synth with its own error (no resource, or a principal).
    const problems = statement.validateForIdentityPolicy();
    if (problems.length > 0) {
      throw new EcsRunnerValidationError(
        `taskRoleStatements[${i}]`,
        stack.resolve(statement.toStatementJson()),
        `a statement an identity policy may hold: ${problems.join('; ')}`,
      );
    }
  }
  // The role's ManagedPolicyArns must be unique: compared as they will be deployed, with the
  // pseudo parameters known at synth filled in.
  const seen = new Map<string, number>();
  for (const [i, policy] of (props.taskRoleManagedPolicies ?? []).entries()) {
    const arn = JSON.stringify(readable(stack.resolve(policy.managedPolicyArn), pseudoParameters(stack)));
    const first = seen.get(arn);
    if (first !== undefined) {
      throw new EcsRunnerValidationError(
        `taskRoleManagedPolicies[${i}]`,
        JSON.parse(arn),
        `a managed policy not already given (taskRoleManagedPolicies[${first}] is the same policy): CloudFormation refuses a role with one policy twice`,
      );
    }
    seen.set(arn, i);
  }
  v.checkRolePath('rolePath', props.rolePath);
  v.checkTags('tags', props.tags);
}

function checkRegistration(props: EcsRunnerProps, stack: Stack): void {
  if (props.registration === undefined) return;
  // Named as the user wrote them (RunnerRegistration calls them removalPolicy and rules).
  checkRemovalPolicy('registration.removalPolicy', props.registration.removalPolicy);
  checkRunnerRules('registration.rules', props.registration.rules);
  checkSharedRegistrationProvider(stack, props.permissionsBoundary, props.rolePath);
}

/** Defaults of `StateBucket.create`'s lifecycle (the resolution applies the same ones). */
export const DEFAULT_TRANSITION_DAYS = 30;
export const DEFAULT_EXPIRATION_DAYS = 90;
