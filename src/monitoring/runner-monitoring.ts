import { Annotations, ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, IConstruct } from 'constructs';
import { addToKeyPolicy, allowLogsToUseKey, pseudoParameters, readable } from '../encryption/key-policy';
import { EcsRunnerValidationError } from '../errors';
import type { IEcsRunner } from '../i-ecs-runner';
import { tagManagedBy } from '../managed-by';
import { appSingleton, stackSingleton } from '../singletons';
import * as v from '../validation';
import { ALARMS, AlarmContext, DEFAULT_STATE_BUCKET_SIZE_THRESHOLD, stateBucketSizeMetric } from './alarms';

/** CloudWatch namespace of the job metrics. */
const NAMESPACE = 'PlatformOrchestrator/EcsRunner';

/** Construct id of the stack's runner dashboard (a public contract: it decides the logical id). */
const DASHBOARD_ID = 'PlatformOrchestratorRunnersDashboard';

/**
 * Containers of a job whose exit codes the filters inspect (`containers[0]` to `containers[2]`).
 * CloudWatch filter patterns have no "every element" selector, so each index is spelled out.
 */
const MAX_CONTAINERS = 3;

const STOPPED = '$.detail.lastStatus = "STOPPED"';

/** Construct id of the app's monitoring record, a child of the app (synthesizes nothing). */
const MONITORING_RECORD_ID = 'PlatformOrchestratorRunnerMonitoring';

/**
 * What the RunnerMonitorings of an app must agree on, kept in the app's tree (not in module
 * state): the monitored runners (a second monitoring would count every job twice), by construct
 * path, with the path of their monitoring; and the name each stack's runner dashboard was given,
 * by the dashboard's construct path.
 */
class MonitoringRecord extends Construct {
  public readonly monitoringOf = new Map<string, string>();
  public readonly dashboardNameOf = new Map<string, string>();
}

function monitoringRecord(scope: IConstruct): MonitoringRecord {
  return appSingleton(scope, MONITORING_RECORD_ID, MonitoringRecord, (root, id) => new MonitoringRecord(root, id));
}

function containerIndexes(): number[] {
  return Array.from({ length: MAX_CONTAINERS }, (_, i) => i);
}

function reasonPattern(reason: string): string {
  const clauses = [
    `$.detail.stoppedReason = "*${reason}*"`,
    ...containerIndexes().map((i) => `$.detail.containers[${i}].reason = "*${reason}*"`),
  ];
  return `{ ${STOPPED} && (${clauses.join(' || ')}) }`;
}

/**
 * The metric filters on the events log group, by metric name. Each log event is a whole
 * EventBridge `ECS Task State Change` event of a STOPPED task of the runner's cluster, e.g. (from
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html, shortened):
 *
 * ```json
 * { "source": "aws.ecs", "detail-type": "ECS Task State Change",
 *   "detail": { "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/default",
 *     "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
 *     "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
 *     "containers": [ { "name": "runner", "lastStatus": "STOPPED", "exitCode": 1 } ],
 *     "startedAt": "2016-12-06T16:41:06.702Z", "stoppedAt": "2016-12-06T16:42:35.215Z",
 *     "taskArn": "arn:aws:ecs:us-east-1:111122223333:task/default/b99d40b3..." } }
 * ```
 *
 * That event matches JobsStopped and JobsFailed; with `"exitCode": 0` it matches JobsStopped and
 * JobsSucceeded. A task that never started has `"stopCode": "TaskFailedToStart"` and a
 * `stoppedReason` such as `"CannotPullContainerError: pull image manifest has been retried 5
 * time(s): ..."` or `"ResourceInitializationError: unable to pull secrets or registry auth: ..."`
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html);
 * it matches JobsStopped, JobsNotStarted and the reason's metric. (No Spot interruptions: the
 * orchestrator runs every job with `launchType: FARGATE`, on demand.)
 *
 * Not exported: only the construct and its props are public.
 */
