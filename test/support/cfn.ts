/**
 * Renders CloudFormation intrinsic functions in a synthesized template to the strings
 * CloudFormation would produce at deploy time, with fixed sample values for the account,
 * region and physical ids. Used to check what a deployed stack outputs (e.g. the
 * RunnerCreateBody) against the orchestrator's schema.
 */
import { createHash } from 'crypto';

export const SAMPLE_ACCOUNT = '123456789012';
export const SAMPLE_REGION = 'eu-central-1';

export interface RenderOptions {
  readonly account?: string;
  readonly region?: string;
  readonly partition?: string;
  /** Values of the template's parameters by logical id (a List<...> parameter's is an array). */
  readonly parameters?: Record<string, string | string[]>;
}

/** Prefixes of the EC2 ids a Ref returns, by resource type. */
const EC2_ID_PREFIX: Record<string, string> = {
  'AWS::EC2::Subnet': 'subnet',
  'AWS::EC2::SecurityGroup': 'sg',
  'AWS::EC2::VPC': 'vpc',
};

/** A sample value of a parameter of `type`, when the test gives none. */
function sampleParameter(type: string | undefined): string | string[] {
  switch (type) {
    case 'List<AWS::EC2::Subnet::Id>':
      return ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
    case 'List<AWS::EC2::SecurityGroup::Id>':
      return ['sg-0123456789abcdef0'];
    default:
      return type?.startsWith('List<') || type === 'CommaDelimitedList' ? ['sample'] : 'sample';
  }
}

