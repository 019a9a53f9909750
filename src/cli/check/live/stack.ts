/**
 * The deployed stack as the live check sees it: its outputs (each runner's RunnerCreateBody, with
 * every ARN resolved by CloudFormation), its resources (logical id to physical id) and its
 * template (runner metadata, VPC endpoints, bucket and key policies), resolved to the deployed
 * values by the offline engine's resolver (../resolve.ts).
 */
import {
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { LiveClients, checkCall } from './aws';
import {
  RUNNER_CREATE_BODY_SHAPE,
  RunnerCreateBody,
  isRunnerCreateBody,
} from '../../../registration/runner-create-body';
import { RUNNER_METADATA_KEY, RunnerMetadata } from '../../../runner-metadata';
import type { TemplateModel } from '../model';
import { ResolvedTemplate, resolveTemplate } from '../resolve';

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
  const base = {
    name: stack.StackName ?? name,
    stackId: stack.StackId,
    partition,
    region,
    account,
    template,
    resources,
  };
  const resolved = deployedTemplate(base).template;

  const candidates: DeployedRunner[] = [];
  for (const o of stack.Outputs ?? []) {
    if (!(o.OutputKey ?? '').includes('RunnerCreateBody') || o.OutputValue === undefined) continue;
    let body: unknown;
    try {
      body = JSON.parse(o.OutputValue);
    } catch {
      throw new StackUsageError(`output ${o.OutputKey} of stack ${name} is not JSON`);
    }
    if (!isRunnerCreateBody(body)) {
      throw new StackUsageError(
        `output ${o.OutputKey} of stack ${name} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`,
      );
    }
    const meta = metadataByRunner.get(body.id);
    const auth = (body.runner_configuration as Json)?.auth;
    candidates.push({
      runnerId: body.id,
      orgId: /\(org ([^)\s]+)\)/.exec(o.Description ?? '')?.[1] ?? meta?.metadata.orgId,
      outputKey: o.OutputKey!,
      body,
      taskManagerRoleLogicalId: meta?.logicalId ?? roleLogicalId(resolved, auth?.role_arn),
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

/** The role of the template whose deployed ARN is `arn`. */
function roleLogicalId(resolved: ResolvedTemplate, arn: unknown): string | undefined {
  const id = typeof arn === 'string' ? resolved.logicalIdOf(arn) : undefined;
  return id !== undefined && resolved.resources[id]?.Type === 'AWS::IAM::Role' ? id : undefined;
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

type StackView = Pick<
  DeployedStack,
  'name' | 'stackId' | 'partition' | 'region' | 'account' | 'template' | 'resources'
>;

/** The deployed stack's `PhysicalResourceId` of each resource, by logical id. */
export function physicalResourceIds(stack: Pick<StackView, 'resources'>): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const r of stack.resources.values()) {
    if (r.physicalId !== undefined) ids[r.logicalId] = r.physicalId;
  }
  return ids;
}

const models = new WeakMap<object, TemplateModel>();

/**
 * The deployed template, resolved by the offline engine's resolver to the deployed values (its
 * strict mode: a reference it cannot resolve exactly throws `UnresolvedError`), as a model
 * whose bucket, key and trust policies the engine's evaluator decides.
 */
export function deployedTemplate(stack: StackView): TemplateModel {
  let model = models.get(stack);
  if (model === undefined) {
    const template = resolveTemplate(
      stack.template,
      { account: stack.account, region: stack.region, partition: stack.partition },
      physicalResourceIds(stack),
      { strict: true, stackName: stack.name, stackId: stack.stackId },
    );
    model = { template, runners: [] };
    models.set(stack, model);
  }
  return model;
}