const JOB_METRIC_FILTERS: { readonly [metricName: string]: string } = {
  JobsStopped: `{ ${STOPPED} }`,
  JobsSucceeded: `{ ${STOPPED} && $.detail.stopCode = "EssentialContainerExited" && ${[
    '$.detail.containers[0].exitCode = 0',
    ...containerIndexes()
      .slice(1)
      .map((i) => `($.detail.containers[${i}].exitCode = 0 || $.detail.containers[${i}].exitCode NOT EXISTS)`),
  ].join(' && ')} }`,
  JobsFailed: `{ ${STOPPED} && $.detail.stopCode = "EssentialContainerExited" && (${containerIndexes()
    .map((i) => `$.detail.containers[${i}].exitCode > 0`)
    .join(' || ')}) }`,
  JobsNotStarted: `{ ${STOPPED} && $.detail.stopCode = "TaskFailedToStart" }`,
  JobsNotStartedCannotPullContainer: reasonPattern('CannotPullContainerError'),
  JobsNotStartedResourceInitialization: reasonPattern('ResourceInitializationError'),
};

/** Options of {@link RunnerMonitoring}, also accepted by `EcsRunner.addMonitoring`. */
export interface RunnerMonitoringOptions {
  /**
   * The topic the alarms notify (on ALARM and on OK). It must let `cloudwatch.amazonaws.com`
   * publish (topic policy and, when encrypted, the key policy).
   *
   * @default - a new topic, encrypted with `encryptionKey` or with a new customer managed key
   * (CloudWatch cannot publish to a topic encrypted with the AWS managed key `alias/aws/sns`),
   * that refuses publishing without TLS
   */
  readonly topic?: sns.ITopic;

  /**
   * Customer managed key that encrypts the created topic and the events log group. When the key
   * is a `kms.Key` of the same stack, the statements CloudWatch alarms and CloudWatch Logs need
   * are added to its key policy; otherwise a warning lists them and you must add them.
   *
   * @default - the created topic gets its own key; the events log group uses CloudWatch Logs'
   * default encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Email addresses subscribed to the topic. Each must confirm the subscription email.
   *
   * One subscription per address is made at synth time, so an address may be a token (a
   * `CfnParameter`'s `valueAsString`) but the list may not: a list known only at deploy time (a
   * `CommaDelimitedList` parameter, `Fn.split`, `Lazy.list`) is refused. Split it into a known
   * number of addresses with `Fn.split(',', value, count)`.
   *
   * @default - no subscriptions
   */
  readonly alarmEmails?: string[];

  /**
   * Alarm when the state bucket holds more than this many bytes in S3 Standard (daily metric).
   *
   * @default 5368709120 (5 GiB)
   */
  readonly stateBucketSizeThresholdBytes?: number;

  /**
   * Alarm when at least this many jobs fail (a container exits non-zero) within 5 minutes.
   *
   * @default 1
   */
  readonly failedJobsThreshold?: number;

  /**
   * The function behind the runner's registration custom resource, when there is one: its
   * errors raise an alarm.
   *
   * @default - no registration alarm
   */
  readonly registrationFunction?: lambda.IFunction;

  /**
   * Show the runner on the stack's runner dashboard: one CloudWatch dashboard per stack
   * (`PlatformOrchestratorRunnersDashboard`), with a section per monitored runner, created with
   * the first one. A dashboard costs $3 a month, so runners of a stack share one.
   *
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Name of the stack's runner dashboard (letters, digits, `-` and `_`). The monitored runners of
   * a stack share one dashboard: those that set a name must set the same one.
   *
   * @default - generated by CloudFormation
   */
  readonly dashboardName?: string;

