/**
 * Resolves a synthesized CloudFormation template's intrinsic functions to the strings
 * CloudFormation would produce, with placeholder physical ids (a role's ARN from its logical id
 * and path, a bucket's name from its logical id, ...), and remembers which resource each
 * placeholder stands for, so that an ARN in the RunnerCreateBody leads back to the resource.
 * Given the deployed stack's physical ids it resolves to the deployed values instead: the live
 * check (`check --stack`) resolves the deployed template with it, in its strict mode.
 */

export interface StackEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

export interface ResolvedTemplate {
  readonly env: StackEnvironment;
  readonly resources: Record<string, any>;
  /** Resolves a template value (intrinsics included) to plain data. */
  resolve(value: unknown): any;
  /** The logical id that a resolved ARN or name stands for, when it came from this template. */
  logicalIdOf(physical: string): string | undefined;
  /** The resolved ARN of a resource (`Fn::GetAtt [id, Arn]`). */
  arnOf(logicalId: string): string;
  /** Notes on what could not be resolved exactly. */
  readonly notes: string[];
}

/** How to resolve: the deployed stack's name and id, and whether to refuse placeholders. */
export interface ResolveOptions {
  /** `AWS::StackName`. @default 'Stack' */
  readonly stackName?: string;
  /** `AWS::StackId`. @default - a placeholder stack id */
  readonly stackId?: string;
  /**
   * Throw {@link UnresolvedError} instead of using a placeholder or a note: for a reference to a
   * resource without a physical id, a parameter, an attribute or function it cannot resolve
   * exactly (Fn::If, Fn::ImportValue, Fn::GetAZs). For the deployed stack, where a guess would be
   * a wrong answer. @default false
   */
  readonly strict?: boolean;
}

/** A template value that the strict resolver cannot resolve to its deployed value. */
export class UnresolvedError extends Error {}

const DEFAULT_ACCOUNT = '123456789012';
/** Types whose `Ref` is an ARN (their placeholder is built by arnOf). */
const REF_IS_ARN = new Set([
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::SecretsManager::Secret',
  'AWS::SNS::Topic',
]);
/** Types whose `Ref` is a name, by the property that sets the name (else CloudFormation generates one). */
const REF_NAME_PROPERTY: ReadonlyMap<string, string> = new Map([
  ['AWS::S3::Bucket', 'BucketName'],
  ['AWS::ECS::Cluster', 'ClusterName'],
  ['AWS::IAM::Role', 'RoleName'],
  ['AWS::SSM::Parameter', 'Name'],
  ['AWS::Logs::LogGroup', 'LogGroupName'],
]);
const DEFAULT_REGION = 'us-east-1';

