import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowLogsToUseKey } from '../encryption/log-group-key';

/** Properties of {@link RunnerLogs}. */
export interface RunnerLogsProps {
  /** The runner id: the log groups are `/platform-orchestrator/<runnerId>/{jobs,exec}`. */
  readonly runnerId: string;
  /** Retention of both log groups. */
  readonly retention: logs.RetentionDays;
  /** Key that encrypts both log groups; AWS-owned keys when undefined. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The runner's CloudWatch log groups: one for its jobs, one for ECS Exec sessions into them,
 * named `/platform-orchestrator/<runnerId>/jobs` and `.../exec` and retained when the stack is
 * deleted. With a KMS key, CloudWatch Logs may use it only for these log groups (encryption-context
 * condition): added to the policy of a key of this stack, printed in a warning for any other key.
 */
export class RunnerLogs extends Construct {
  /** Log group for the runner's Terraform jobs. */
  public readonly jobLogGroup: logs.LogGroup;
  /** Log group for ECS Exec sessions into the runner's jobs. */
  public readonly execLogGroup: logs.LogGroup;
  /** ARN pattern that matches both log groups. */
  public readonly logGroupArnPattern: string;
  /** ARN of the job log group, without the trailing `:*`. */
  public readonly jobLogGroupArn: string;
  /** ARN of the exec log group, without the trailing `:*`. */
  public readonly execLogGroupArn: string;

  constructor(scope: Construct, id: string, props: RunnerLogsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const base = `/platform-orchestrator/${props.runnerId}`;
    this.logGroupArnPattern = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${base}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    if (props.encryptionKey) {
      allowLogsToUseKey(this, {
        key: props.encryptionKey,
        logGroupArn: this.logGroupArnPattern,
        sidPrefix: 'CloudWatchLogsForRunnerLogs',
        property: 'encryptionKey',
        what: `the runner's log groups ${base}/*`,
        warningId: 'runnerLogsKeyPolicy',
      });
    }
    const common = {
      retention: props.retention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.jobLogGroup = new logs.LogGroup(this, 'JobLogGroup', { ...common, logGroupName: `${base}/jobs` });
    this.execLogGroup = new logs.LogGroup(this, 'ExecLogGroup', { ...common, logGroupName: `${base}/exec` });
    const arnOf = (name: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.jobLogGroupArn = arnOf(`${base}/jobs`);
    this.execLogGroupArn = arnOf(`${base}/exec`);
  }
}