  /**
   * Retention of the log group that keeps the runner's stopped-task events.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly eventsLogRetention?: logs.RetentionDays;
}

/** Properties of {@link RunnerMonitoring}. */
export interface RunnerMonitoringProps extends RunnerMonitoringOptions {
  /** The runner to monitor. */
  readonly runner: IEcsRunner;
}

/**
 * Opt-in monitoring of an `EcsRunner` (any `IEcsRunner`): job outcome metrics, alarms to an SNS topic, and a
 * section on the stack's runner dashboard (one dashboard per stack, shared by its monitored
 * runners).
 *
 * An EventBridge rule copies every `ECS Task State Change` event of a STOPPED task on the
 * runner's cluster into a log group; metric filters turn those events into the metrics of
 * `PlatformOrchestrator/EcsRunner` with the dimension `ClusterArn` (metric filters can only take
 * dimension values from the log event, so the cluster, not the runner id, identifies the runner:
 * runners that share a cluster share these metrics; monitor each cluster once).
 *
 * The job duration cannot be a metric filter (a filter cannot subtract `startedAt` from
 * `stoppedAt`); the dashboard shows each stopped job's start and stop times from the events
 * log group, and Container Insights' CPU, memory and task count for the cluster (Container
 * Insights is on for clusters the runner creates).
 *
 * EventBridge writes to the events log group through one CloudWatch Logs resource policy per
 * stack (not the Lambda-backed custom resource of `aws-events-targets.CloudWatchLogGroup`).
 *
 * Tags of the runner (and `Tags.of()` above the monitoring) reach its alarms. CloudFormation
 * refuses an empty tag value on an alarm or a dashboard, though the runner's other resources
 * accept one: such a tag fails synthesis, naming it.
 */
export class RunnerMonitoring extends Construct {
  /** CloudWatch namespace of the job metrics. */
  public static readonly NAMESPACE = NAMESPACE;

  /** Construct id of the stack's runner dashboard, a child of the stack. */
  public static readonly DASHBOARD_ID = DASHBOARD_ID;

  /** Names of the job metrics, for {@link RunnerMonitoring.metric}. */
  public static readonly METRIC_NAMES: string[] = Object.keys(JOB_METRIC_FILTERS);

  /** The topic the alarms notify. */
  public readonly topic: sns.ITopic;
  /** The key of the created topic, when the construct created one. */
  public readonly topicKey?: kms.IKey;
  /** The log group that keeps the stopped-task events of the runner's cluster. */
  public readonly eventsLogGroup: logs.ILogGroup;
  /** The EventBridge rule that sends the stopped-task events to `eventsLogGroup`. */
  public readonly eventsRule: events.Rule;
  /** Every alarm of the construct. */
  public readonly alarms: cloudwatch.Alarm[];
  /** Alarm: at least `failedJobsThreshold` jobs exited non-zero in 5 minutes. */
  public readonly jobsFailedAlarm: cloudwatch.Alarm;
  /** Alarm: a job stopped before its containers started (stopCode TaskFailedToStart). */
  public readonly jobsNotStartedAlarm: cloudwatch.Alarm;
  /** Alarm: the state bucket holds more than `stateBucketSizeThresholdBytes` in S3 Standard. */
  public readonly stateBucketSizeAlarm: cloudwatch.Alarm;
  /** Alarm: the registration function failed; only with `registrationFunction`. */
  public readonly registrationErrorsAlarm?: cloudwatch.Alarm;
  /** The stack's runner dashboard, which holds this runner's section; unless `dashboard` is false. */
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly runner: IEcsRunner;

