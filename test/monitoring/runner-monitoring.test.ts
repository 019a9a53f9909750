import { App, CfnParameter, Fn, Lazy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsRunner, MANAGED_BY } from '../../src/ecs-runner';
import { RunnerMonitoring, RunnerMonitoringProps } from '../../src/monitoring/runner-monitoring';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { expectValidationError } from '../support/validation';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';

interface Fixture {
  readonly stack: Stack;
  readonly runner: EcsRunner;
}

function fixture(tags?: Record<string, string>): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const runner = new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    runnerId: 'prod-runner',
    network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0'], { vpc }),
    tags,
  });
  return { stack, runner };
}

function monitor(props: Partial<RunnerMonitoringProps> = {}): {
  stack: Stack;
  runner: EcsRunner;
  monitoring: RunnerMonitoring;
  template: Template;
} {
  const { stack, runner } = fixture();
  const monitoring = new RunnerMonitoring(stack, 'Monitoring', { runner, ...props });
  return { stack, runner, monitoring, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

/** The SNS topics of the fixture's account and region: what CloudWatch may use a key for. */
const TOPICS_OF_THIS_ACCOUNT = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sns:${REGION}:${ACCOUNT}:*`]] };

const STOPPED = '$.detail.lastStatus = \\"STOPPED\\"'.replace(/\\"/g, '"');

/**
 * The exact filter patterns. CloudWatch filter patterns cannot run offline; the sample event each
 * matches (from the ECS task state change documentation) is in the comment of JOB_METRIC_FILTERS.
 */
const EXPECTED_PATTERNS: Record<string, string> = {
  // matches every stopped-task event of the cluster
  JobsStopped: `{ ${STOPPED} }`,
  // matches stopCode EssentialContainerExited with containers[0].exitCode 0 (and 0 or no other containers)
  JobsSucceeded:
    `{ ${STOPPED} && $.detail.stopCode = "EssentialContainerExited" && $.detail.containers[0].exitCode = 0` +
    ' && ($.detail.containers[1].exitCode = 0 || $.detail.containers[1].exitCode NOT EXISTS)' +
    ' && ($.detail.containers[2].exitCode = 0 || $.detail.containers[2].exitCode NOT EXISTS) }',
  // matches stopCode EssentialContainerExited with "exitCode": 1 in a container
  JobsFailed:
    `{ ${STOPPED} && $.detail.stopCode = "EssentialContainerExited" && ($.detail.containers[0].exitCode > 0` +
    ' || $.detail.containers[1].exitCode > 0 || $.detail.containers[2].exitCode > 0) }',
  // matches "stopCode": "TaskFailedToStart"
  JobsNotStarted: `{ ${STOPPED} && $.detail.stopCode = "TaskFailedToStart" }`,
  // matches "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): ..."
  JobsNotStartedCannotPullContainer:
    `{ ${STOPPED} && ($.detail.stoppedReason = "*CannotPullContainerError*"` +
    ' || $.detail.containers[0].reason = "*CannotPullContainerError*"' +
    ' || $.detail.containers[1].reason = "*CannotPullContainerError*"' +
    ' || $.detail.containers[2].reason = "*CannotPullContainerError*") }',
  // matches "stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth: ..."
  JobsNotStartedResourceInitialization:
    `{ ${STOPPED} && ($.detail.stoppedReason = "*ResourceInitializationError*"` +
    ' || $.detail.containers[0].reason = "*ResourceInitializationError*"' +
    ' || $.detail.containers[1].reason = "*ResourceInitializationError*"' +
    ' || $.detail.containers[2].reason = "*ResourceInitializationError*") }',
};

describe('RunnerMonitoring', () => {
  describe('stopped-task events', () => {
    test('the rule sends STOPPED task events of the runner cluster only to the events log group', () => {
      // GIVEN a runner WHEN it is monitored
      const { stack, runner, monitoring, template } = monitor();

      // THEN the rule filters the runner's cluster and the STOPPED status
      const clusterArn = stack.resolve(runner.clusterArn);
      template.resourceCountIs('AWS::Events::Rule', 1);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecs'],
          'detail-type': ['ECS Task State Change'],
          detail: { clusterArn: [clusterArn], lastStatus: ['STOPPED'] },
        },
        State: 'ENABLED',
        Targets: [
          {
            Arn: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  Match.stringLikeRegexp(
                    `:logs:${REGION}:${ACCOUNT}:log-group:/aws/events/platform-orchestrator/prod-runner/$`,
                  ),
                ]),
              ],
            },
            Id: Match.anyValue(),
          },
        ],
      });
      // AND the target has no role (CloudWatch Logs targets use the resource policy)
      const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
      expect(rule.Properties.Targets[0].RoleArn).toBeUndefined();
      expect(monitoring.eventsRule).toBeDefined();
    });

    test('the events log group is retained, kept a year, and named after the runner and the stack', () => {
      // GIVEN / WHEN
      const { template } = monitor();

      // THEN
      template.hasResource('AWS::Logs::LogGroup', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          RetentionInDays: 365,
          LogGroupName: {
            'Fn::Join': [
              '',
              [
                '/aws/events/platform-orchestrator/prod-runner/',
                { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
              ],
            ],
          },
        },
      });
    });

    test('eventsLogRetention sets the retention', () => {
      // GIVEN / WHEN
      const { template } = monitor({ eventsLogRetention: logs.RetentionDays.THREE_MONTHS });

      // THEN
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        RetentionInDays: 90,
      });
    });

    test('a native CloudWatch Logs resource policy lets EventBridge write, with no custom resource', () => {
      // GIVEN / WHEN
      const { stack, monitoring, template } = monitor();

      // THEN
      template.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
      const policy = Object.values(template.findResources('AWS::Logs::ResourcePolicy'))[0];
      const document = JSON.stringify(policy.Properties.PolicyDocument);
      expect(document).toContain('events.amazonaws.com');
      expect(document).toContain('logs:CreateLogStream');
      expect(document).toContain('logs:PutLogEvents');
      // The policy covers every runner's events log group, so one serves the whole stack.
      expect(document).toContain(':log-group:/aws/events/platform-orchestrator/*');
      const groupId = logicalId(stack, monitoring.eventsLogGroup as logs.LogGroup);
      expect(JSON.stringify(template.toJSON().Resources[groupId].Properties.LogGroupName)).toContain(
        '/aws/events/platform-orchestrator/',
      );
      template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
      template.resourceCountIs('AWS::Lambda::Function', 0);
      // AND the rule is created after the policy
      const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
      expect(rule.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/^PlatformOrchestratorRunnerEventsLogsPolicy/)]),
      );
    });

    test('monitored runners of one stack share one resource policy (10 per account and region)', () => {
      // GIVEN
      const stack = new Stack(new App(), 'Two', { env: { account: '123456789012', region: 'eu-central-1' } });
      const a = new EcsRunner(stack, 'A', {
        orgId: 'my-org',
        network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      });
      const b = new EcsRunner(stack, 'B', {
        orgId: 'my-org',
        network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      });
      // WHEN
      new RunnerMonitoring(stack, 'MonA', { runner: a });
      new RunnerMonitoring(stack, 'MonB', { runner: b });
      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
      template.resourceCountIs('AWS::Events::Rule', 2);
    });

    test('every metric filter has its exact pattern, the namespace and the ClusterArn dimension', () => {
      // GIVEN / WHEN
      const { stack, monitoring, template } = monitor();

      // THEN
      const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
      expect(filters).toHaveLength(Object.keys(EXPECTED_PATTERNS).length);
      for (const [metricName, pattern] of Object.entries(EXPECTED_PATTERNS)) {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          FilterPattern: pattern,
          LogGroupName: { Ref: logicalId(stack, monitoring.eventsLogGroup as logs.LogGroup) },
          MetricTransformations: [
            {
              MetricName: metricName,
              MetricNamespace: 'PlatformOrchestrator/EcsRunner',
              MetricValue: '1',
              Unit: 'Count',
              Dimensions: [{ Key: 'ClusterArn', Value: '$.detail.clusterArn' }],
            },
          ],
        });
      }
      expect(RunnerMonitoring.METRIC_NAMES).toEqual(Object.keys(EXPECTED_PATTERNS));
    });
  });

  describe('alarms', () => {
    test('three alarms by default, each notifying the topic on ALARM and OK, missing data not breaching', () => {
      // GIVEN / WHEN
      const { stack, monitoring, template } = monitor();

      // THEN
      template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
      expect(monitoring.alarms).toHaveLength(3);
      const topicRef = stack.resolve(monitoring.topic.topicArn);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
        expect(alarm.Properties.OKActions).toEqual([topicRef]);
        expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
        expect(alarm.Properties.EvaluationPeriods).toBe(1);
        // descriptions say what to check first, concretely
        const description = JSON.stringify(alarm.Properties.AlarmDescription);
        expect(description).toContain('prod-runner');
        expect(description).toContain('Check first');
        expect(description.length).toBeGreaterThan(200);
        // CloudWatch accepts at most 1024 characters (references resolve to names of ~100)
        expect(description.length).toBeLessThan(900);
      }
    });

    test('failed jobs: JobsFailed Sum over 5 minutes >= failedJobsThreshold', () => {
      // GIVEN / WHEN
      const { stack, runner, monitoring, template } = monitor({ failedJobsThreshold: 3 });

      // THEN
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'PlatformOrchestrator/EcsRunner',
        MetricName: 'JobsFailed',
        Dimensions: [{ Name: 'ClusterArn', Value: stack.resolve(runner.clusterArn) }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        DatapointsToAlarm: 1,
        AlarmDescription: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^3 or more jobs')])],
        }),
      });
      expect(monitoring.jobsFailedAlarm).toBe(monitoring.alarms[0]);
    });

    test('jobs that never started: JobsNotStarted (stopCode TaskFailedToStart) >= 1', () => {
      // GIVEN / WHEN
      const { stack, runner, template } = monitor();

      // THEN
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'JobsNotStarted',
        Namespace: 'PlatformOrchestrator/EcsRunner',
        Dimensions: [{ Name: 'ClusterArn', Value: stack.resolve(runner.clusterArn) }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmDescription: Match.objectLike({
          'Fn::Join': [
            '',
            Match.arrayWith([Match.stringLikeRegexp('CannotPullContainerError.*ResourceInitializationError')]),
          ],
        }),
      });
    });

    test('no Spot interruption alarm or metric: the orchestrator runs every job on demand (launchType FARGATE)', () => {
      // GIVEN / WHEN
      const { template } = monitor();
      // THEN
      expect(JSON.stringify(template.toJSON())).not.toMatch(/Spot/);
    });

    test('state bucket size: BucketSizeBytes StandardStorage, daily, > 5 GiB by default', () => {
      // GIVEN / WHEN
      const { stack, runner, template } = monitor();

      // THEN
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/S3',
        MetricName: 'BucketSizeBytes',
        Dimensions: Match.arrayEquals([
          { Name: 'BucketName', Value: stack.resolve(runner.stateBucket.bucketName) },
          { Name: 'StorageType', Value: 'StandardStorage' },
        ]),
        Statistic: 'Average',
        Period: 86400,
        Threshold: 5 * 1024 ** 3,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmDescription: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('holds more than 5 GiB')])],
        }),
      });
    });

    test('stateBucketSizeThresholdBytes sets the threshold', () => {
      // GIVEN / WHEN
      const { template } = monitor({ stateBucketSizeThresholdBytes: 1024 ** 3 / 2 });

      // THEN
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'BucketSizeBytes',
        Threshold: 536870912,
        AlarmDescription: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('holds more than 536870912 bytes')])],
        }),
      });
    });

    test('with registrationFunction: an alarm on its Errors metric', () => {
      // GIVEN a registration function
      const { stack, runner } = fixture();
      const fn = lambda.Function.fromFunctionName(stack, 'RegistrationFunction', 'prod-runner-registration');

      // WHEN
      const monitoring = new RunnerMonitoring(stack, 'Monitoring', { runner, registrationFunction: fn });

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(fn.functionName) }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.objectLike({
          'Fn::Join': [
            '',
            Match.arrayWith([
              Match.stringLikeRegexp(
                'logs to /platform-orchestrator/registration/<stack UUID>/handler\\) for the API response.*409',
              ),
            ]),
          ],
        }),
      });
      expect(monitoring.registrationErrorsAlarm).toBeDefined();
      expect(monitoring.alarms).toContain(monitoring.registrationErrorsAlarm);
    });

    test('without registrationFunction: no registration alarm', () => {
      // GIVEN / WHEN
      const { monitoring, template } = monitor();

      // THEN
      expect(monitoring.registrationErrorsAlarm).toBeUndefined();
      template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda' }, 0);
    });
  });

  describe('topic', () => {
    test('the created topic is encrypted with its own rotating key and refuses publishing without TLS', () => {
      // GIVEN / WHEN
      const { stack, monitoring, template } = monitor();

      // THEN the topic uses the created key
      expect(monitoring.topicKey).toBeDefined();
      const keyId = logicalId(stack, monitoring.topicKey as kms.Key);
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        SignatureVersion: '2',
      });
      template.hasResource('AWS::KMS::Key', {
        Properties: {
          EnableKeyRotation: true,
          Description: Match.stringLikeRegexp('alarm topic of Platform Orchestrator runner prod-runner'),
        },
      });
      // AND the topic policy denies publishing without TLS and admits this account's alarms
      const topicRef = stack.resolve(monitoring.topic.topicArn);
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowPublishThroughSSLOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topicRef,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: {
                StringEquals: { 'aws:SourceAccount': ACCOUNT },
                ArnLike: { 'aws:SourceArn': Match.anyValue() },
              },
            }),
          ]),
        },
      });
      // AND the key lets CloudWatch alarms publish to this encrypted topic, and only to it
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToPublishToTheAlarmTopic',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: { ArnLike: { 'kms:EncryptionContext:aws:sns:topicArn': TOPICS_OF_THIS_ACCOUNT } },
            },
          ]),
        },
      });
    });

    test('alarmEmails subscribe email addresses', () => {
      // GIVEN / WHEN
      const { stack, monitoring, template } = monitor({ alarmEmails: ['ops@example.com', 'oncall@example.com'] });

      // THEN
      template.resourceCountIs('AWS::SNS::Subscription', 2);
      for (const email of ['ops@example.com', 'oncall@example.com']) {
        template.hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'email',
          Endpoint: email,
          TopicArn: stack.resolve(monitoring.topic.topicArn),
        });
      }
    });

    test('a given topic is used as is: no topic, no key, subscriptions on it', () => {
      // GIVEN an existing topic
      const { stack, runner } = fixture();
      const topic = sns.Topic.fromTopicArn(stack, 'Existing', `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`);

      // WHEN
      const monitoring = new RunnerMonitoring(stack, 'Monitoring', { runner, topic, alarmEmails: ['ops@example.com'] });

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::SNS::Topic', 0);
      template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
      template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('alarm topic') }, 0);
      expect(monitoring.topic).toBe(topic);
      expect(monitoring.topicKey).toBeUndefined();
      template.hasResourceProperties('AWS::SNS::Subscription', {
        TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:ops-alarms`],
      });
    });
  });

  describe('with a customer managed key', () => {
    test('a key of the same stack encrypts topic and log group, and its policy admits the services', () => {
      // GIVEN a key in the runner's stack
      const { stack, runner } = fixture();
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

      // WHEN
      const monitoring = new RunnerMonitoring(stack, 'Monitoring', { runner, encryptionKey: key });

      // THEN topic and log group use the key, and no other key is created
      const template = Template.fromStack(stack);
      const keyArn = stack.resolve(key.keyArn);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        KmsKeyId: keyArn,
      });
      expect(monitoring.topicKey).toBe(key);
      template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('alarm topic') }, 0);
      // AND the key policy admits CloudWatch and EventBridge (topic) and CloudWatch Logs for this log group only
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToPublishToTheAlarmTopic',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: { ArnLike: { 'kms:EncryptionContext:aws:sns:topicArn': TOPICS_OF_THIS_ACCOUNT } },
            },
            {
              Sid: Match.stringLikeRegexp('^AllowCloudWatchLogsForRunnerEventsLogGroup[0-9A-F]{8}$'),
              Effect: 'Allow',
              Principal: { Service: `logs.${REGION}.amazonaws.com` },
              Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: {
                ArnEquals: {
                  'kms:EncryptionContext:aws:logs:arn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        `:logs:${REGION}:${ACCOUNT}:log-group:/aws/events/platform-orchestrator/prod-runner/`,
                        { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
                      ],
                    ],
                  },
                },
              },
            },
          ]),
        },
      });
      // AND no warning
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('key policy'));
    });

    test('an imported key is used, and a warning lists the statements to add to its policy', () => {
      // GIVEN an imported key
      const { stack, runner } = fixture();
      const key = kms.Key.fromKeyArn(
        stack,
        'Imported',
        `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
      );

      // WHEN
      new RunnerMonitoring(stack, 'Monitoring', { runner, encryptionKey: key });

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: key.keyArn });
      const warnings = Annotations.fromStack(stack).findWarning(
        '/Stack/Monitoring',
        Match.stringLikeRegexp('cannot be changed here'),
      );
      expect(warnings).toHaveLength(2);
      const text = warnings.map((w) => String(w.entry.data)).join('\n');
      expect(text).toContain('cloudwatch.amazonaws.com');
      expect(text).toContain('kms:EncryptionContext:aws:sns:topicArn');
      expect(text).not.toContain('"events.amazonaws.com"');
      expect(text).toContain(`logs.${REGION}.amazonaws.com`);
      expect(text).toContain('kms:EncryptionContext:aws:logs:arn');
    });
  });

  describe('dashboard', () => {
    test('has the job, reason, Container Insights, bucket, events and alarm widgets', () => {
      // GIVEN / WHEN
      const { stack, runner, monitoring, template } = monitor({ dashboardName: 'prod-runner' });

      // THEN
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
      expect(dashboard.Properties.DashboardName).toBe('prod-runner');
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      for (const title of [
        'Jobs by outcome (5 minutes)',
        'Jobs not started, by reason (5 minutes)',
        'CPU units (Container Insights)',
        'Memory MiB (Container Insights)',
        'Running jobs (Container Insights)',
        'State bucket size (bytes, daily)',
        'Latest stopped jobs',
        'Alarms',
      ]) {
        expect(body).toContain(title);
      }
      for (const metric of [...RunnerMonitoring.METRIC_NAMES.filter((n) => n !== 'JobsStopped'), 'CpuUtilized']) {
        expect(body).toContain(metric);
      }
      expect(body).toContain('ECS/ContainerInsights');
      expect(body).toContain('MemoryUtilized');
      expect(body).toContain('StandardIAStorage');
      expect(body).toContain('FILL(stopped, 0) - FILL(notStarted, 0)');
      expect(body).toContain(JSON.stringify(stack.resolve(runner.clusterName)));
      expect(monitoring.dashboard).toBeDefined();
    });

    test('dashboard: false creates none', () => {
      // GIVEN / WHEN
      const { monitoring, template } = monitor({ dashboard: false });

      // THEN
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
      expect(monitoring.dashboard).toBeUndefined();
    });

    /** A second runner, in the fixture's stack. */
    function secondRunner(stack: Stack, runnerId = 'dev-runner'): EcsRunner {
      return new EcsRunner(stack, 'SecondRunner', {
        orgId: 'my-org',
        runnerId,
        network: RunnerNetwork.fromSubnetIds(['subnet-0fedcba9876543210']),
      });
    }

    function dashboardBodies(template: Template): { name: unknown; body: string }[] {
      return Object.values(template.findResources('AWS::CloudWatch::Dashboard')).map((d) => ({
        name: d.Properties.DashboardName,
        body: JSON.stringify(d.Properties.DashboardBody),
      }));
    }

    test('the runners of a stack share one dashboard, a section each', () => {
      // GIVEN two runners in one stack
      const { stack, runner } = fixture();
      const second = secondRunner(stack);

      // WHEN both are monitored
      const first = new RunnerMonitoring(stack, 'Monitoring', { runner });
      const other = new RunnerMonitoring(stack, 'SecondMonitoring', { runner: second });

      // THEN there is one dashboard, the stack's, with both runners' sections and alarms
      const template = Template.fromStack(stack);
      const [dashboard, ...more] = dashboardBodies(template);
      expect(more).toHaveLength(0);
      expect(first.dashboard).toBe(other.dashboard);
      expect(first.dashboard!.node.scope).toBe(stack);
      expect(first.dashboard!.node.id).toBe(RunnerMonitoring.DASHBOARD_ID);
      expect(dashboard.body).toContain('# Platform Orchestrator runner prod-runner');
      expect(dashboard.body).toContain('# Platform Orchestrator runner dev-runner');
      for (const alarm of [...first.alarms, ...other.alarms]) {
        expect(dashboard.body).toContain(JSON.stringify(stack.resolve(alarm.alarmArn)).slice(1, -1));
      }
      // and a monitored runner adds no dashboard of its own
      expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))).toEqual([
        stack.getLogicalId(first.dashboard!.node.defaultChild as any),
      ]);
    });

    test('a runner with dashboard: false has no section on the shared dashboard', () => {
      // GIVEN two runners in one stack
      const { stack, runner } = fixture();
      const second = secondRunner(stack);

      // WHEN one of them opts out of the dashboard
      new RunnerMonitoring(stack, 'Monitoring', { runner });
      const other = new RunnerMonitoring(stack, 'SecondMonitoring', { runner: second, dashboard: false });

      // THEN the dashboard shows only the other runner
      const [dashboard] = dashboardBodies(Template.fromStack(stack));
      expect(dashboard.body).toContain('# Platform Orchestrator runner prod-runner');
      expect(dashboard.body).not.toContain('dev-runner');
      expect(other.dashboard).toBeUndefined();
    });

    test.each([
      ['the first', 'prod-runners', undefined],
      ['the second', undefined, 'prod-runners'],
      ['both, alike', 'prod-runners', 'prod-runners'],
    ])('dashboardName given by %s names the shared dashboard', (_name, firstName, secondName) => {
      // GIVEN two runners in one stack
      const { stack, runner } = fixture();
      const second = secondRunner(stack);

      // WHEN they are monitored with these names
      new RunnerMonitoring(stack, 'Monitoring', { runner, dashboardName: firstName });
      new RunnerMonitoring(stack, 'SecondMonitoring', { runner: second, dashboardName: secondName });

      // THEN the one dashboard has the name
      expect(dashboardBodies(Template.fromStack(stack)).map((d) => d.name)).toEqual(['prod-runners']);
    });

    test('two different dashboardNames in one stack fail before the second monitoring creates anything', () => {
      // GIVEN a monitored runner whose dashboard is named, and a second runner
      const { stack, runner } = fixture();
      const second = secondRunner(stack);
      new RunnerMonitoring(stack, 'Monitoring', { runner, dashboardName: 'prod-runners' });

      // WHEN the second asks for another name THEN synthesis refuses, naming the property and the name in use
      const error = expectValidationError(
        () => new RunnerMonitoring(stack, 'SecondMonitoring', { runner: second, dashboardName: 'dev-runners' }),
        'dashboardName',
      );
      expect(error.message).toContain('dev-runners');
      expect(error.message).toContain('"prod-runners"');
      expect(stack.node.findChild('SecondMonitoring').node.children).toHaveLength(0);
      // and the second runner can be monitored again, without a conflicting name
      expect(() => new RunnerMonitoring(stack, 'SecondMonitoringRetry', { runner: second })).not.toThrow();
    });
  });

  describe('metric()', () => {
    test('gives the runner metric with its namespace and dimension', () => {
      // GIVEN
      const { stack, runner, monitoring } = monitor();

      // WHEN
      const metric = monitoring.metric('JobsSucceeded');

      // THEN
      expect(metric.namespace).toBe('PlatformOrchestrator/EcsRunner');
      expect(metric.metricName).toBe('JobsSucceeded');
      expect(stack.resolve(metric.dimensions)).toEqual({ ClusterArn: stack.resolve(runner.clusterArn) });
      expect(metric.statistic).toBe('Sum');
      expect(metric.period.toSeconds()).toBe(300);
      expect(RunnerMonitoring.NAMESPACE).toBe('PlatformOrchestrator/EcsRunner');
    });

    test('rejects an unknown metric name', () => {
      // GIVEN
      const { monitoring } = monitor();

      // WHEN / THEN
      expectValidationError(() => monitoring.metric('JobsExploded'), 'metricName');
    });
  });

  test('tags resources with ManagedBy', () => {
    // GIVEN / WHEN
    const { template } = monitor();

    // THEN
    template.hasResourceProperties('AWS::SNS::Topic', {
      Tags: Match.arrayWith([{ Key: 'ManagedBy', Value: MANAGED_BY }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Tags: Match.arrayWith([{ Key: 'ManagedBy', Value: MANAGED_BY }]),
    });
  });

  describe('tags', () => {
    test('the runner tags its alarms', () => {
      // GIVEN / WHEN
      const { stack, runner } = fixture({ Team: 'platform' });
      runner.addMonitoring();

      // THEN
      const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm', {
        Properties: { Tags: Match.arrayWith([{ Key: 'Team', Value: 'platform' }]) },
      });
      expect(Object.keys(alarms)).toHaveLength(3);
    });

    test('an empty tag value with alarms fails synthesis naming the tag (CloudFormation refuses it on an alarm)', () => {
      // GIVEN a runner with an empty tag value
      const { stack, runner } = fixture({ Team: '' });

      // WHEN it is monitored
      runner.addMonitoring();

      // THEN synthesis refuses it, naming tags.Team, the alarm and the accepted form
      expect(() => Template.fromStack(stack)).toThrow(
        /Invalid tags\.Team: "" \(0 characters\)\. Expected a tag value of 1 to 256 characters on Stack\/Runner\/Monitoring\/\w+Alarm\/Resource \(AWS::CloudWatch::Alarm\).*minLength 1/,
      );
    });

    test("an empty tag value without monitoring synthesizes: the runner's own resources accept it", () => {
      // GIVEN / WHEN a runner with an empty tag value and no monitoring
      const { stack } = fixture({ Team: '' });

      // THEN it synthesizes, the tag on its resources
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
        Tags: Match.arrayWith([{ Key: 'Team', Value: '' }]),
      });
    });

    test('an empty tag value from Tags.of() on the shared dashboard fails synthesis naming the dashboard', () => {
      // GIVEN a monitored runner
      const { stack, runner } = fixture({});
      runner.addMonitoring();

      // WHEN the dashboard (a child of the stack, not of the runner) gets an empty tag value
      Tags.of(stack).add('CostCenter', '', { includeResourceTypes: ['AWS::CloudWatch::Dashboard'] });

      // THEN
      expect(() => Template.fromStack(stack)).toThrow(
        /Invalid tags\.CostCenter: "" .*on Stack\/PlatformOrchestratorRunnersDashboard\/Resource \(AWS::CloudWatch::Dashboard\)/,
      );
    });

    test('an empty tag value kept off the CloudWatch resources, or a token value, synthesizes', () => {
      // GIVEN a monitored runner
      const { stack, runner } = fixture({ Team: Lazy.string({ produce: () => 'platform' }) });
      runner.addMonitoring();

      // WHEN an empty tag value reaches every resource but the alarms and the dashboard
      Tags.of(stack).add('CostCenter', '', {
        excludeResourceTypes: ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard'],
      });

      // THEN it synthesizes; the topic has the empty value, the alarms the token
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::SNS::Topic', {
        Tags: Match.arrayWith([{ Key: 'CostCenter', Value: '' }]),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Tags: Match.arrayWith([{ Key: 'Team', Value: 'platform' }]),
      });
    });
  });

  describe('validation', () => {
    test.each([
      [{ failedJobsThreshold: 0 }, 'failedJobsThreshold'],
      [{ failedJobsThreshold: 1.5 }, 'failedJobsThreshold'],
      [{ failedJobsThreshold: 1001 }, 'failedJobsThreshold'],
      [{ stateBucketSizeThresholdBytes: 0 }, 'stateBucketSizeThresholdBytes'],
      [{ stateBucketSizeThresholdBytes: -1 }, 'stateBucketSizeThresholdBytes'],
      [{ stateBucketSizeThresholdBytes: 10.5 }, 'stateBucketSizeThresholdBytes'],
      [{ alarmEmails: [] }, 'alarmEmails'],
      [{ alarmEmails: ['not-an-email'] }, 'alarmEmails[0]'],
      [{ alarmEmails: ['ops@example.com', 'OPS@example.com'] }, 'alarmEmails[1]'],
      [{ dashboardName: 'prod runner!' }, 'dashboardName'],
      [{ dashboard: false, dashboardName: 'prod-runner' }, 'dashboardName'],
      [{ eventsLogRetention: logs.RetentionDays.INFINITE }, 'eventsLogRetention'],
      [{ eventsLogRetention: 42 as logs.RetentionDays }, 'eventsLogRetention'],
      // Plain JavaScript callers: wrongly typed options are the library's error, not CloudFormation's.
      [{ dashboardName: ['x'] as any }, 'dashboardName'],
      [{ dashboard: 'false' as any }, 'dashboard'],
      [{ failedJobsThreshold: '5' as any }, 'failedJobsThreshold'],
      [{ stateBucketSizeThresholdBytes: null as any }, 'stateBucketSizeThresholdBytes'],
      [{ eventsLogRetention: 'ONE_YEAR' as any }, 'eventsLogRetention'],
      [{ alarmEmails: 'ops@example.com' as any }, 'alarmEmails'],
      [{ topic: {} as any }, 'topic'],
      [{ encryptionKey: 'alias/x' as any }, 'encryptionKey'],
      [{ registrationFunction: {} as any }, 'registrationFunction'],
    ] as Array<[Partial<RunnerMonitoringProps>, string]>)('rejects %j naming %s', (props, property) => {
      // GIVEN
      const { stack, runner } = fixture();

      // WHEN / THEN
      expectValidationError(() => new RunnerMonitoring(stack, 'Monitoring', { runner, ...props }), property);
    });

    test('the message names the property, the value and the accepted form', () => {
      // GIVEN
      const { stack, runner } = fixture();

      // WHEN / THEN
      expect(() => new RunnerMonitoring(stack, 'Monitoring', { runner, failedJobsThreshold: 0 })).toThrow(
        'Invalid failedJobsThreshold: 0. Expected a whole number from 1 to 1000.',
      );
    });

    test('rejects a missing runner', () => {
      // GIVEN
      const { stack } = fixture();

      // WHEN / THEN
      expectValidationError(() => new RunnerMonitoring(stack, 'Monitoring', {} as RunnerMonitoringProps), 'runner');
    });

    test('rejects a second monitoring of the same runner (it would count every job twice)', () => {
      // GIVEN a monitored runner
      const { stack, runner } = fixture();
      new RunnerMonitoring(stack, 'Monitoring', { runner });

      // WHEN / THEN
      expectValidationError(() => new RunnerMonitoring(stack, 'Monitoring2', { runner }), 'runner');
    });

    test('addMonitoring twice is an error naming addMonitoring, not a construct-id collision', () => {
      // GIVEN a runner monitored through addMonitoring
      const { runner } = fixture();
      const first = runner.addMonitoring();

      // WHEN it is called again
      const error = expectValidationError(
        () => runner.addMonitoring({ alarmEmails: ['ops@example.com'] }),
        'addMonitoring',
      );

      // THEN the message names the first monitoring, and that monitoring is untouched
      expect(error.message).toContain(first.node.path);
      expect(error.message).toContain('one addMonitoring() call per runner');
      expect(runner.node.children.filter((c) => c instanceof RunnerMonitoring)).toEqual([first]);
    });

    test('a monitored runner in another app is another runner (no state shared between apps)', () => {
      // GIVEN two apps whose runners have the same construct path
      const a = fixture();
      const b = fixture();
      new RunnerMonitoring(a.stack, 'Monitoring', { runner: a.runner, dashboardName: 'prod-runners' });

      // WHEN the second app monitors its runner, with another dashboard name
      // THEN nothing of the first app is seen
      expect(
        () => new RunnerMonitoring(b.stack, 'Monitoring', { runner: b.runner, dashboardName: 'dev-runners' }),
      ).not.toThrow();
    });

    test.each([
      ['Lazy.list', () => Lazy.list({ produce: () => ['ops@example.com'] })],
      ['Fn.split of a parameter', (stack: Stack) => Fn.split(',', new CfnParameter(stack, 'Emails').valueAsString)],
      [
        'a CommaDelimitedList parameter',
        (stack: Stack) => new CfnParameter(stack, 'Emails', { type: 'CommaDelimitedList' }).valueAsList,
      ],
    ])('alarmEmails as a list token (%s) is refused naming alarmEmails and the accepted form', (_name, emails) => {
      // GIVEN a runner and a list known only at deploy time
      const { stack, runner } = fixture();

      // WHEN it is monitored with that list
      // THEN the library refuses it (one subscription per address is made at synth time), not CDK's resolution error
      const error = expectValidationError(() => runner.addMonitoring({ alarmEmails: emails(stack) }), 'alarmEmails');
      expect(error.message).toContain('Invalid alarmEmails: "a list token"');
      expect(error.message).toContain('an element may be a token');
      expect(error.message).toContain('Fn.split(",", value, count)');
      // AND nothing of the monitoring was built
      expect(runner.node.findChild('Monitoring').node.children).toHaveLength(0);
    });

    test('a list token spread into alarmEmails is refused naming its element', () => {
      // GIVEN a concrete list with a deploy-time list spread into it
      const { stack, runner } = fixture();
      const more = Fn.split(',', new CfnParameter(stack, 'More').valueAsString);

      // WHEN / THEN
      const error = expectValidationError(
        () => runner.addMonitoring({ alarmEmails: ['ops@example.com', ...more] }),
        'alarmEmails[1]',
      );
      expect(error.message).toContain('not a list spread into alarmEmails');
    });

    test('alarmEmails that is not a list (plain JavaScript) is refused naming alarmEmails', () => {
      // GIVEN / WHEN / THEN
      const { runner } = fixture();
      expectValidationError(() => runner.addMonitoring({ alarmEmails: 'ops@example.com' as any }), 'alarmEmails');
    });

    test('tokens as elements of a concrete alarmEmails list get one subscription each', () => {
      // GIVEN a literal address, a parameter and a list split into a known number of addresses
      const { stack, runner } = fixture();
      const oncall = new CfnParameter(stack, 'Oncall').valueAsString;
      const team = Fn.split(',', new CfnParameter(stack, 'Team').valueAsString, 2);

      // WHEN
      runner.addMonitoring({ alarmEmails: ['ops@example.com', oncall, ...team] });

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::SNS::Subscription', 4);
      for (const endpoint of [
        'ops@example.com',
        { Ref: 'Oncall' },
        { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'Team' }] }] },
        { 'Fn::Select': [1, { 'Fn::Split': [',', { Ref: 'Team' }] }] },
      ]) {
        template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: endpoint });
      }
    });

    test('unresolved tokens pass', () => {
      // GIVEN deploy-time values
      const { stack, runner } = fixture();
      const threshold = new CfnParameter(stack, 'Threshold', { type: 'Number' }).valueAsNumber;
      const size = new CfnParameter(stack, 'Size', { type: 'Number' }).valueAsNumber;
      const email = new CfnParameter(stack, 'Email').valueAsString;

      // WHEN
      new RunnerMonitoring(stack, 'Monitoring', {
        runner,
        failedJobsThreshold: threshold,
        stateBucketSizeThresholdBytes: size,
        alarmEmails: [email],
      });

      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'JobsFailed',
        Threshold: { Ref: 'Threshold' },
      });
      template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: { Ref: 'Email' } });
      // AND descriptions do not show encoded number tokens
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(JSON.stringify(alarm.Properties.AlarmDescription)).not.toMatch(/\d\.\d+e\+\d+/);
      }
    });
  });
});