/** The account and region a template is for: the ones its literal ARNs name most, else placeholders. */
export function detectEnvironment(template: any): StackEnvironment {
  const text = JSON.stringify(template);
  const count = (re: RegExp) => {
    const counts = new Map<string, number>();
    for (const m of text.matchAll(re)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  };
  const region =
    count(/\\"region\\":\\"([a-z]{2}(?:-[a-z]+)+-\d)\\"/g) ??
    count(/:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:/g) ??
    DEFAULT_REGION;
  const account = count(/:(\d{12}):/g) ?? DEFAULT_ACCOUNT;
  const partition = count(/arn:(aws(?:-cn|-us-gov)?):/g) ?? 'aws';
  return { account, region, partition };
}

/**
 * @param envOverride account, region and partition, instead of detecting them
 * @param physicalResourceIds the deployed stack's physical ids by logical id (CloudFormation's
 *   `PhysicalResourceId`, which is what `Ref` returns for the types a runner uses): with them, every
 *   name and ARN is the deployed one instead of a placeholder (live checks)
 */
export function resolveTemplate(
  template: any,
  envOverride: Partial<StackEnvironment> = {},
  physicalResourceIds: Readonly<Record<string, string>> = {},
  options: ResolveOptions = {},
): ResolvedTemplate {
  const strict = options.strict ?? false;
  const refuse = (what: string): never => {
    throw new UnresolvedError(`${what} is not resolved by the check`);
  };
  const env: StackEnvironment = { ...detectEnvironment(template), ...stripUndefined(envOverride) };
  const resources: Record<string, any> = template?.Resources ?? {};
  const parameters: Record<string, any> = template?.Parameters ?? {};
  const reverse = new Map<string, string>();
  const notes: string[] = [];
  const { account, region, partition } = env;

  const remember = (physical: string, logicalId: string): string => {
    if (!reverse.has(physical)) reverse.set(physical, logicalId);
    return physical;
  };

  const props = (id: string): Record<string, any> => resources[id]?.Properties ?? {};
  const literal = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

  const ref = (id: string): any => {
    switch (id) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
      case 'AWS::StackName':
        return options.stackName ?? 'Stack';
      case 'AWS::StackId':
        return (
          options.stackId ??
          `arn:${partition}:cloudformation:${region}:${account}:stack/${options.stackName ?? 'Stack'}/00000000-0000-0000-0000-000000000000`
        );
      case 'AWS::NoValue':
        return undefined;
    }
    if (parameters[id] !== undefined) {
      if (strict) refuse(`parameter ${id}`);
      const d = parameters[id].Default;
      if (d === undefined) notes.push(`parameter ${id} has no default: used its name`);
      return d ?? id;
    }
    const r = resources[id];
    if (!r) {
      if (strict) refuse(`Ref to ${id}, which is not in the template,`);
      notes.push(`Ref to ${id}, which is not in the template`);
      return id;
    }
    const p = props(id);
    const deployed = physicalResourceIds[id];
    if (deployed !== undefined) {
      if (/^arn:/.test(deployed) || r.Type === 'AWS::KMS::Key' || !REF_IS_ARN.has(r.Type))
        return remember(deployed, id);
    } else if (strict) {
      refuse(`resource ${id}, which is not in the deployed stack,`);
    }
    if (REF_IS_ARN.has(r.Type)) return arnOf(id);
    if (r.Type === 'AWS::KMS::Key') return remember(`key-${id}`, id);
    // A name the template gives, else a placeholder from the logical id (bucket names are lowercase).
    const nameProperty = REF_NAME_PROPERTY.get(r.Type);
    const name = nameProperty === undefined ? undefined : literal(resolve(p[nameProperty]));
    return remember(name ?? (r.Type === 'AWS::S3::Bucket' ? id.toLowerCase() : id), id);
  };

  const arnOf = (id: string): string => {
    const r = resources[id];
    const p = props(id);
    const deployed = physicalResourceIds[id];
    if (strict && deployed === undefined) refuse(`resource ${id}, which is not in the deployed stack,`);
    // A physical id that is an ARN is the resource's ARN (policies, providers, secrets, topics; a cluster or key by ARN).
    if (deployed?.startsWith('arn:') && r?.Type !== 'AWS::Logs::LogGroup') return remember(deployed, id);
    switch (r?.Type) {
      case 'AWS::IAM::Role':
        return remember(`arn:${partition}:iam::${account}:role${literal(resolve(p.Path)) ?? '/'}${ref(id)}`, id);
      case 'AWS::IAM::ManagedPolicy':
        return remember(
          `arn:${partition}:iam::${account}:policy${literal(resolve(p.Path)) ?? '/'}${literal(resolve(p.ManagedPolicyName)) ?? id}`,
          id,
        );
      case 'AWS::IAM::OIDCProvider':
        return remember(
          `arn:${partition}:iam::${account}:oidc-provider/${String(resolve(p.Url)).replace(/^https:\/\//, '')}`,
          id,
        );
      case 'AWS::ECS::Cluster':
        return remember(`arn:${partition}:ecs:${region}:${account}:cluster/${ref(id)}`, id);
      case 'AWS::S3::Bucket':
        return remember(`arn:${partition}:s3:::${ref(id)}`, id);
      case 'AWS::KMS::Key':
        return remember(`arn:${partition}:kms:${region}:${account}:key/${ref(id)}`, id);
      case 'AWS::SecretsManager::Secret':
        return remember(
          `arn:${partition}:secretsmanager:${region}:${account}:secret:${literal(resolve(p.Name)) ?? id}-AbCdEf`,
          id,
        );
      case 'AWS::SSM::Parameter':
        return remember(
          `arn:${partition}:ssm:${region}:${account}:parameter/${String(ref(id)).replace(/^\//, '')}`,
          id,
        );
      case 'AWS::Logs::LogGroup':
        return remember(`arn:${partition}:logs:${region}:${account}:log-group:${ref(id)}:*`, id);
      case 'AWS::SNS::Topic':
        return remember(`arn:${partition}:sns:${region}:${account}:${literal(resolve(p.TopicName)) ?? id}`, id);
      case 'AWS::Lambda::Function':
        return remember(`arn:${partition}:lambda:${region}:${account}:function:${ref(id)}`, id);
      default:
        if (strict) refuse(`the ARN of ${id} (${r?.Type ?? 'not in the template'})`);
        return remember(
          `arn:${partition}:${(r?.Type ?? 'unknown').split('::')[1]?.toLowerCase()}:${region}:${account}:${id}`,
          id,
        );
    }
  };

  const getAtt = (id: string, attr: string): string => {
    if (attr === 'Arn') return arnOf(id);
    const r = resources[id];
    if (r?.Type === 'AWS::EC2::SecurityGroup' && attr === 'GroupId') {
      if (strict && physicalResourceIds[id] === undefined)
        refuse(`resource ${id}, which is not in the deployed stack,`);
      return remember(physicalResourceIds[id] ?? `sg-${id}`, id);
    }
    if (r?.Type === 'AWS::KMS::Key' && attr === 'KeyId') return String(ref(id)).replace(/^arn:.*:key\//, '');
    if (r?.Type === 'AWS::SecretsManager::Secret' && attr === 'Id') return arnOf(id);
    if (r?.Type === 'AWS::SNS::Topic' && attr === 'TopicArn') return arnOf(id);
    if (strict) refuse(`Fn::GetAtt ${id}.${attr} (${r?.Type ?? 'not in the template'})`);
    return remember(`${id}.${attr}`, id);
  };

  const sub = (text: string, vars: Record<string, unknown>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_whole, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (vars[name] !== undefined) return String(resolve(vars[name]));
      const dot = name.indexOf('.');
      if (dot !== -1 && resources[name.slice(0, dot)]) return getAtt(name.slice(0, dot), name.slice(dot + 1));
      return String(ref(name));
    });

  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve).filter((v) => v !== undefined);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg: any = (value as any)[fn];
      switch (fn) {
        case 'Ref':
          return ref(arg);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
          return getAtt(id, attr);
        }
        case 'Fn::Join':
          return (resolve(arg[1]) as unknown[]).map(String).join(arg[0]);
        case 'Fn::Select':
          return resolve(arg[1])[Number(resolve(arg[0]))];
        case 'Fn::Split':
          return String(resolve(arg[1])).split(arg[0]);
        case 'Fn::Sub':
          return Array.isArray(arg) ? sub(arg[0], arg[1] ?? {}) : sub(arg, {});
        case 'Fn::ImportValue':
          if (strict) refuse(`Fn::ImportValue ${JSON.stringify(arg)}`);
          notes.push(`Fn::ImportValue ${JSON.stringify(arg)}: used its export name`);
          return `import:${resolve(arg)}`;
        case 'Fn::If':
          if (strict) refuse(`Fn::If on condition ${arg[0]}`);
          notes.push(`Fn::If on condition ${arg[0]}: took the true branch`);
          return resolve(arg[1]);
        case 'Fn::GetAZs':
          if (strict) refuse('Fn::GetAZs');
          return [`${region}a`, `${region}b`, `${region}c`];
        case 'Fn::Base64':
          return resolve(arg);
        default:
          if (strict && (fn.startsWith('Fn::') || fn === 'Condition')) refuse(fn);
      }
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = resolve((value as any)[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };

  // Name every resource once, so that ARNs lead back to logical ids before anything asks.
  for (const id of Object.keys(resources)) {
    try {
      arnOf(id);
    } catch {
      // A resource whose name cannot be rendered is looked up by what refers to it instead.
    }
  }

  return {
    env,
    resources,
    resolve,
    logicalIdOf: (physical) => reverse.get(physical),
    arnOf,
    notes,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