  constructor(scope: Construct, id: string, props: RunnerMonitoringProps) {
    super(scope, id);
    validateProps(props);
    const monitored = monitoringRecord(props.runner);
    const other = monitored.monitoringOf.get(props.runner.node.path);
    if (other !== undefined) {
      throw new EcsRunnerValidationError(
        'runner',
        props.runner.node.path,
        `a runner that no other RunnerMonitoring monitors (${other} already does: its metrics would count every job twice)`,
      );
    }
    const stack = Stack.of(this);
    // The stack's shared dashboard first: a dashboardName that conflicts fails before anything is created.
    const dashboard = (props.dashboard ?? true) ? stackDashboard(stack, props.dashboardName) : undefined;
    monitored.monitoringOf.set(props.runner.node.path, this.node.path);
    this.runner = props.runner;
    const runnerId = props.runner.runnerId;

    // Topic.
    if (props.topic) {
      this.topic = props.topic;
    } else {
      const created = this.createTopic(props.encryptionKey);
      this.topic = created.topic;
      this.topicKey = created.key;
    }
    for (const email of props.alarmEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    // Stopped-task events to a log group. The name embeds the stack's UUID: stable across
    // updates, unique per stack creation, so a retained group never blocks a redeployment, and
    // known before the group exists (the key policy condition needs its ARN).
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const logGroupName = `/aws/events/platform-orchestrator/${runnerId}/${stackUuid}`;
    const logGroupArnForKms = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    if (props.encryptionKey) {
      allowLogsToUseKey(this, {
        key: props.encryptionKey,
        logGroupArn: logGroupArnForKms,
        sidPrefix: 'AllowCloudWatchLogsForRunnerEventsLogGroup',
        property: 'encryptionKey',
        what: 'the stopped-task events log group',
        warningId: 'monitoringKeyPolicy',
      });
    }
    const logGroup = new logs.LogGroup(this, 'EventsLogGroup', {
      logGroupName,
      retention: props.eventsLogRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.eventsLogGroup = logGroup;
    const eventsPolicy = eventsLogsResourcePolicy(stack);
    this.eventsRule = new events.Rule(this, 'StoppedJobsRule', {
      description: `Stopped tasks of the Platform Orchestrator runner ${runnerId} to its events log group`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.runner.clusterArn],
          lastStatus: ['STOPPED'],
        },
      },
      targets: [{ bind: () => ({ arn: logGroupArnForKms }) }],
    });
    this.eventsRule.node.addDependency(eventsPolicy);

    for (const [metricName, pattern] of Object.entries(JOB_METRIC_FILTERS)) {
      new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: NAMESPACE,
        metricName,
        metricValue: '1',
        unit: cloudwatch.Unit.COUNT,
        dimensions: { ClusterArn: '$.detail.clusterArn' },
      });
    }

    // Alarms: one entry of ALARMS each, in that order.
    const action = new cloudwatchActions.SnsAction(this.topic);
    const sizeThreshold = props.stateBucketSizeThresholdBytes ?? DEFAULT_STATE_BUCKET_SIZE_THRESHOLD;
    const context: AlarmContext = {
      runner: props.runner,
      runnerId,
      jobMetric: (metricName) => this.metric(metricName),
      registrationFunction: props.registrationFunction,
      eventsLogGroupName: logGroup.logGroupName,
      failedJobsThreshold: props.failedJobsThreshold ?? 1,
      sizeThreshold,
    };
    const created: { [id: string]: cloudwatch.Alarm } = {};
    for (const spec of ALARMS) {
      if (spec.when !== undefined && !spec.when(context)) continue;
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmDescription: spec.description(context).join(' '),
        metric: spec.metric(context),
        threshold: spec.threshold(context),
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: spec.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      created[spec.id] = alarm;
    }
    this.alarms = Object.values(created);
    // Tags are applied (by aspects) when the app is synthesized: only then are they known.
    this.node.addValidation({ validate: () => v.emptyTagValueErrors(this.node.findAll()) });
    this.jobsFailedAlarm = created.JobsFailedAlarm;
    this.jobsNotStartedAlarm = created.JobsNotStartedAlarm;
    this.stateBucketSizeAlarm = created.StateBucketSizeAlarm;
    this.registrationErrorsAlarm = created.RegistrationErrorsAlarm;

    if (dashboard) {
      this.addDashboardSection(dashboard, sizeThreshold);
      this.dashboard = dashboard;
    }

