/**
 * us-east-1 list prices the cost model applies, each with where it was read and when.
 *
 * List prices, check before budgeting: AWS changes prices, other regions differ (often by
 * 10-30 %), and account-wide free tiers (10 alarm metrics, 3 dashboards, 5 GB of logs, 20,000
 * KMS requests) are not applied. Each `source` is the AWS pricing page; `crossCheck` is a
 * public page quoting the same us-east-1 number, used because the AWS pages render their
 * tables with JavaScript. `retrieved` is the day the numbers were looked up (from stored
 * copies of the pages).
 */

/** One price. */
export interface Price {
  /** US dollars per `unit`. */
  readonly usd: number;
  /** What one unit is, e.g. 'key-month'. */
  readonly unit: string;
  /** What is charged. */
  readonly description: string;
  /** The AWS pricing page. */
  readonly source: string;
  /** A public page quoting the same us-east-1 price. */
  readonly crossCheck?: string;
  /** ISO date the price was looked up. */
  readonly retrieved: string;
  /** Caveats. */
  readonly note?: string;
}

const RETRIEVED = '2026-11-22';

export const PRICE_REGION = 'us-east-1';
export const PRICE_DISCLAIMER = 'List prices, check before budgeting.';
/** Hours in an average month, as AWS's calculator uses. */
export const HOURS_PER_MONTH = 730;

export const PRICES = {
  kmsKeyMonth: {
    usd: 1.0,
    unit: 'key-month',
    description: 'AWS KMS customer managed key',
    source: 'https://aws.amazon.com/kms/pricing/',
    crossCheck: 'https://www.wring.co/blog/aws-kms-pricing-guide',
    retrieved: RETRIEVED,
    note: 'With automatic rotation each new backing key adds $1/month (capped at the second rotation), so a rotated key costs $1 in year 1, $2 in year 2, $3 after.',
  },
  kmsRequests10k: {
    usd: 0.03,
    unit: '10,000 requests',
    description: 'AWS KMS symmetric key requests (20,000/month free per account)',
    source: 'https://aws.amazon.com/kms/pricing/',
    crossCheck: 'https://www.wring.co/blog/aws-kms-pricing-guide',
    retrieved: RETRIEVED,
  },
  secretMonth: {
    usd: 0.4,
    unit: 'secret-month',
    description: 'AWS Secrets Manager secret',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    crossCheck: 'https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms',
    retrieved: RETRIEVED,
  },
  secretsApi10k: {
    usd: 0.05,
    unit: '10,000 API calls',
    description: 'AWS Secrets Manager API calls',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    crossCheck: 'https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms',
    retrieved: RETRIEVED,
  },
  alarmMetricMonth: {
    usd: 0.1,
    unit: 'alarm metric-month',
    description: 'CloudWatch standard-resolution metric alarm (10 alarm metrics/month free per account)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm',
    retrieved: RETRIEVED,
  },
  highResolutionAlarmMetricMonth: {
    usd: 0.3,
    unit: 'alarm metric-month',
    description: 'CloudWatch high-resolution (10 s) metric alarm',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm',
    retrieved: RETRIEVED,
  },
  dashboardMonth: {
    usd: 3.0,
    unit: 'dashboard-month',
    description: 'CloudWatch custom dashboard (3 dashboards of up to 50 metrics free per account)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/',
    retrieved: RETRIEVED,
  },
  customMetricMonth: {
    usd: 0.3,
    unit: 'metric-month',
    description: 'CloudWatch custom metric, first 10,000 (billed only in months the metric is published)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://signoz.io/guides/cloudwatch-pricing',
    retrieved: RETRIEVED,
  },
  logsIngestionGb: {
    usd: 0.5,
    unit: 'GB ingested',
    description: 'CloudWatch Logs ingestion, Standard log class',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://c3x.dev/blog/cloudwatch-logs-cost-optimization',
    retrieved: RETRIEVED,
  },
  logsStorageGbMonth: {
    usd: 0.03,
    unit: 'GB-month',
    description: 'CloudWatch Logs storage (archive)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    crossCheck: 'https://c3x.dev/blog/cloudwatch-logs-cost-optimization',
    retrieved: RETRIEVED,
  },
  interfaceEndpointAzHour: {
    usd: 0.01,
    unit: 'endpoint-AZ-hour',
    description: 'VPC interface endpoint (AWS PrivateLink), per Availability Zone',
    source: 'https://aws.amazon.com/privatelink/pricing/',
    crossCheck: 'https://awsnegotiations.com/privatelink-cost-analysis.html',
    retrieved: RETRIEVED,
  },
  interfaceEndpointDataGb: {
    usd: 0.01,
    unit: 'GB processed',
    description: 'VPC interface endpoint data processing (first 1 PB/month)',
    source: 'https://aws.amazon.com/privatelink/pricing/',
    crossCheck: 'https://awsnegotiations.com/privatelink-cost-analysis.html',
    retrieved: RETRIEVED,
  },
  s3StandardGbMonth: {
    usd: 0.023,
    unit: 'GB-month',
    description: 'S3 Standard storage, first 50 TB/month',
    source: 'https://aws.amazon.com/s3/pricing/',
    crossCheck: 'https://deepeshsoni.com/archives/256',
    retrieved: RETRIEVED,
  },
  s3StandardIaGbMonth: {
    usd: 0.0125,
    unit: 'GB-month',
    description: 'S3 Standard-Infrequent Access storage (noncurrent state versions, replicas)',
    source: 'https://aws.amazon.com/s3/pricing/',
    retrieved: RETRIEVED,
  },
  fargateVcpuHour: {
    usd: 0.04048,
    unit: 'vCPU-hour',
    description: 'Fargate on-demand, Linux/x86, per second with a 1-minute minimum',
    source: 'https://aws.amazon.com/fargate/pricing/',
    crossCheck: 'https://www.vantage.sh/blog/fargate-pricing',
    retrieved: RETRIEVED,
  },
  fargateGbHour: {
    usd: 0.004445,
    unit: 'GB-hour',
    description: 'Fargate on-demand memory, Linux/x86',
    source: 'https://aws.amazon.com/fargate/pricing/',
    crossCheck: 'https://www.vantage.sh/blog/fargate-pricing',
    retrieved: RETRIEVED,
  },
} as const satisfies Record<string, Price>;

export type PriceTable = { readonly [K in keyof typeof PRICES]: Price };
