/**
 * What a synthesized template costs in a month in which no job runs (plus the storage of a stated
 * usage), and what one job costs, at the unit prices of prices.json. Resources are counted from
 * the template; a resource type with neither a rule here nor a place in FREE_WHILE_IDLE is an
 * error, so nothing the model does not know is silently free.
 */
import PRICE_LIST from './prices.json';

export const PRICES = PRICE_LIST.prices;
type PriceName = keyof typeof PRICES;

/** Stored per runner while idle: Terraform state (all versions) and S3 server access logs. */
export const USAGE = { stateGb: 1, accessLogsGb: 0.1 } as const;

/** The job as the orchestrator runs it: 0.5 vCPU and 1 GB (its task definitions), on demand, here 5 minutes. */
export const JOB = { vcpu: 0.5, memoryGb: 1, minutes: 5 } as const;

/**
 * Free to keep, or billed only per use (invocations, deliveries, events, ingested or published
 * data), which is nil while no job runs: the log groups hold the kilobytes a deploy writes.
 */
export const FREE_WHILE_IDLE = new Set([
  'AWS::CDK::Metadata',
  'AWS::EC2::SecurityGroup',
  'AWS::ECS::Cluster',
  'AWS::Events::Rule',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::IAM::Role',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::Logs::MetricFilter',
  'AWS::Logs::ResourcePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Subscription',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
]);

const PRICED = new Set(['AWS::KMS::Key', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard', 'AWS::S3::Bucket']);

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly price: PriceName;
  readonly monthlyUsd: number;
}

export interface MonthlyCost {
  readonly lines: CostLine[];
  readonly totalUsd: number;
}

/** The idle monthly cost of one template. */
export function monthlyCost(template: { Resources?: Record<string, any> }): MonthlyCost {
  const resources = Object.entries<any>(template.Resources ?? {}).map(([id, r]) => ({ id, ...r }));
  const unknown = resources
    .map((r) => r.Type as string)
    .filter((t) => !PRICED.has(t) && !FREE_WHILE_IDLE.has(t) && !t.startsWith('Custom::'));
  if (unknown.length > 0) throw new Error(`no price and not free while idle: ${[...new Set(unknown)].join(', ')}`);
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, price: PriceName) => {
    if (quantity > 0) lines.push({ item, quantity, price, monthlyUsd: quantity * PRICES[price].usd });
  };

  add('KMS customer managed keys', ofType('AWS::KMS::Key').length, 'kmsKeyMonth');
  // The API token the registrations read lives outside the stack, but exists for them.
  const tokens = new Set(resources.filter((r) => r.Properties?.TokenSecretArn).map((r) => r.Properties.TokenSecretArn));
  add('Secrets Manager secret (API token)', tokens.size, 'secretMonth');
  const alarmMetrics = ofType('AWS::CloudWatch::Alarm').map((a) => {
    const p = a.Properties;
    const periods: unknown[] = p.Metrics ? p.Metrics.map((m: any) => m.MetricStat?.Period) : [p.Period];
    if (periods.some((s) => typeof s === 'number' && s < 60)) throw new Error(`${a.id}: high resolution, not priced`);
    return p.Metrics ? p.Metrics.filter((m: any) => m.MetricStat).length : 1;
  });
  add(
    'CloudWatch alarm metrics',
    alarmMetrics.reduce((a, b) => a + b, 0),
    'alarmMetricMonth',
  );
  add('CloudWatch dashboards', ofType('AWS::CloudWatch::Dashboard').length, 'dashboardMonth');

  // A bucket other buckets log to holds access logs; every other bucket holds state, and each of
  // its replication rules keeps a copy in the destination's storage class.
  const buckets = ofType('AWS::S3::Bucket');
  const logTargets = new Set(buckets.map((b) => b.Properties?.LoggingConfiguration?.DestinationBucketName?.Ref));
  const state = buckets.filter((b) => !logTargets.has(b.id));
  const replicas = state.flatMap((b) => b.Properties?.ReplicationConfiguration?.Rules ?? []);
  const ia = replicas.filter((rule: any) => rule.Destination?.StorageClass === 'STANDARD_IA').length;
  add(`S3 Standard: state, ${USAGE.stateGb} GB each`, state.length * USAGE.stateGb, 's3StandardGbMonth');
  const logging = buckets.filter((b) => b.Properties?.LoggingConfiguration).length;
  add(`S3 Standard: access logs, ${USAGE.accessLogsGb} GB each`, logging * USAGE.accessLogsGb, 's3StandardGbMonth');
  add('S3 Standard-IA: state replicas', ia * USAGE.stateGb, 's3StandardIaGbMonth');
  add('S3 Standard: state replicas', (replicas.length - ia) * USAGE.stateGb, 's3StandardGbMonth');

  return { lines, totalUsd: lines.reduce((sum, l) => sum + l.monthlyUsd, 0) };
}

/** Fargate on demand for one job (billed per second, at least one minute). */
export function jobCost(job: { vcpu: number; memoryGb: number; minutes: number } = JOB): number {
  const hours = Math.max(1, job.minutes) / 60;
  return (job.vcpu * PRICES.fargateVcpuHour.usd + job.memoryGb * PRICES.fargateGbHour.usd) * hours;
}