    tagManagedBy(this);
  }

  /**
   * A job metric of this runner: namespace `PlatformOrchestrator/EcsRunner`, dimension
   * `ClusterArn`, statistic Sum over 5 minutes unless `props` says otherwise.
   *
   * @param metricName one of {@link RunnerMonitoring.METRIC_NAMES}, e.g. `JobsFailed`
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!(metricName in JOB_METRIC_FILTERS)) {
      throw new EcsRunnerValidationError(
        'metricName',
        metricName,
        `one of ${RunnerMonitoring.METRIC_NAMES.join(', ')}`,
      );
    }
    return new cloudwatch.Metric({
      namespace: NAMESPACE,
      metricName,
      dimensionsMap: { ClusterArn: this.runner.clusterArn },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** A Container Insights metric of the runner's cluster, per minute (Sum unless `statistic` says otherwise). */
  private containerInsightsMetric(
    metricName: string,
    label: string,
    statistic: string = cloudwatch.Stats.SUM,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: this.runner.clusterName },
      statistic,
      period: Duration.minutes(1),
      label,
    });
  }

  /** One of the dashboard's three Container Insights graphs of a row (a third of its width each). */
  private containerInsightsGraph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
  }

  private createTopic(encryptionKey: kms.IKey | undefined): { topic: sns.Topic; key: kms.IKey } {
    const key =
      encryptionKey ??
      new kms.Key(this, 'TopicKey', {
        description: `Encrypts the alarm topic of Platform Orchestrator runner ${this.runner.runnerId}`,
        enableKeyRotation: true,
        // Unlike the runner's key, this one protects no stored data (SNS keeps no messages once
        // delivered): deleted with the stack after 7 days, rather than left behind at $1 a month.
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
    const stack = Stack.of(this);
    const topic = new sns.Topic(this, 'Topic', {
      displayName: `Platform Orchestrator runner ${this.runner.runnerId} alarms`,
      masterKey: key,
      enforceSSL: true,
      signatureVersion: '2',
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.allowOnKey(
      key,
      [
        // The key may be the runner's, which also encrypts the Terraform state: CloudWatch may use
        // it only for messages of this account's topics in this region (SNS encrypts them with the
        // topic's ARN as encryption context; the topic's own ARN would make the key and the topic
        // depend on each other). Nothing of EventBridge publishes to the topic, so it gets nothing.
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublishToTheAlarmTopic',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:sns:topicArn': stack.formatArn({
                service: 'sns',
                resource: '*',
                arnFormat: ArnFormat.NO_RESOURCE_NAME,
              }),
            },
          },
        }),
      ],
      encryptionKey ? 'encryptionKey' : 'topic key',
    );
    return { topic, key };
  }

  /** Add statements to a key's policy when it is a key of this stack; otherwise warn with them. */
  private allowOnKey(key: kms.IKey, statements: iam.PolicyStatement[], property: string): void {
    const missing = addToKeyPolicy(this, key, statements);
    if (missing.length > 0) {
      Annotations.of(this).addWarningV2(
        'platform-orchestrator-ecs-runner:monitoringKeyPolicy',
        `The key policy of ${property} cannot be changed here (imported key or key of another stack): add ${JSON.stringify(
          readable(Stack.of(this).resolve(missing.map((s) => s.toStatementJson())), pseudoParameters(Stack.of(this))),
        )} to it, or CloudWatch alarms cannot use it.`,
      );
    }
  }

  /** Adds the runner's section (rows of widgets) to the stack's runner dashboard. */
  private addDashboardSection(dashboard: cloudwatch.Dashboard, sizeThreshold: number): void {
    const runner = this.runner;
    const sum5m = (name: string, label: string) => this.metric(name, { label });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# Platform Orchestrator runner ${runner.runnerId}`,
          `Cluster **${runner.clusterName}** · state bucket **${runner.stateBucket.bucketName}** · job logs in the orchestrator · stopped-task events **${this.eventsLogGroup.logGroupName}**`,
        ].join('\n\n'),
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs by outcome (5 minutes)',
        left: [
          new cloudwatch.MathExpression({
            expression: 'FILL(stopped, 0) - FILL(notStarted, 0)',
            usingMetrics: {
              stopped: sum5m('JobsStopped', 'stopped'),
              notStarted: sum5m('JobsNotStarted', 'not started'),
            },
            label: 'started',
            period: Duration.minutes(5),
          }),
          sum5m('JobsSucceeded', 'succeeded'),
          sum5m('JobsFailed', 'failed (non-zero exit)'),
          sum5m('JobsNotStarted', 'not started'),
        ],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Jobs not started, by reason (5 minutes)',
        left: [
          sum5m('JobsNotStarted', 'TaskFailedToStart (all)'),
          sum5m('JobsNotStartedCannotPullContainer', 'CannotPullContainerError'),
          sum5m('JobsNotStartedResourceInitialization', 'ResourceInitializationError'),
        ],
        width: 12,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      this.containerInsightsGraph('CPU units (Container Insights)', [
        this.containerInsightsMetric('CpuUtilized', 'utilized'),
        this.containerInsightsMetric('CpuReserved', 'reserved'),
      ]),
      this.containerInsightsGraph('Memory MiB (Container Insights)', [
        this.containerInsightsMetric('MemoryUtilized', 'utilized'),
        this.containerInsightsMetric('MemoryReserved', 'reserved'),
      ]),
      this.containerInsightsGraph('Running jobs (Container Insights)', [
        this.containerInsightsMetric('TaskCount', 'tasks', cloudwatch.Stats.MAXIMUM),
      ]),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'State bucket size (bytes, daily)',
        left: [
          stateBucketSizeMetric(this.runner, 'StandardStorage', 'S3 Standard'),
          stateBucketSizeMetric(this.runner, 'StandardIAStorage', 'S3 Standard-IA (noncurrent versions)'),
        ],
        leftAnnotations: [{ value: sizeThreshold, label: 'alarm threshold' }],
        width: 8,
        height: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Latest stopped jobs (duration = stoppedAt - startedAt)',
        logGroupNames: [this.eventsLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, detail.taskArn, detail.stopCode, detail.containers.0.exitCode, detail.startedAt, detail.stoppedAt, detail.stoppedReason',
          'sort @timestamp desc',
          'limit 50',
        ],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 16,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
  }
}

