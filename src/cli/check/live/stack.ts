/**
 * The deployed stack as the live check sees it: its outputs (each runner's RunnerCreateBody, with
 * every ARN resolved by CloudFormation), its resources (logical id to physical id) and its
 * template (runner metadata, VPC endpoints, bucket and key policies), and a resolver that turns
 * the template's references into the deployed values.
 */
import {
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { LiveClients, checkCall } from './aws';
import type { RunnerCreateBody } from '../../../registration/runtime/api-client';
import { RUNNER_METADATA_KEY, RunnerMetadata } from '../../../runner-metadata';

type Json = any;

export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly status?: string;
}

/** A deployed stack. */
export interface DeployedStack {
  readonly name: string;
  readonly stackId: string;
  readonly status: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly template: Json;
  readonly resources: ReadonlyMap<string, DeployedResource>;
  readonly runners: readonly DeployedRunner[];
}

/** One runner of the stack: what the orchestrator is (or would be) registered with. */
export interface DeployedRunner {
  readonly runnerId: string;
  /** From the output's description `(org <id>)`, or the template's runner metadata. */
  readonly orgId?: string;
  readonly outputKey: string;
  readonly body: RunnerCreateBody;
  /** Logical id of the task-manager role in the template, when the template says (runner metadata) or it is found by ARN. */
  readonly taskManagerRoleLogicalId?: string;
  /** The runner's metadata in the template, when the library version that deployed it wrote it. */
  readonly metadata?: RunnerMetadata;
}

/** A stack that cannot be read as a runner stack: a usage or configuration error (exit 2). */
export class StackUsageError extends Error {}

/** Reads the stack (DescribeStacks, DescribeStackResources, GetTemplate) and finds its runners. */
export async function readStack(clients: LiveClients, name: string, runnerId?: string): Promise<DeployedStack> {
  let described;
  try {
    described = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: name }));
  } catch (e) {
    if ((e as Error).name === 'ValidationError') {
      throw new StackUsageError(`stack "${name}" not found: ${(e as Error).message}`);
    }
    throw e;
  }
  const stack = described.Stacks?.[0];
  if (!stack?.StackId) throw new StackUsageError(`stack "${name}" not found`);
  const arn = /^arn:([^:]+):cloudformation:([^:]+):(\d{12}):stack\//.exec(stack.StackId);
  if (!arn) throw new StackUsageError(`stack "${name}" has an unexpected id ${stack.StackId}`);
  const [, partition, region, account] = arn;

  const resourcesRes = await checkCall('cloudformation:DescribeStackResources', () =>
    clients.cloudformation.send(new DescribeStackResourcesCommand({ StackName: stack.StackId })),
  );
  const resources = new Map<string, DeployedResource>();
  for (const r of resourcesRes.StackResources ?? []) {
    if (r.LogicalResourceId === undefined) continue;
    resources.set(r.LogicalResourceId, {
      logicalId: r.LogicalResourceId,
      type: r.ResourceType ?? '',
      physicalId: r.PhysicalResourceId,
      status: r.ResourceStatus,
    });
  }
  const templateRes = await checkCall('cloudformation:GetTemplate', () =>
    clients.cloudformation.send(new GetTemplateCommand({ StackName: stack.StackId, TemplateStage: 'Original' })),
  );
  let template: Json;
  try {
    template = JSON.parse(templateRes.TemplateBody ?? '{}');
  } catch {
    throw new StackUsageError(`stack "${name}"'s template is not JSON (a CDK stack's always is)`);
  }

  const metadataByRunner = new Map<string, { logicalId: string; metadata: RunnerMetadata }>();
  for (const [logicalId, r] of Object.entries<Json>(template.Resources ?? {})) {
    for (const m of asArray<Json>(r?.Metadata?.[RUNNER_METADATA_KEY])) {
      if (typeof m?.runnerId === 'string') metadataByRunner.set(m.runnerId, { logicalId, metadata: m });
    }
  }
  const roleArnToLogicalId = new Map<string, string>();
  const base = {
    name: stack.StackName ?? name,
    stackId: stack.StackId,
    partition,
    region,
    account,
    template,
    resources,
  };
  for (const [logicalId, r] of resources) {
    if (r.type !== 'AWS::IAM::Role') continue;
    try {
      roleArnToLogicalId.set(attribute(base, logicalId, 'Arn'), logicalId);
    } catch {
      // A role whose ARN cannot be rebuilt is not matched; its calls name it by logical id only.
    }
  }

  const candidates: DeployedRunner[] = [];
  for (const o of stack.Outputs ?? []) {
    if (!(o.OutputKey ?? '').includes('RunnerCreateBody') || o.OutputValue === undefined) continue;
    let body: RunnerCreateBody;
    try {
      body = JSON.parse(o.OutputValue);
    } catch {
      throw new StackUsageError(`output ${o.OutputKey} of stack ${name} is not JSON`);
    }
    if (typeof body?.id !== 'string') continue;
    const meta = metadataByRunner.get(body.id);
    const auth = (body.runner_configuration as Json)?.auth;
    candidates.push({
      runnerId: body.id,
      orgId: /\(org ([^)\s]+)\)/.exec(o.Description ?? '')?.[1] ?? meta?.metadata.orgId,
      outputKey: o.OutputKey!,
      body,
      taskManagerRoleLogicalId: meta?.logicalId ?? roleArnToLogicalId.get(auth?.role_arn),
      metadata: meta?.metadata,
    });
  }
  if (candidates.length === 0) {
    throw new StackUsageError(
      `stack "${name}" has no runner: no output whose key contains "RunnerCreateBody" (is it a stack with an EcsRunner?)`,
    );
  }
  const runners = runnerId === undefined ? candidates : candidates.filter((c) => c.runnerId === runnerId);
  if (runners.length === 0) {
    throw new StackUsageError(
      `stack "${name}" has no runner "${runnerId}"; its runners: ${candidates.map((c) => c.runnerId).join(', ')}`,
    );
  }
  return { ...base, status: stack.StackStatus ?? 'UNKNOWN', runners };
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** A template reference the resolver cannot turn into a deployed value. */
export class UnresolvableError extends Error {}

