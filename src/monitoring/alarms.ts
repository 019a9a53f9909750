/**
 * The alarms of RunnerMonitoring as a table: one entry per alarm. Construct code, not exported
 * from the package (RunnerMonitoring's fields are the public face of the alarms).
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IEcsRunner } from '../i-ecs-runner';

/** Default of `stateBucketSizeThresholdBytes`: 5 GiB. */
export const DEFAULT_STATE_BUCKET_SIZE_THRESHOLD = 5 * 1024 ** 3;

/** What an alarm entry may read: the runner and the monitoring's resolved settings. */
export interface AlarmContext {
  readonly runner: IEcsRunner;
  readonly runnerId: string;
  /** A job metric of the runner (see `RunnerMonitoring.metric`), Sum over 5 minutes. */
  readonly jobMetric: (metricName: string) => cloudwatch.IMetric;
  readonly registrationFunction?: lambda.IFunction;
  readonly eventsLogGroupName: string;
  readonly failedJobsThreshold: number;
  readonly sizeThreshold: number;
}

/**
 * One alarm of {@link RunnerMonitoring}. Every alarm evaluates one period, alarms on one
 * breaching datapoint, treats missing data as not breaching and notifies the topic on ALARM and OK.
 */
export interface AlarmSpec {
  /** Construct id (a public contract: it decides the logical id). */
  readonly id: string;
  /** Only create the alarm when this holds. @default - always */
  readonly when?: (c: AlarmContext) => boolean;
  readonly metric: (c: AlarmContext) => cloudwatch.IMetric;
  readonly threshold: (c: AlarmContext) => number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /** Sentences of the alarm description (joined with spaces): what happened, what to check first, common causes. */
  readonly description: (c: AlarmContext) => string[];
}

/**
 * The alarms of a RunnerMonitoring, in creation order. A new alarm is one entry here (and, when
 * users should reach it by name, a `public readonly` field of RunnerMonitoring); its test goes in
 * test/monitoring/runner-monitoring.test.ts.
 */
export const ALARMS: readonly AlarmSpec[] = [
  {
    id: 'JobsFailedAlarm',
    metric: (c) => c.jobMetric('JobsFailed'),
    threshold: (c) => c.failedJobsThreshold,
    description: (c) => [
      `${Token.isUnresolved(c.failedJobsThreshold) ? 'failedJobsThreshold' : c.failedJobsThreshold} or more jobs of Platform Orchestrator runner ${c.runnerId} exited with a non-zero code within 5 minutes.`,
      "Check first: the failed deployment's logs in the orchestrator (jobs stream their logs to it, not to CloudWatch Logs);",
      `the stopped-task events, with exit codes and task ids, are in ${c.eventsLogGroupName}.`,
      'Common causes: Terraform plan or apply errors, missing permissions of the task role, a state lock held by another job.',
    ],
  },
  {
    id: 'JobsNotStartedAlarm',
    metric: (c) => c.jobMetric('JobsNotStarted'),
    threshold: () => 1,
    description: (c) => [
      `A job of Platform Orchestrator runner ${c.runnerId} stopped before its containers started (stopCode TaskFailedToStart).`,
      `Check first: detail.stoppedReason of the event in ${c.eventsLogGroupName} (the dashboard splits the reasons).`,
      'CannotPullContainerError: the image is unreachable (wrong image, no NAT or ECR/S3 VPC endpoints, execution role cannot pull).',
      'ResourceInitializationError: secrets or SSM parameters are unreachable (execution role, KMS key policy, VPC endpoints).',
      'Otherwise: subnets without free IP addresses, Fargate capacity or quotas.',
    ],
  },
  {
    id: 'StateBucketSizeAlarm',
    metric: (c) => stateBucketSizeMetric(c.runner, 'StandardStorage'),
    threshold: (c) => c.sizeThreshold,
    comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    description: (c) => {
      const bucketName = c.runner.stateBucket.bucketName;
      return [
        `The Terraform state bucket ${bucketName} of Platform Orchestrator runner ${c.runnerId} holds more than ${describeBytes(c.sizeThreshold)} in S3 Standard (daily S3 storage metric).`,
        `Check first: aws s3 ls s3://${bucketName} --recursive --summarize, and S3 Storage Lens for noncurrent versions.`,
        'Common causes: noncurrent state versions piling up (check the lifecycle rules), states embedding large data (rendered files, archives), leftover environments.',
        'Raise stateBucketSizeThresholdBytes if the growth is expected.',
      ];
    },
  },
  {
    id: 'RegistrationErrorsAlarm',
    when: (c) => c.registrationFunction !== undefined,
    metric: (c) =>
      c.registrationFunction!.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    threshold: () => 1,
    description: (c) => [
      `The registration function ${c.registrationFunction!.functionName} of Platform Orchestrator runner ${c.runnerId} failed at least once within 5 minutes:`,
      'the orchestrator may not have the runner as deployed.',
      "Check first: the function's log group (its logging configuration; the EcsRunner registration handler logs to /platform-orchestrator/registration/<stack UUID>/handler) for the API response",
      '(401 or 403: the API token; 404: the organization; 409: runner id taken or runner still in use; 400: body rejected), and the CloudFormation stack events.',
    ],
  },
];

/** The state bucket's daily size metric of one storage class (namespace AWS/S3). */
export function stateBucketSizeMetric(runner: IEcsRunner, storageType: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/S3',
    metricName: 'BucketSizeBytes',
    dimensionsMap: { BucketName: runner.stateBucket.bucketName, StorageType: storageType },
    statistic: cloudwatch.Stats.AVERAGE,
    period: Duration.days(1),
    label,
  });
}

function describeBytes(bytes: number): string {
  if (Token.isUnresolved(bytes)) return 'the threshold';
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${bytes} bytes`;
}