export function render(value: any, template: any, opts: RenderOptions = {}): any {
  const account = opts.account ?? SAMPLE_ACCOUNT;
  const region = opts.region ?? SAMPLE_REGION;
  const partition = opts.partition ?? 'aws';
  const resources: Record<string, any> = template.Resources ?? {};

  const physicalId = (logicalId: string): string => {
    const type = resources[logicalId]?.Type;
    if (!type) throw new Error(`Ref to unknown resource ${logicalId}`);
    // EC2 ids have their fixed shape (the API limits subnet ids to 24 characters).
    const ec2Prefix = EC2_ID_PREFIX[type];
    if (ec2Prefix) return `${ec2Prefix}-${createHash('sha256').update(logicalId).digest('hex').slice(0, 17)}`;
    // Bucket and cluster names: lowercase, like CloudFormation's generated names.
    return `${logicalId.toLowerCase()}-abc123`;
  };
  const arnOf = (logicalId: string, walk: (v: any) => any): string => {
    const type = resources[logicalId]?.Type;
    switch (type) {
      case 'AWS::IAM::Role':
        // The path may be a reference too (a parameter).
        return `arn:${partition}:iam::${account}:role${walk(resources[logicalId].Properties?.Path ?? '/')}${physicalId(logicalId)}`;
      case 'AWS::ECS::Cluster':
        return `arn:${partition}:ecs:${region}:${account}:cluster/${physicalId(logicalId)}`;
      case 'AWS::S3::Bucket':
        return `arn:${partition}:s3:::${physicalId(logicalId)}`;
      case 'AWS::KMS::Key':
        return `arn:${partition}:kms:${region}:${account}:key/11111111-2222-3333-4444-555555555555`;
      case 'AWS::IAM::OIDCProvider':
        return `arn:${partition}:iam::${account}:oidc-provider/${resources[logicalId].Properties.Url.replace('https://', '')}`;
      default:
        return `arn:${partition}:unknown:${region}:${account}:${physicalId(logicalId)}`;
    }
  };

  /** What a Ref to a resource returns: its ARN for the types whose Ref is one, else its physical id. */
  const refOf = (logicalId: string): string => {
    switch (resources[logicalId]?.Type) {
      case 'AWS::SecretsManager::Secret':
        return `arn:${partition}:secretsmanager:${region}:${account}:secret:${physicalId(logicalId)}-AbCdEf`;
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${account}:${physicalId(logicalId)}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${partition}:iam::${account}:policy/${physicalId(logicalId)}`;
      default:
        return physicalId(logicalId);
    }
  };

  return mapIntrinsics(value, (fn, arg, walk) => {
    switch (fn) {
      case 'Ref':
        if (arg === 'AWS::AccountId') return account;
        if (arg === 'AWS::Region') return region;
        if (arg === 'AWS::Partition') return partition;
        if (arg === 'AWS::URLSuffix') return 'amazonaws.com';
        if (arg === 'AWS::StackName') return 'SampleStack';
        if (template.Parameters?.[arg] !== undefined) {
          const parameter = template.Parameters[arg];
          return opts.parameters?.[arg] ?? parameter.Default ?? sampleParameter(parameter.Type);
        }
        return refOf(arg);
      case 'Fn::GetAtt': {
        const [logicalId, attr] = arg;
        if (attr === 'Arn') return arnOf(logicalId, walk);
        // CDK's Stack.toJsonString of a list token: a custom resource that JSON-encodes its Value.
        if (
          resources[logicalId]?.Type === 'Custom::AWSCDKCfnJsonStringify' ||
          logicalId.startsWith('CdkJsonStringify')
        ) {
          return JSON.stringify(walk(resources[logicalId].Properties.Value));
        }
        // A VPC security group's GroupId is its Ref.
        if (resources[logicalId]?.Type === 'AWS::EC2::SecurityGroup' && attr === 'GroupId')
          return physicalId(logicalId);
        return `${physicalId(logicalId)}-${attr}`;
      }
      case 'Fn::Join':
        return walk(arg[1]).join(arg[0]);
      case 'Fn::Select':
        return walk(arg[1])[arg[0]];
      case 'Fn::Split':
        return walk(arg[1]).split(arg[0]);
      case 'Fn::ImportValue':
        throw new Error(`cannot render Fn::ImportValue ${JSON.stringify(arg)}`);
      default:
        return NOT_INTRINSIC;
    }
  });
}

/** The deployed value of every output whose logical id contains `fragment`. */
export function outputValues(template: any, fragment: string, opts: RenderOptions = {}): string[] {
  return Object.entries(template.Outputs ?? {})
    .filter(([key]) => key.includes(fragment))
    .map(([, output]: [string, any]) => render(output.Value, template, opts));
}

/** The RunnerCreateBody outputs of a template, parsed. */
export function registrationBodies(template: any, opts: RenderOptions = {}): any[] {
  return outputValues(template, 'RunnerCreateBody', opts).map((json) => JSON.parse(json));
}

/**
 * Renders intrinsic functions as readable placeholders, for showing a user what CloudFormation
 * will fill in: `${AWS::AccountId}`, `${RunnerRolesTaskManagerRole6FB774F5.Arn}`.
 */
export function renderPlaceholders(value: any): any {
  return mapIntrinsics(value, (fn, arg, walk) => {
    if (fn === 'Ref') return `\${${arg}}`;
    if (fn === 'Fn::GetAtt') return `\${${arg[0]}.${arg[1]}}`;
    if (fn === 'Fn::Join') return walk(arg[1]).join(arg[0]);
    return NOT_INTRINSIC;
  });
}

const NOT_INTRINSIC = Symbol('not an intrinsic this renderer knows');

/**
 * Walks a template value; every single-key object is offered to `onIntrinsic` (with a walker
 * for its arguments), which returns its rendering or NOT_INTRINSIC to walk it as plain data.
 */
function mapIntrinsics(value: any, onIntrinsic: (fn: string, arg: any, walk: (v: any) => any) => any): any {
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const rendered = onIntrinsic(keys[0], v[keys[0]], walk);
      if (rendered !== NOT_INTRINSIC) return rendered;
    }
    const out: any = {};
    for (const key of keys) out[key] = walk(v[key]);
    return out;
  };
  return walk(value);
}
