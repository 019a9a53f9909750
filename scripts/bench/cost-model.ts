/**
 * The cost model: what the resources of synthesized CloudFormation templates cost to keep for a
 * month while no job runs (plus the storage of a stated usage), and what one Fargate job costs.
 *
 * It reads only templates: every resource is either priced by a rule below, known to cost
 * nothing while idle, or reported as unpriced, so a resource the model does not know never
 * disappears silently from the total.
 */
import { RUNNER_METADATA_KEY } from '../../src/runner-metadata';
import { HOURS_PER_MONTH, PriceTable } from './prices';

/** The parts of a CloudFormation template the model reads. */
export interface CfnTemplate {
  readonly Resources?: {
    readonly [logicalId: string]: { readonly Type: string; readonly Properties?: any; readonly Metadata?: any };
  };
  readonly Outputs?: { readonly [id: string]: unknown };
}

/** What the runners store, per runner. Storage is charged while idle; activity is not. */
export interface Usage {
  /** Terraform state kept in each state bucket (S3 Standard), GB. */
  readonly stateGbPerBucket: number;
  /** Server access logs kept in the access-logs bucket(s), GB per runner logging to them. */
  readonly accessLogsGbPerRunner: number;
  /** Availability Zones assumed for an interface endpoint whose subnets are not literal. */
  readonly defaultEndpointAzs: number;
}

export const DEFAULT_USAGE: Usage = {
  stateGbPerBucket: 1,
  accessLogsGbPerRunner: 0.1,
  defaultEndpointAzs: 2,
};

/** One line of a monthly bill. */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  readonly monthlyUsd: number;
}

/** The idle monthly cost of a set of templates (e.g. every stack of a cloud assembly). */
export interface IdleCost {
  readonly lines: CostLine[];
  readonly totalUsd: number;
  /** Runners found (task-manager roles carrying the runner metadata). */
  readonly runners: number;
  /** Resource counts by type. */
  readonly resources: Record<string, number>;
  /** Resource types that cost nothing while idle (present in the templates). */
  readonly freeWhileIdle: string[];
  /** Resource types the model has no rule for (present in the templates). */
  readonly unpriced: string[];
}

/**
 * Types that are free to keep (IAM, ECS clusters, bucket policies, ...) or billed only per use
 * (Lambda invocations, SNS deliveries, EventBridge rules on AWS service events, metric filters
 * whose metrics are only billed in months they are published, custom resources).
 */
export const FREE_WHILE_IDLE: ReadonlySet<string> = new Set([
  'AWS::CDK::Metadata',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::ECS::Cluster',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::Events::Rule',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::KMS::Alias',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Logs::MetricFilter',
  'AWS::Logs::ResourcePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Subscription',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::CloudFormation::CustomResource',
]);

/** Types the model prices (idle rules below). */
const PRICED = new Set([
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::EC2::VPCEndpoint',
  'AWS::S3::Bucket',
  'AWS::Logs::LogGroup',
]);

