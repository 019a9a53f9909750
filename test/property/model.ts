/**
 * The property test's description of one configuration: plain data, so fast-check prints a
 * counterexample as something to read and replay, and so the one adapter (`to-props.ts`) is the
 * only code that knows the shape of `EcsRunnerProps`.
 *
 * The runner's values are grouped the way the nested props (NEW-API.md) group them: `network`,
 * `encryption`, `state` (with `bucket` and its `accessLogs`), `registration`; `top` holds the props
 * that stay top-level. Combinations the flat props could express and the nested ones cannot
 * (e.g. `natGateways` next to `subnetIds`) are gone with the flat props.
 */

/**
 * A value of a prop or option, as data. The adapter materializes it. A value may carry
 * `bad: true`: the hostile profile made it malformed or wrongly typed on purpose (it is only read
 * by the generators and shown in counterexamples).
 */
export type Val =
  /** A plain value: well-formed, malformed, or of a wrong JavaScript type (null, '1024', {}, ...). */
  (
    | { readonly lit: unknown }
    /**
     * A CDK token whose value at deploy time is `of` (always a well-formed value: a token passes
     * unchecked, so what it resolves to is the caller's responsibility). Its type follows `of`: a
     * string, number or list token; `lazyAny` is `Lazy.any` (an IResolvable, of no prop's type).
     */
    | { readonly tok: TokenKind; readonly of: unknown }
    /** A list whose elements are values (literals, tokens, resources). */
    | { readonly list: readonly Val[] }
    /** An object whose values are values; its keys are literal (`constructor`, `__proto__` included). */
    | { readonly record: ReadonlyArray<readonly [string, Val]> }
    /** A construct (or a construct-like object the library reads): created, shared or imported. */
    | { readonly res: Res }
  ) & { readonly bad?: true };

/**
 * - `param`: a `CfnParameter` (String, Number, CommaDelimitedList or List<AWS::EC2::...::Id>) with
 *   `of` as its default;
 * - `fn`: an intrinsic over a parameter (`Fn.select(0, Fn.split(...))` for a string or number,
 *   `Fn.split` for a list);
 * - `lazy`: `Lazy.string`, `Lazy.number` or `Lazy.list`;
 * - `lazyAny`: `Lazy.any`.
 */
export type TokenKind = 'param' | 'fn' | 'lazy' | 'lazyAny';

/** The JavaScript kinds of props (src/ecs-runner.ts PROP_KINDS), which decide their wrongly typed values. */
export type Kind =
  'string' | 'boolean' | 'number' | 'string[]' | 'record<string>' | 'record<object>' | 'construct' | 'constructs';

/** Where an imported resource lives, relative to the runner's stack. */
export type Where =
  /** The stack's account, region and partition, as literals (sample ones for an env-agnostic stack). */
  | 'here'
  /** The stack's, as tokens (`Aws.ACCOUNT_ID`, `Aws.REGION`, `Aws.PARTITION`). */
  | 'pseudo'
  | 'otherAccount'
  | 'otherRegion'
  | 'otherPartition';

/** A construct the adapter creates or imports. `shared` ones exist once per stack (two runners share them). */
export type Res =
  | { readonly kind: 'vpc'; readonly how: 'shared' | 'new' | 'publicOnly' | 'isolatedOnly' | 'fromAttributes' }
  | {
      readonly kind: 'subnet';
      readonly how: 'sharedPrivate' | 'sharedPublic' | 'fromId' | 'fromAttributes';
      readonly index: number;
    }
  | { readonly kind: 'securityGroup'; readonly how: 'shared' | 'new' | 'fromId'; readonly where: Where }
  | { readonly kind: 'cluster'; readonly how: 'shared' | 'new' | 'fromArn' | 'fromAttributes'; readonly where: Where }
  | { readonly kind: 'key'; readonly how: 'shared' | 'new' | 'fromArn' | 'alias'; readonly where: Where }
  | {
      readonly kind: 'bucket';
      readonly how: 'shared' | 'new' | 'newKms' | 'fromName' | 'fromArn' | 'fromAttributes';
      readonly where: Where;
      /** The bucket name of imported buckets (a literal or a token). */
      readonly name?: Val;
    }
  | {
      /** An `ecs.Secret` of a job. */
      readonly kind: 'jobSecret';
      readonly how: 'completeArn' | 'nameV2' | 'new' | 'ssm' | 'ssmNew' | 'field';
      readonly where: Where;
    }
  | { readonly kind: 'tokenSecret'; readonly how: 'completeArn' | 'nameV2' | 'new'; readonly where: Where }
  | { readonly kind: 'role'; readonly how: 'new' | 'fromArn'; readonly where: Where }
  | { readonly kind: 'managedPolicy'; readonly how: 'aws' | 'new' | 'fromArn'; readonly where: Where }
  | {
      readonly kind: 'statement';
      readonly how: 'bucketRead' | 'wildcard' | 'deny' | 'condition' | 'noResource' | 'principal';
    }
  | {
      readonly kind: 'orchestrator';
      readonly how: 'humanitec' | 'stellwerk' | 'custom';
      readonly oidcIssuer?: Val;
      readonly apiUrl?: Val;
      readonly taskDefinitionFamilyPrefix?: Val;
    }
  | { readonly kind: 'topic'; readonly how: 'new' | 'fromArn'; readonly where: Where }
  | {
      /** An OIDC provider ARN (a string) for the runner's orchestrator's issuer or another one. */
      readonly kind: 'oidcProviderArn';
      readonly where: Where;
      readonly issuer: 'orchestrator' | 'other';
    }
  | { readonly kind: 'storageClass'; readonly name: 'INFREQUENT_ACCESS' | 'GLACIER' | 'INTELLIGENT_TIERING' }
  | { readonly kind: 'removalPolicy'; readonly name: 'DESTROY' | 'RETAIN' | 'SNAPSHOT' | 'RETAIN_ON_UPDATE_OR_DELETE' }
  | {
      /** A `StateReplication` (a plain object of constructs). */
      readonly kind: 'replication';
      readonly destinationBucket: Val;
      readonly destinationEncryptionKey?: Val;
      readonly storageClass?: Val;
    };