type StackView = Pick<
  DeployedStack,
  'name' | 'stackId' | 'partition' | 'region' | 'account' | 'template' | 'resources'
>;

function physical(stack: StackView, logicalId: string): string {
  const r = stack.resources.get(logicalId);
  if (r?.physicalId === undefined) throw new UnresolvableError(`resource ${logicalId} is not in the deployed stack`);
  return r.physicalId;
}

/** `Fn::GetAtt` of the attributes the runner's policies use, from the physical id. */
export function attribute(stack: StackView, logicalId: string, attr: string): string {
  const r = stack.resources.get(logicalId);
  const id = physical(stack, logicalId);
  const { partition: p, region, account } = stack;
  const props = stack.template?.Resources?.[logicalId]?.Properties ?? {};
  const key = `${r?.type}.${attr}`;
  switch (key) {
    case 'AWS::IAM::Role.Arn': {
      const path = props.Path === undefined ? '/' : resolveValue(stack, props.Path);
      return `arn:${p}:iam::${account}:role${path}${id}`;
    }
    case 'AWS::S3::Bucket.Arn':
      return `arn:${p}:s3:::${id}`;
    case 'AWS::KMS::Key.Arn':
      return id.startsWith('arn:') ? id : `arn:${p}:kms:${region}:${account}:key/${id}`;
    case 'AWS::KMS::Key.KeyId':
      return id.replace(/^arn:.*:key\//, '');
    case 'AWS::ECS::Cluster.Arn':
      return id.startsWith('arn:') ? id : `arn:${p}:ecs:${region}:${account}:cluster/${id}`;
    case 'AWS::Logs::LogGroup.Arn':
      return `arn:${p}:logs:${region}:${account}:log-group:${id}:*`;
    case 'AWS::EC2::SecurityGroup.GroupId':
      return id;
    case 'AWS::IAM::OIDCProvider.Arn':
    case 'AWS::SecretsManager::Secret.Id':
    case 'AWS::SNS::Topic.TopicArn':
      return id;
    default:
      if (id.startsWith('arn:') && attr === 'Arn') return id;
      throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attr} (${r?.type}) is not resolved by the live check`);
  }
}

function pseudo(stack: StackView, name: string): string | undefined {
  switch (name) {
    case 'AWS::Partition':
      return stack.partition;
    case 'AWS::Region':
      return stack.region;
    case 'AWS::AccountId':
      return stack.account;
    case 'AWS::URLSuffix':
      return stack.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    case 'AWS::StackName':
      return stack.name;
    case 'AWS::StackId':
      return stack.stackId;
    case 'AWS::NoValue':
      return undefined;
    default:
      return undefined;
  }
}

/** Resolves `${AWS::Region}`, `${Logical}` and `${Logical.Attr}` references in a string (Fn::Sub notation). */
export function resolveSubString(stack: StackView, text: string, vars: Record<string, Json> = {}): string {
  return text.replace(/\$\{([^}!]+)\}/g, (_m, ref: string) => {
    if (ref in vars) return String(resolveValue(stack, vars[ref]));
    const p = pseudo(stack, ref);
    if (p !== undefined) return p;
    if (ref.startsWith('AWS::')) throw new UnresolvableError(`\${${ref}} is not resolved by the live check`);
    const dot = ref.indexOf('.');
    return dot < 0 ? refOf(stack, ref) : attribute(stack, ref.slice(0, dot), ref.slice(dot + 1));
  });
}

function refOf(stack: StackView, logicalId: string): string {
  const p = pseudo(stack, logicalId);
  if (p !== undefined) return p;
  const params = stack.template?.Parameters ?? {};
  if (logicalId in params) throw new UnresolvableError(`parameter ${logicalId} is not resolved by the live check`);
  return physical(stack, logicalId);
}

/** Resolves a template value (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split) to its deployed value. */
export function resolveValue(stack: StackView, value: Json): Json {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => resolveValue(stack, v));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = value[fn];
    switch (fn) {
      case 'Ref':
        return refOf(stack, arg);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return attribute(stack, id, attr);
      }
      case 'Fn::Sub':
        return Array.isArray(arg) ? resolveSubString(stack, arg[0], arg[1] ?? {}) : resolveSubString(stack, arg);
      case 'Fn::Join':
        return (resolveValue(stack, arg[1]) as Json[]).map(String).join(arg[0]);
      case 'Fn::Select':
        return (resolveValue(stack, arg[1]) as Json[])[Number(resolveValue(stack, arg[0]))];
      case 'Fn::Split':
        return String(resolveValue(stack, arg[1])).split(arg[0]);
      default:
        if (fn.startsWith('Fn::') || fn === 'Condition') {
          throw new UnresolvableError(`${fn} is not resolved by the live check`);
        }
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(stack, v)]));
}
