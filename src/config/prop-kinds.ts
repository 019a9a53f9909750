import type { EcsRunnerProps } from '../ecs-runner-props';
import type { RegistrationOptions } from '../registration/runner-registration';
import type { CreateRunnerVpcOptions } from '../networking/runner-network';
import type { CreateStateBucketOptions, StateOptions } from '../state/state-bucket';
import type { StateReplication } from '../state/runner-state';
import * as v from '../validation';

/** Construct-typed props are recognised by the members the runner reads of them. */
const construct = (what: string, ...has: string[]): v.PropKind => ({ construct: what, has });
const constructs = (what: string, ...has: string[]): v.PropKind => ({ constructs: what, has });
const BUCKET = construct('an s3.IBucket', 'bucketName', 'bucketArn');
const KEY = construct('a kms.IKey', 'keyArn');

/**
 * The kind of every prop of {@link EcsRunnerProps}, for {@link v.checkShapes}: typed over every
 * prop, so the compiler asks for an entry for each new one. Options objects have their own tables.
 */
export const PROP_KINDS: Record<keyof EcsRunnerProps, v.PropKind> = {
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
  network: construct(
    'a RunnerNetwork (RunnerNetwork.createVpc(), .fromVpc(vpc), .fromSubnets(subnets) or .fromSubnetIds(ids))',
    'kind',
  ),
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
  state: { object: 'StateOptions ({ bucket?, pathPrefix? })' },
  encryption: construct('a RunnerEncryption (RunnerEncryption.s3Managed(), .createKey() or .fromKey(key))', 'kind'),
  taskRoleStatements: constructs('iam.PolicyStatement', 'toStatementJson'),
  taskRoleManagedPolicies: constructs('iam.IManagedPolicy', 'managedPolicyArn'),
  assumableRoleArns: 'string[]',
  permissionsBoundary: construct('an iam.IManagedPolicy', 'managedPolicyArn'),
  rolePath: 'string',
  tags: 'record<string>',
  registration: { object: 'RegistrationOptions ({ apiTokenSecret, adoptExisting?, removalPolicy?, rules? })' },
  requiredTagKeys: 'string[]',
};

/** The arguments of `RunnerNetwork`'s factory methods. */
export const NETWORK_KINDS = {
  vpc: construct('an ec2.IVpc', 'vpcId', 'selectSubnets'),
  subnets: constructs('ec2.ISubnet', 'subnetId'),
  subnetIds: 'string[]',
} satisfies Record<string, v.PropKind>;

export const CREATE_VPC_OPTIONS: v.PropKind = {
  object: 'CreateRunnerVpcOptions ({ natGateways?, flowLogRetention? })',
};

export const CREATE_VPC_KINDS: Record<keyof CreateRunnerVpcOptions, v.PropKind> = {
  natGateways: 'number',
  flowLogRetention: 'number',
};

export const STATE_KINDS: Record<keyof StateOptions, v.PropKind> = {
  bucket: construct('a StateBucket (StateBucket.create({...}) or StateBucket.fromBucket(bucket))', 'kind'),
  pathPrefix: 'string',
};

export const CREATE_BUCKET_OPTIONS: v.PropKind = {
  object: 'CreateStateBucketOptions ({ destroyOnRemoval?, restrictAccess?, ... })',
};

export const CREATE_BUCKET_KINDS: Record<keyof CreateStateBucketOptions, v.PropKind> = {
  destroyOnRemoval: 'boolean',
  restrictAccess: 'boolean',
  administrators: constructs('iam.IRole', 'roleArn'),
  noncurrentVersionTransitionDays: 'number',
  noncurrentVersionExpirationDays: 'number',
  abortIncompleteMultipartUploadDays: 'number',
  accessLogs: construct('a StateAccessLogs (StateAccessLogs.stackBucket(), .toBucket(bucket) or .disabled())', 'kind'),
  replication: { object: 'StateReplication ({ destinationBucket, destinationEncryptionKey?, storageClass? })' },
};

export const REPLICATION_KINDS: Record<keyof StateReplication, v.PropKind> = {
  destinationBucket: BUCKET,
  destinationEncryptionKey: KEY,
  storageClass: construct('an s3.StorageClass', 'value'),
};

export const REGISTRATION_KINDS: Record<keyof RegistrationOptions, v.PropKind> = {
  apiTokenSecret: construct('a secretsmanager.ISecret', 'secretArn'),
  adoptExisting: 'boolean',
  removalPolicy: 'string',
  rules: constructs('RunnerRuleProps'),
};

export { BUCKET, KEY };