/** The runner's network (NEW-API: `network: RunnerNetwork`). */
export type NetworkSpec =
  | { readonly mode: 'default' }
  | { readonly mode: 'createVpc'; readonly natGateways?: Val; readonly flowLogRetention?: Val }
  | { readonly mode: 'fromVpc'; readonly vpc: Val; readonly subnets?: Val }
  | { readonly mode: 'fromSubnets'; readonly subnets: Val }
  | { readonly mode: 'fromSubnetIds'; readonly subnetIds: Val };

/** NEW-API: `encryption: RunnerEncryption`. */
export type EncryptionSpec =
  { readonly mode: 's3Managed' } | { readonly mode: 'createKey' } | { readonly mode: 'fromKey'; readonly key: Val };

/** NEW-API: `StateAccessLogs`. */
export type AccessLogsSpec =
  | { readonly mode: 'stackBucket'; readonly retentionDays?: Val }
  | { readonly mode: 'toBucket'; readonly bucket: Val }
  | { readonly mode: 'disabled' };

/** NEW-API: `StateBucket.create({...})` or `StateBucket.fromBucket(bucket)`. */
export type StateBucketSpec =
  | {
      readonly mode: 'create';
      readonly destroyOnRemoval?: Val;
      readonly restrictAccess?: Val;
      readonly administrators?: Val;
      readonly noncurrentVersionTransitionDays?: Val;
      readonly noncurrentVersionExpirationDays?: Val;
      readonly abortIncompleteMultipartUploadDays?: Val;
      readonly accessLogs: AccessLogsSpec;
      readonly replication?: Val;
    }
  | { readonly mode: 'fromBucket'; readonly bucket: Val };

/** NEW-API: `state: StateOptions`. */
export interface StateSpec {
  readonly pathPrefix?: Val;
  readonly bucket: StateBucketSpec;
}

/** NEW-API: `registration: RegistrationOptions`. */
export interface RegistrationSpec {
  readonly apiTokenSecret: Val;
  readonly adoptExisting?: Val;
  readonly removalPolicy?: Val;
  readonly rules?: Val;
}

/** The props that stay top-level in NEW-API. */
export const TOP_PROPS = [
  'orgId',
  'runnerId',
  'runnerIdPrefix',
  'description',
  'orchestrator',
  'oidcProviderArn',
  'securityGroups',
  'securityGroupIds',
  'assignPublicIp',
  'cluster',
  'containerInsights',
  'environment',
  'secrets',
  'secretsEncryptionKeys',
  'image',
  'sessionName',
  'maxTaskCpu',
  'maxTaskMemoryMiB',
  'stsRegion',
  'taskRoleStatements',
  'taskRoleManagedPolicies',
  'assumableRoleArns',
  'permissionsBoundary',
  'rolePath',
  'tags',
  'requiredTagKeys',
] as const;
export type TopProp = (typeof TOP_PROPS)[number];

/** The options of `addMonitoring`. */
export const MONITORING_OPTIONS = [
  'topic',
  'encryptionKey',
  'alarmEmails',
  'stateBucketSizeThresholdBytes',
  'failedJobsThreshold',
  'dashboard',
  'dashboardName',
  'eventsLogRetention',
] as const;
export type MonitoringOption = (typeof MONITORING_OPTIONS)[number];

/** One `addMonitoring(options)` call: options as values, or the whole argument as one (null, 'x'). */
export type MonitoringCall = { readonly options: Partial<Record<MonitoringOption, Val>> } | { readonly argument: Val };

export interface RunnerSpec {
  readonly top: Partial<Record<TopProp, Val>>;
  readonly network: NetworkSpec;
  readonly encryption: EncryptionSpec;
  readonly state: StateSpec;
  readonly registration?: RegistrationSpec;
  readonly monitoring: readonly MonitoringCall[];
}

/** The stack's environment. */
export type EnvSpec =
  | { readonly kind: 'concrete'; readonly account: string; readonly region: string }
  | { readonly kind: 'agnostic' }
  | { readonly kind: 'accountOnly'; readonly account: string }
  | { readonly kind: 'regionOnly'; readonly region: string };

/** Where the runners' stack is: an app's stack, a stage's stack, or a nested stack of an app's stack. */
export type Container = 'app' | 'stage' | 'nested';

export interface Configuration {
  readonly env: EnvSpec;
  readonly container: Container;
  /** One or two runners, in one stack; `shared` resources are the same construct for both. */
  readonly runners: readonly RunnerSpec[];
}