/** The accepted form of `alarmEmails`, for its errors. */
const ALARM_EMAILS_FORM =
  'a list of email addresses, one subscription each, made at synth time; an element may be a token (e.g. a CfnParameter\'s valueAsString), but not the list: for a list known only at deploy time, split it into a known number of addresses with Fn.split(",", value, count)';

function validateProps(props: RunnerMonitoringProps): void {
  if (props.runner === undefined || props.runner === null) {
    throw new EcsRunnerValidationError('runner', props.runner, 'the EcsRunner to monitor');
  }
  // Every option's type first (callers without a compiler): the library's error, not CloudFormation's at synth.
  v.checkShapes(props as unknown as Record<string, unknown>, OPTION_KINDS);
  v.checkIntegerRange('failedJobsThreshold', props.failedJobsThreshold, 1, 1000);
  const size = props.stateBucketSizeThresholdBytes;
  if (size !== undefined && !Token.isUnresolved(size) && (!Number.isSafeInteger(size) || size < 1)) {
    throw new EcsRunnerValidationError(
      'stateBucketSizeThresholdBytes',
      size,
      'a whole number of bytes of at least 1, e.g. 5368709120 for 5 GiB',
    );
  }
  const emails = props.alarmEmails;
  if (emails !== undefined) {
    // One subscription per address, made at synth time: a list known only at deploy time (a
    // CommaDelimitedList parameter's valueAsList, Fn.split, Lazy.list: one encoded element, which
    // Token.isUnresolved of the list detects) cannot be iterated; its elements can be tokens.
    if (v.unresolved(emails) || !Array.isArray(emails)) {
      throw new EcsRunnerValidationError(
        'alarmEmails',
        v.unresolved(emails) ? 'a list token' : emails,
        ALARM_EMAILS_FORM,
      );
    }
    if (emails.length === 0) {
      throw new EcsRunnerValidationError(
        'alarmEmails',
        emails,
        'at least one email address (omit alarmEmails for no subscriptions)',
      );
    }
    const seen = new Set<string>();
    for (const [i, email] of emails.entries()) {
      if (v.unresolved([email])) {
        // A list token spread into the list (`[...Fn.split(',', x)]`) is one element for a list.
        throw new EcsRunnerValidationError(
          `alarmEmails[${i}]`,
          'a list token',
          'one email address (a string, or a string token such as Fn.select(0, list)), not a list spread into alarmEmails: split a list known only at deploy time into a known number of addresses with Fn.split(",", value, count)',
        );
      }
      v.checkPattern(
        `alarmEmails[${i}]`,
        email,
        /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
        'an email address such as "ops@example.com"',
      );
      if (!Token.isUnresolved(email)) {
        const normalized = email.toLowerCase();
        if (seen.has(normalized)) {
          throw new EcsRunnerValidationError(`alarmEmails[${i}]`, email, 'an address that is not already in the list');
        }
        seen.add(normalized);
      }
    }
  }
  if (props.dashboard === false && props.dashboardName !== undefined) {
    throw new EcsRunnerValidationError(
      'dashboardName',
      props.dashboardName,
      'no dashboardName when dashboard is false',
    );
  }
  v.checkPattern(
    'dashboardName',
    props.dashboardName,
    /^[A-Za-z0-9_-]{1,255}$/,
    '1 to 255 letters, digits, "-" or "_", e.g. "prod-runner"',
  );
  v.checkLogRetention('eventsLogRetention', props.eventsLogRetention);
}