/** Resource counts by type over all templates, sorted by type. */
export function countResources(templates: readonly CfnTemplate[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of templates) {
    for (const r of Object.values(t.Resources ?? {})) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function resourcesOf(templates: readonly CfnTemplate[], type: string) {
  return templates.flatMap((t) =>
    Object.entries(t.Resources ?? {})
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => ({ id, props: r.Properties ?? {}, template: t })),
  );
}

/** Billed metrics of one alarm: one for a single-metric alarm, each `MetricStat` of a math alarm. */
function alarmMetrics(props: any): { count: number; highResolution: boolean } {
  if (Array.isArray(props.Metrics)) {
    const stats = props.Metrics.filter((m: any) => m.MetricStat !== undefined);
    return {
      count: Math.max(1, stats.length),
      highResolution: stats.some((m: any) => typeof m.MetricStat.Period === 'number' && m.MetricStat.Period < 60),
    };
  }
  return { count: 1, highResolution: typeof props.Period === 'number' && props.Period < 60 };
}

/** Is `{ Ref: id }` (or `Fn::GetAtt [id, ...]`) a reference to a resource of the template? */
function refersTo(value: any, template: CfnTemplate, type: string): boolean {
  const id = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
  return typeof id === 'string' && template.Resources?.[id]?.Type === type;
}

/** The idle monthly cost of the templates' resources, and the storage of `usage`. */
export function idleMonthlyCost(
  templates: readonly CfnTemplate[],
  prices: PriceTable,
  usage: Usage = DEFAULT_USAGE,
): IdleCost {
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, unit: string, unitUsd: number) => {
    if (quantity > 0) lines.push({ item, quantity, unit, unitUsd, monthlyUsd: quantity * unitUsd });
  };
  const resources = countResources(templates);

  // Runners: the task-manager roles that carry the runner metadata.
  const runners = templates
    .flatMap((t) => Object.values(t.Resources ?? {}))
    .filter((r) => r.Type === 'AWS::IAM::Role' && r.Metadata?.[RUNNER_METADATA_KEY] !== undefined).length;

  // KMS keys.
  add('KMS customer managed keys', resources['AWS::KMS::Key'] ?? 0, 'key-month', prices.kmsKeyMonth.usd);

  // Secrets: created ones, and API token secrets the registrations read that live outside the templates.
  add(
    'Secrets Manager secrets (created)',
    resources['AWS::SecretsManager::Secret'] ?? 0,
    'secret-month',
    prices.secretMonth.usd,
  );
  const external = new Set<string>();
  for (const t of templates) {
    for (const r of Object.values(t.Resources ?? {})) {
      const arn = r.Properties?.TokenSecretArn;
      if (r.Type.startsWith('Custom::') && arn !== undefined && !refersTo(arn, t, 'AWS::SecretsManager::Secret')) {
        external.add(JSON.stringify(arn));
      }
    }
  }
  add('Secrets Manager secrets (API token, imported)', external.size, 'secret-month', prices.secretMonth.usd);

  // Alarms, by resolution.
  let standard = 0;
  let highResolution = 0;
  for (const a of resourcesOf(templates, 'AWS::CloudWatch::Alarm')) {
    const m = alarmMetrics(a.props);
    if (m.highResolution) highResolution += m.count;
    else standard += m.count;
  }
  add('CloudWatch alarm metrics (standard resolution)', standard, 'alarm metric-month', prices.alarmMetricMonth.usd);
  add(
    'CloudWatch alarm metrics (high resolution)',
    highResolution,
    'alarm metric-month',
    prices.highResolutionAlarmMetricMonth.usd,
  );

  // Dashboards.
  add(
    'CloudWatch dashboards',
    resources['AWS::CloudWatch::Dashboard'] ?? 0,
    'dashboard-month',
    prices.dashboardMonth.usd,
  );

  // Interface endpoints: one network interface per AZ (subnet); gateway endpoints are free.
  let endpointAzHours = 0;
  for (const e of resourcesOf(templates, 'AWS::EC2::VPCEndpoint')) {
    if (e.props.VpcEndpointType !== 'Interface') continue;
    const azs = Array.isArray(e.props.SubnetIds) ? e.props.SubnetIds.length : usage.defaultEndpointAzs;
    endpointAzHours += azs * HOURS_PER_MONTH;
  }
  add('VPC interface endpoints', endpointAzHours, 'endpoint-AZ-hour', prices.interfaceEndpointAzHour.usd);

  // S3: access-log buckets (targets of other buckets' logging) hold access logs; every other
  // bucket holds state; replicated buckets also keep a replica in the destination.
  const buckets = resourcesOf(templates, 'AWS::S3::Bucket');
  const logTargets = new Set(
    buckets
      .map((b) => b.props.LoggingConfiguration?.DestinationBucketName?.Ref)
      .filter((id): id is string => typeof id === 'string'),
  );
  const loggingBuckets = buckets.filter(
    (b) => b.props.LoggingConfiguration?.DestinationBucketName !== undefined,
  ).length;
  const stateBuckets = buckets.filter((b) => !logTargets.has(b.id));
  add('S3 Standard: state', stateBuckets.length * usage.stateGbPerBucket, 'GB-month', prices.s3StandardGbMonth.usd);
  if (logTargets.size > 0) {
    add(
      'S3 Standard: server access logs',
      loggingBuckets * usage.accessLogsGbPerRunner,
      'GB-month',
      prices.s3StandardGbMonth.usd,
    );
  }
  let replicaStandard = 0;
  let replicaIa = 0;
  for (const b of stateBuckets) {
    const rules: any[] = b.props.ReplicationConfiguration?.Rules ?? [];
    for (const rule of rules) {
      if (rule.Destination?.StorageClass === 'STANDARD_IA') replicaIa += usage.stateGbPerBucket;
      else replicaStandard += usage.stateGbPerBucket;
    }
  }
  add('S3 Standard-IA: state replicas (destination bucket)', replicaIa, 'GB-month', prices.s3StandardIaGbMonth.usd);
  add('S3 Standard: state replicas (destination bucket)', replicaStandard, 'GB-month', prices.s3StandardGbMonth.usd);

  const types = Object.keys(resources);
  const totalUsd = lines.reduce((sum, l) => sum + l.monthlyUsd, 0);
  return {
    lines,
    totalUsd,
    runners,
    resources,
    freeWhileIdle: types.filter((t) => FREE_WHILE_IDLE.has(t) || t.startsWith('Custom::')),
    unpriced: types.filter((t) => !FREE_WHILE_IDLE.has(t) && !PRICED.has(t) && !t.startsWith('Custom::')),
  };
}

/** A job's size and length. */
export interface JobShape {
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly minutes: number;
}

/**
 * The job as the orchestrator runs it: its task definitions ask for 0.5 vCPU and 1 GB, fixed,
 * and RunTask passes `launchType: FARGATE`, so every job is on-demand Fargate (never Spot).
 */
export const ORCHESTRATOR_JOB_SIZE = { vcpu: 0.5, memoryGb: 1 } as const;

/** The Fargate compute cost of one job, on demand (the orchestrator never uses Fargate Spot). */
export interface JobCost {
  readonly onDemandUsd: number;
}

export function fargateJobCost(prices: PriceTable, job: JobShape): JobCost {
  const billedMinutes = Math.max(1, job.minutes); // per second, one-minute minimum
  const hours = billedMinutes / 60;
  const onDemandUsd = (job.vcpu * prices.fargateVcpuHour.usd + job.memoryGb * prices.fargateGbHour.usd) * hours;
  return { onDemandUsd };
}
