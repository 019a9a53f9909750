/**
 * The property test's one adapter: from a configuration's description (model.ts) to the props and
 * options the library takes. `toProps` is the only function that knows the shape of
 * `EcsRunnerProps`; `Materializer` turns values and resource descriptions into tokens and
 * constructs in the runner's stack.
 * `network`, `encryption`, `state` and `registration` become `RunnerNetwork`, `RunnerEncryption`,
 * `StateOptions` (with `StateBucket`, `StateAccessLogs`) and `RegistrationOptions`: the factory
 * classes take the materialized values as they are, wrong types included.
 */
import { Aws, CfnParameter, Fn, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import {
  CreateStateBucketOptions,
  EcsRunnerProps,
  Orchestrator,
  RunnerEncryption,
  RunnerMonitoringOptions,
  RunnerNetwork,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { Kind, MonitoringCall, Res, RunnerSpec, TokenKind, Val, Where } from './model';

/** Sample account and region of an env-agnostic stack (what `render` fills in for the pseudo parameters). */
export const SAMPLE_ACCOUNT = '123456789012';
export const SAMPLE_REGION = 'eu-central-1';
export const OTHER_ACCOUNT = '210987654321';

/** The props of `EcsRunnerProps` that group options: their leaves are listed one by one below. */
type Grouped = 'network' | 'encryption' | 'state' | 'registration';

/**
 * Every prop of `EcsRunnerProps`, and every option of its grouped props (as the error names them,
 * e.g. `state.bucket.restrictAccess`), with its JavaScript kind (as src/config/prop-kinds.ts has
 * it). The compiler keeps the top-level list complete; the test checks that the generators gave
 * each a well-formed value, a wrongly typed one and, where the kind takes one, a token.
 */
export const EVERY_PROP: Record<Exclude<keyof EcsRunnerProps, Grouped>, Kind> & Record<string, Kind> = {
  orgId: 'string',
  runnerId: 'string',
  runnerIdPrefix: 'string',
  description: 'string',
  orchestrator: 'construct',
  oidcProviderArn: 'string',
  securityGroups: 'constructs',
  securityGroupIds: 'string[]',
  assignPublicIp: 'boolean',
  cluster: 'construct',
  containerInsights: 'string',
  environment: 'record<string>',
  secrets: 'record<object>',
  secretsEncryptionKeys: 'constructs',
  image: 'string',
  sessionName: 'string',
  maxTaskCpu: 'number',
  maxTaskMemoryMiB: 'number',
  stsRegion: 'string',
  taskRoleStatements: 'constructs',
  taskRoleManagedPolicies: 'constructs',
  assumableRoleArns: 'string[]',
  permissionsBoundary: 'construct',
  rolePath: 'string',
  tags: 'record<string>',
  requiredTagKeys: 'string[]',
  'network.natGateways': 'number',
  'network.flowLogRetention': 'number',
  'network.vpc': 'construct',
  'network.subnets': 'constructs',
  'network.subnetIds': 'string[]',
  'encryption.key': 'construct',
  'state.pathPrefix': 'string',
  'state.bucket.bucket': 'construct',
  'state.bucket.destroyOnRemoval': 'boolean',
  'state.bucket.restrictAccess': 'boolean',
  'state.bucket.administrators': 'constructs',
  'state.bucket.noncurrentVersionTransitionDays': 'number',
  'state.bucket.noncurrentVersionExpirationDays': 'number',
  'state.bucket.abortIncompleteMultipartUploadDays': 'number',
  'state.bucket.accessLogs.retentionDays': 'number',
  'state.bucket.accessLogs.bucket': 'construct',
  'state.bucket.replication': 'construct',
  'registration.apiTokenSecret': 'construct',
  'registration.adoptExisting': 'boolean',
  'registration.removalPolicy': 'string',
  'registration.rules': 'constructs',
};

/** What the adapter needs: the value a description stands for, and a note of each prop's value. */
export interface Values {
  value(v: Val, name: string): unknown;
  cover(name: string, v: Val): void;
}

/**
 * Per prop, the kinds of values the descriptions gave it (and nothing materialized): `value`,
 * `bad` (malformed or wrongly typed), `token:param`, `token:fn`, `token:lazy`, `element token`,
 * `lazyAny`. Run through {@link toProps} in place of a {@link Materializer}.
 */
export class CoverageOf implements Values {
  public readonly kinds = new Map<string, Set<string>>();

  public value(): unknown {
    return undefined;
  }

  public cover(name: string, v: Val): void {
    const kinds = this.kinds.get(name) ?? new Set<string>();
    this.kinds.set(name, kinds);
    if (v.bad === true) kinds.add('bad');
    if ('tok' in v) kinds.add(v.tok === 'lazyAny' ? 'lazyAny' : `token:${v.tok}`);
    else if ('list' in v && v.list.some((item) => 'tok' in item && item.tok !== 'lazyAny')) kinds.add('element token');
    if (v.bad !== true && !('tok' in v)) kinds.add('value');
  }
}

/** The props of one runner, from its description; `m` creates what the values need. */
export function toProps(spec: RunnerSpec, m: Values): EcsRunnerProps {
  /** The materialized value of an option (noted under its name as the error names it), or undefined. */
  const value = (name: string, v: Val | undefined): any => {
    if (v === undefined) return undefined;
    m.cover(name, v);
    return m.value(v, name);
  };
  /** An options object without the options that were not given (as a user writes it). */
  const options = <T>(entries: Array<[string, unknown]>): T =>
    Object.freeze(Object.fromEntries(entries.filter(([, v]) => v !== undefined))) as T;

  const props: Record<string, unknown> = {};
  // The orchestrator first: an oidcProviderArn of "its" issuer needs it.
  props.orchestrator = value('orchestrator', spec.top.orchestrator);
  for (const [name, v] of Object.entries(spec.top)) {
    if (name !== 'orchestrator' && v !== undefined) props[name] = value(name, v);
  }
  if (props.orchestrator === undefined) delete props.orchestrator;

  const network = spec.network;
  switch (network.mode) {
    case 'default':
      break;
    case 'createVpc':
      props.network = RunnerNetwork.createVpc(
        options([
          ['natGateways', value('network.natGateways', network.natGateways)],
          ['flowLogRetention', value('network.flowLogRetention', network.flowLogRetention)],
        ]),
      );
      break;
    case 'fromVpc': {
      const vpc = value('network.vpc', network.vpc);
      const subnets = value('network.subnets', network.subnets);
      // The flat `vpc` with `subnets` is fromSubnets with the VPC; the VPC alone selects its own.
      props.network = subnets === undefined ? RunnerNetwork.fromVpc(vpc) : RunnerNetwork.fromSubnets(subnets, { vpc });
      break;
    }
    case 'fromSubnets':
      props.network = RunnerNetwork.fromSubnets(value('network.subnets', network.subnets));
      break;
    case 'fromSubnetIds':
      props.network = RunnerNetwork.fromSubnetIds(value('network.subnetIds', network.subnetIds));
      break;
  }

  const encryption = spec.encryption;
  if (encryption.mode === 'createKey') props.encryption = RunnerEncryption.createKey();
  if (encryption.mode === 'fromKey')
    props.encryption = RunnerEncryption.fromKey(value('encryption.key', encryption.key));

  const bucket = spec.state.bucket;
  let stateBucket: StateBucket | undefined;
  if (bucket.mode === 'fromBucket') {
    stateBucket = StateBucket.fromBucket(value('state.bucket.bucket', bucket.bucket));
  } else {
    const logs = bucket.accessLogs;
    const accessLogs =
      logs.mode === 'stackBucket'
        ? logs.retentionDays === undefined
          ? undefined
          : StateAccessLogs.stackBucket({
              retentionDays: value('state.bucket.accessLogs.retentionDays', logs.retentionDays),
            })
        : logs.mode === 'toBucket'
          ? StateAccessLogs.toBucket(value('state.bucket.accessLogs.bucket', logs.bucket))
          : StateAccessLogs.disabled();
    const created = options<CreateStateBucketOptions>([
      ['destroyOnRemoval', value('state.bucket.destroyOnRemoval', bucket.destroyOnRemoval)],
      ['restrictAccess', value('state.bucket.restrictAccess', bucket.restrictAccess)],
      ['administrators', value('state.bucket.administrators', bucket.administrators)],
      [
        'noncurrentVersionTransitionDays',
        value('state.bucket.noncurrentVersionTransitionDays', bucket.noncurrentVersionTransitionDays),
      ],
      [
        'noncurrentVersionExpirationDays',
        value('state.bucket.noncurrentVersionExpirationDays', bucket.noncurrentVersionExpirationDays),
      ],
      [
        'abortIncompleteMultipartUploadDays',
        value('state.bucket.abortIncompleteMultipartUploadDays', bucket.abortIncompleteMultipartUploadDays),
      ],
      ['accessLogs', accessLogs],
      ['replication', value('state.bucket.replication', bucket.replication)],
    ]);
    stateBucket = Object.keys(created).length > 0 ? StateBucket.create(created) : undefined;
  }
  const pathPrefix = value('state.pathPrefix', spec.state.pathPrefix);
  if (stateBucket !== undefined || pathPrefix !== undefined) {
    props.state = options([
      ['bucket', stateBucket],
      ['pathPrefix', pathPrefix],
    ]);
  }

  const registration = spec.registration;
  if (registration !== undefined) {
    props.registration = options([
      ['apiTokenSecret', value('registration.apiTokenSecret', registration.apiTokenSecret)],
      ['adoptExisting', value('registration.adoptExisting', registration.adoptExisting)],
      ['removalPolicy', value('registration.removalPolicy', registration.removalPolicy)],
      ['rules', value('registration.rules', registration.rules)],
    ]);
  }
  return Object.freeze(props) as unknown as EcsRunnerProps;
}

/** The argument of one `addMonitoring` call. */
export function monitoringArgument(call: MonitoringCall, m: Values): RunnerMonitoringOptions {
  if ('argument' in call) return m.value(call.argument, 'addMonitoring') as RunnerMonitoringOptions;
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(call.options)) options[name] = m.value(value, name);
  return Object.freeze(options) as RunnerMonitoringOptions;
}

/**
 * Creates the tokens and constructs values stand for, in the runner's stack `scope` (the outer
 * stack, or a nested stack of it). Shared resources live in the outer stack, once per app: two
 * runners that use one share it, and a runner in a nested stack references it across the nesting.
 */
export class Materializer implements Values {
  private counter = 0;
  private readonly shared = new Map<string, IConstruct>();
  /** The last orchestrator materialized (oidcProviderArn's issuer). */
  private orchestrator?: Orchestrator;

  constructor(
    /** The stack the runners are in. */
    public scope: Stack,
    /** The app's (or stage's) stack: shared resources. */
    public readonly outer: Stack,
  ) {}

  /** The materializer records nothing (see {@link CoverageOf}). */
  public cover(): void {}

  /** Starts the next runner (its own orchestrator). */
  public nextRunner(scope: Stack): void {
    this.scope = scope;
    this.orchestrator = undefined;
  }

  /** The step (a runner, an addMonitoring call) the values materialized next belong to. */
  public step = '';
  /** Every parameter a token made, with its step and the prop it stands for. */
  public readonly parameters: Array<{
    readonly parameter: CfnParameter;
    readonly step: string;
    readonly prop: string;
  }> = [];

  /** The JavaScript value of `v`; `name` names parameters (readability only). */
  public value(v: Val, name: string): unknown {
    if ('lit' in v) return freezePlain(v.lit);
    if ('tok' in v) return this.token(v.tok, v.of, name);
    if ('list' in v) return Object.freeze(v.list.map((item) => this.value(item, name)));
    if ('record' in v) {
      // Own properties for every key, `__proto__` included (a literal or assignment would not).
      const out: Record<string, unknown> = {};
      for (const [key, item] of v.record) {
        Object.defineProperty(out, key, { value: this.value(item, `${name}.${key}`), enumerable: true });
      }
      return Object.freeze(out);
    }
    return this.resource(v.res);
  }

  private id(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  private parameter(name: string, props: { type?: string; default: string | number }): CfnParameter {
    const parameter = new CfnParameter(this.scope, this.id(`P${name.replace(/[^A-Za-z0-9]/g, '')}`), props);
    this.parameters.push({ parameter, step: this.step, prop: name });
    return parameter;
  }

  private token(kind: TokenKind, of: unknown, name: string): unknown {
    if (kind === 'lazyAny') return Lazy.any({ produce: () => of });
    if (Array.isArray(of)) {
      const list = of as string[];
      if (kind === 'param') return this.parameter(name, { type: listType(list), default: list.join(',') }).valueAsList;
      if (kind === 'fn') return Fn.split(',', this.parameter(name, { default: list.join(',') }).valueAsString);
      return Lazy.list({ produce: () => list });
    }
    if (typeof of === 'number') {
      if (kind === 'param') return this.parameter(name, { type: 'Number', default: of }).valueAsNumber;
      if (kind === 'fn') {
        return Token.asNumber(Fn.select(0, Fn.split(',', this.parameter(name, { default: `${of},0` }).valueAsString)));
      }
      return Lazy.number({ produce: () => of });
    }
    if (typeof of !== 'string') throw new Error(`harness: a ${kind} token of ${typeof of}`);
    if (kind === 'param') return this.parameter(name, { default: of }).valueAsString;
    if (kind === 'fn') return Fn.select(0, Fn.split('|', this.parameter(name, { default: `${of}|x` }).valueAsString));
    return Lazy.string({ produce: () => of });
  }

  /** Account, region and partition of `where`, as the strings an ARN takes. */
  private env(where: Where): { account: string; region: string; partition: string } {
    const stack = this.scope;
    const account = Token.isUnresolved(stack.account) ? SAMPLE_ACCOUNT : stack.account;
    const region = Token.isUnresolved(stack.region) ? SAMPLE_REGION : stack.region;
    switch (where) {
      case 'here':
        return { account, region, partition: 'aws' };
      case 'pseudo':
        return { account: Aws.ACCOUNT_ID, region: Aws.REGION, partition: Aws.PARTITION };
      case 'otherAccount':
        return { account: OTHER_ACCOUNT, region, partition: 'aws' };
      case 'otherRegion':
        return { account, region: region === 'us-west-2' ? 'eu-west-1' : 'us-west-2', partition: 'aws' };
      case 'otherPartition':
        return { account, region: 'cn-north-1', partition: 'aws-cn' };
    }
  }

  private arn(where: Where, service: string, resource: string, regional = true): string {
    const { account, region, partition } = this.env(where);
    return `arn:${partition}:${service}:${regional ? region : ''}:${service === 's3' ? '' : account}:${resource}`;
  }

  /** The outer stack's one construct of `key`, created by `create` the first time. */
  private sharedOf<T extends IConstruct>(key: string, create: (stack: Stack, id: string) => T): T {
    let existing = this.shared.get(key);
    if (existing === undefined) {
      existing = create(this.outer, `Shared${key}`);
      this.shared.set(key, existing);
    }
    return existing as T;
  }

  private sharedVpc(): ec2.Vpc {
    return this.sharedOf('Vpc', (s, id) => new ec2.Vpc(s, id, { maxAzs: 2, natGateways: 1 }));
  }

  private resource(r: Res): unknown {
    switch (r.kind) {
      case 'vpc':
        return this.vpc(r.how);
      case 'subnet':
        return this.subnet(r.how, r.index);
      case 'securityGroup':
        return this.securityGroup(r.how);
      case 'cluster':
        return this.cluster(r.how, r.where);
      case 'key':
        return this.key(r.how, r.where);
      case 'bucket':
        return this.bucket(r.how, r.where, r.name);
      case 'jobSecret':
        return this.jobSecret(r.how, r.where);
      case 'tokenSecret':
        return this.secret(r.how, r.where, 'po/token');
      case 'role':
        return r.how === 'new'
          ? new iam.Role(this.scope, this.id('Role'), { assumedBy: new iam.AccountRootPrincipal() })
          : iam.Role.fromRoleArn(this.scope, this.id('Role'), this.arn(r.where, 'iam', 'role/admin', false), {
              mutable: false,
            });
      case 'managedPolicy':
        return this.managedPolicy(r.how, r.where);
      case 'statement':
        return statement(r.how);
      case 'orchestrator':
        return this.newOrchestrator(r);
      case 'oidcProviderArn': {
        const issuer =
          r.issuer === 'orchestrator'
            ? (this.orchestrator ?? Orchestrator.humanitec()).oidcIssuer
            : 'other.example.com';
        return this.arn(r.where, 'iam', `oidc-provider/${issuer}`, false);
      }
      case 'topic':
        return r.how === 'new'
          ? new sns.Topic(this.scope, this.id('Topic'), { enforceSSL: true })
          : sns.Topic.fromTopicArn(this.scope, this.id('Topic'), this.arn(r.where, 'sns', 'alarms'));
      case 'storageClass':
        return s3.StorageClass[r.name];
      case 'removalPolicy':
        return RemovalPolicy[r.name];
      case 'replication': {
        const out: Record<string, unknown> = {
          destinationBucket: this.value(r.destinationBucket, 'destinationBucket'),
        };
        if (r.destinationEncryptionKey !== undefined) {
          out.destinationEncryptionKey = this.value(r.destinationEncryptionKey, 'destinationKey');
        }
        if (r.storageClass !== undefined) out.storageClass = this.value(r.storageClass, 'storageClass');
        return Object.freeze(out);
      }
    }
  }

  private vpc(how: Extract<Res, { kind: 'vpc' }>['how']): ec2.IVpc {
    const s = this.scope;
    switch (how) {
      case 'shared':
        return this.sharedVpc();
      case 'new':
        return new ec2.Vpc(s, this.id('Vpc'), { maxAzs: 2, natGateways: 1 });
      case 'publicOnly':
        return new ec2.Vpc(s, this.id('PublicVpc'), {
          maxAzs: 2,
          subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
        });
      case 'isolatedOnly':
        return new ec2.Vpc(s, this.id('IsolatedVpc'), {
          maxAzs: 2,
          subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
        });
      case 'fromAttributes':
        return ec2.Vpc.fromVpcAttributes(s, this.id('ImportedVpc'), {
          vpcId: 'vpc-0a1b2c3d4e5f60718',
          availabilityZones: ['eu-central-1a', 'eu-central-1b'],
          privateSubnetIds: [subnetId(0), subnetId(1)],
        });
    }
  }

  private subnet(how: Extract<Res, { kind: 'subnet' }>['how'], index: number): ec2.ISubnet {
    switch (how) {
      case 'sharedPrivate':
        return this.sharedVpc().privateSubnets[index % 2];
      case 'sharedPublic':
        return this.sharedVpc().publicSubnets[index % 2];
      case 'fromId':
        return ec2.Subnet.fromSubnetId(this.scope, this.id('Subnet'), subnetId(index));
      case 'fromAttributes':
        return ec2.Subnet.fromSubnetAttributes(this.scope, this.id('Subnet'), {
          subnetId: subnetId(index),
          availabilityZone: 'eu-central-1a',
        });
    }
  }

  private securityGroup(how: Extract<Res, { kind: 'securityGroup' }>['how']): ec2.ISecurityGroup {
    switch (how) {
      case 'shared':
        return this.sharedOf('SecurityGroup', (s, id) => new ec2.SecurityGroup(s, id, { vpc: this.sharedVpc() }));
      case 'new':
        return new ec2.SecurityGroup(this.scope, this.id('SecurityGroup'), { vpc: this.sharedVpc() });
      case 'fromId': {
        const id = this.id('SecurityGroup');
        return ec2.SecurityGroup.fromSecurityGroupId(this.scope, id, securityGroupId(this.counter));
      }
    }
  }

  private cluster(how: Extract<Res, { kind: 'cluster' }>['how'], where: Where): ecs.ICluster {
    const s = this.scope;
    switch (how) {
      case 'shared':
        return this.sharedOf('Cluster', (st, id) => new ecs.Cluster(st, id, { vpc: this.sharedVpc() }));
      case 'new':
        return new ecs.Cluster(s, this.id('Cluster'));
      case 'fromArn':
        return ecs.Cluster.fromClusterArn(s, this.id('Cluster'), this.arn(where, 'ecs', 'cluster/jobs'));
      case 'fromAttributes':
        return ecs.Cluster.fromClusterAttributes(s, this.id('Cluster'), {
          clusterName: 'jobs',
          clusterArn: this.arn(where, 'ecs', 'cluster/jobs'),
          vpc: this.sharedVpc(),
        });
    }
  }

  private key(how: Extract<Res, { kind: 'key' }>['how'], where: Where): kms.IKey {
    const s = this.scope;
    switch (how) {
      case 'shared':
        return this.sharedOf('Key', (st, id) => new kms.Key(st, id, { enableKeyRotation: true }));
      case 'new':
        return new kms.Key(s, this.id('Key'), { enableKeyRotation: true });
      case 'fromArn':
        return kms.Key.fromKeyArn(
          s,
          this.id('Key'),
          this.arn(where, 'kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'),
        );
      case 'alias':
        return kms.Alias.fromAliasName(s, this.id('Alias'), 'alias/runner');
    }
  }

  private bucket(how: Extract<Res, { kind: 'bucket' }>['how'], where: Where, nameVal?: Val): s3.IBucket {
    const s = this.scope;
    const name = () => (nameVal !== undefined ? (this.value(nameVal, 'bucketName') as string) : 'brought-state');
    switch (how) {
      case 'shared':
        return this.sharedOf('Bucket', (st, id) => new s3.Bucket(st, id, { enforceSSL: true, versioned: true }));
      case 'new':
        return new s3.Bucket(s, this.id('Bucket'), { enforceSSL: true });
      case 'newKms':
        return new s3.Bucket(s, this.id('KmsBucket'), { encryption: s3.BucketEncryption.KMS, enforceSSL: true });
      case 'fromName':
        return s3.Bucket.fromBucketName(s, this.id('Bucket'), name());
      case 'fromArn':
        return s3.Bucket.fromBucketArn(s, this.id('Bucket'), this.arn(where, 's3', name(), false));
      case 'fromAttributes': {
        const { account, region } = this.env(where);
        return s3.Bucket.fromBucketAttributes(s, this.id('Bucket'), { bucketName: name(), account, region });
      }
    }
  }

  private jobSecret(how: Extract<Res, { kind: 'jobSecret' }>['how'], where: Where): ecs.Secret {
    const s = this.scope;
    switch (how) {
      case 'completeArn':
      case 'nameV2':
      case 'new':
        return ecs.Secret.fromSecretsManager(this.secret(how, where, 'job/db'));
      case 'field':
        return ecs.Secret.fromSecretsManager(this.secret('completeArn', where, 'job/db'), 'password');
      case 'ssm':
        // An ARN of pseudo parameters is what fromStringParameterAttributes builds (fromStringParameterArn takes no token).
        return ecs.Secret.fromSsmParameter(
          where === 'pseudo'
            ? ssm.StringParameter.fromStringParameterAttributes(s, this.id('Parameter'), { parameterName: '/job/x' })
            : ssm.StringParameter.fromStringParameterArn(
                s,
                this.id('Parameter'),
                this.arn(where, 'ssm', 'parameter/job/x'),
              ),
        );
      case 'ssmNew':
        return ecs.Secret.fromSsmParameter(new ssm.StringParameter(s, this.id('Parameter'), { stringValue: 'x' }));
    }
  }

  /** A Secrets Manager secret: by complete ARN (`<name>-AbCdEf`), by name only, or created. */
  private secret(how: 'completeArn' | 'nameV2' | 'new', where: Where, name: string): secretsmanager.ISecret {
    const id = this.id('Secret');
    switch (how) {
      case 'completeArn':
        return secretsmanager.Secret.fromSecretCompleteArn(
          this.scope,
          id,
          this.arn(where, 'secretsmanager', `secret:${name}-AbCdEf`),
        );
      case 'nameV2':
        return secretsmanager.Secret.fromSecretNameV2(this.scope, id, name);
      case 'new':
        return new secretsmanager.Secret(this.scope, id);
    }
  }

  private managedPolicy(how: Extract<Res, { kind: 'managedPolicy' }>['how'], where: Where): iam.IManagedPolicy {
    switch (how) {
      case 'aws':
        return iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess');
      case 'new':
        return new iam.ManagedPolicy(this.scope, this.id('Policy'), {
          statements: [new iam.PolicyStatement({ actions: ['ec2:DescribeVpcs'], resources: ['*'] })],
        });
      case 'fromArn':
        return iam.ManagedPolicy.fromManagedPolicyArn(
          this.scope,
          this.id('Policy'),
          this.arn(where, 'iam', 'policy/boundary', false),
        );
    }
  }

  /** The library's orchestrator factories (their errors are the library's). */
  private newOrchestrator(r: Extract<Res, { kind: 'orchestrator' }>): Orchestrator {
    const text = (v: Val | undefined, fallback: string) =>
      v === undefined ? fallback : (this.value(v, 'orchestrator') as string);
    const o =
      r.how === 'humanitec'
        ? Orchestrator.humanitec()
        : r.how === 'stellwerk'
          ? Orchestrator.stellwerk({
              oidcIssuer: text(r.oidcIssuer, 'oidc.stellwerk.example.com'),
              apiUrl: text(r.apiUrl, 'https://po.example.com'),
            })
          : Orchestrator.custom({
              oidcIssuer: text(r.oidcIssuer, 'login.example.org/po'),
              apiUrl: text(r.apiUrl, 'https://login.example.org/api'),
              taskDefinitionFamilyPrefix: text(r.taskDefinitionFamilyPrefix, 'acme_'),
            });
    this.orchestrator = o;
    return o;
  }
}

/** A well-formed subnet id, distinct for each index. */
export function subnetId(i: number): string {
  return `subnet-0a1b2c3d4e5f${String(i).padStart(5, '0')}`;
}

/** A well-formed security group id, distinct for each index. */
export function securityGroupId(i: number): string {
  return `sg-0fedcba98765${String(i).padStart(5, '0')}`;
}

function listType(list: readonly string[]): string {
  if (list.length > 0 && list.every((x) => x.startsWith('subnet-'))) return 'List<AWS::EC2::Subnet::Id>';
  if (list.length > 0 && list.every((x) => x.startsWith('sg-'))) return 'List<AWS::EC2::SecurityGroup::Id>';
  return 'CommaDelimitedList';
}

function statement(how: Extract<Res, { kind: 'statement' }>['how']): iam.PolicyStatement {
  switch (how) {
    case 'bucketRead':
      return new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::app-artifacts/*'] });
    case 'wildcard':
      return new iam.PolicyStatement({ actions: ['ec2:Describe*'], resources: ['*'] });
    case 'deny':
      return new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['iam:CreateUser'], resources: ['*'] });
    case 'condition':
      return new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': 'eu-central-1' } },
      });
    case 'noResource':
      return new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'] });
    case 'principal':
      return new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: ['*'],
        principals: [new iam.AccountRootPrincipal()],
      });
  }
}

/** Freezes literal arrays and plain objects (test-owned data), so a library that mutated props would throw. */
function freezePlain<T>(value: T): T {
  if (
    Array.isArray(value) ||
    (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
  ) {
    for (const item of Object.values(value as object)) freezePlain(item);
    Object.freeze(value);
  }
  return value;
}