/**
 * The stack's one dashboard of every monitored runner, created on first use. A RunnerMonitoring
 * that sets `dashboardName` names it; two that set different names are refused, whatever their
 * order (tokens compare by their string form).
 */
function stackDashboard(stack: Stack, dashboardName: string | undefined): cloudwatch.Dashboard {
  const dashboard = stackSingleton(stack, DASHBOARD_ID, cloudwatch.Dashboard, (parent, id) => {
    const created = new cloudwatch.Dashboard(parent, id, { defaultInterval: Duration.days(7) });
    created.node.addValidation({ validate: () => v.emptyTagValueErrors(created.node.findAll()) });
    return created;
  });
  if (dashboardName !== undefined) {
    const names = monitoringRecord(stack).dashboardNameOf;
    const named = names.get(dashboard.node.path);
    if (named !== undefined && named !== dashboardName) {
      throw new EcsRunnerValidationError(
        'dashboardName',
        dashboardName,
        `"${named}", the name another RunnerMonitoring of this stack gave the stack's runner dashboard (monitored runners of a stack share one dashboard), or no dashboardName`,
      );
    }
    names.set(dashboard.node.path, dashboardName);
    (dashboard.node.defaultChild as cloudwatch.CfnDashboard).dashboardName = dashboardName;
  }
  return dashboard;
}

/**
 * The stack's one CloudWatch Logs resource policy that lets EventBridge write to the events log
 * groups of every monitored runner (`/aws/events/platform-orchestrator/*`). CloudWatch Logs allows
 * 10 resource policies per account and region, so one per runner would cap monitored runners.
 */
function eventsLogsResourcePolicy(stack: Stack): logs.ResourcePolicy {
  return stackSingleton(
    stack,
    'PlatformOrchestratorRunnerEventsLogsPolicy',
    logs.ResourcePolicy,
    (parent, id) =>
      new logs.ResourcePolicy(parent, id, {
        policyStatements: [
          new iam.PolicyStatement({
            sid: 'EventBridgeToRunnerEventsLogGroups',
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resources: [
              stack.formatArn({
                service: 'logs',
                resource: 'log-group',
                resourceName: '/aws/events/platform-orchestrator/*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            ],
          }),
        ],
      }),
  );
}

/** The kind of every option of {@link RunnerMonitoringOptions}, for {@link v.checkShapes}. */
const OPTION_KINDS: Record<keyof RunnerMonitoringOptions, v.PropKind> = {
  topic: { construct: 'an sns.ITopic', has: ['topicArn', 'addSubscription'] },
  encryptionKey: { construct: 'a kms.IKey', has: ['keyArn'] },
  alarmEmails: 'string[]',
  stateBucketSizeThresholdBytes: 'number',
  failedJobsThreshold: 'number',
  registrationFunction: { construct: 'a lambda.IFunction', has: ['functionName'] },
  dashboard: 'boolean',
  dashboardName: 'string',
  eventsLogRetention: 'number',
};
