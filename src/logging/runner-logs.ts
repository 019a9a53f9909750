import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of {@link RunnerLogs}. */
export interface RunnerLogsProps {
  /** The runner id: the log groups are `/platform-orchestrator/<runnerId>/{jobs,exec}`. */
  readonly runnerId: string;
  /** Retention of both log groups. */
  readonly retention: logs.RetentionDays;
  /** Key that encrypts both log groups; AWS-owned keys when undefined. */
  readonly encryptionKey?: kms.IKey;
  /** Whether the key was created by the runner, so its policy can be extended. */
  readonly encryptionKeyCreated: boolean;
}

/**
 * The runner's CloudWatch log groups: one for its jobs, one for ECS Exec sessions into them,
 * named `/platform-orchestrator/<runnerId>/jobs` and `.../exec` and retained when the stack is
 * deleted. With a runner-created KMS key, the key policy lets CloudWatch Logs use the key only
 * for these two log groups (encryption-context condition).
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
    if (props.encryptionKey && props.encryptionKeyCreated) {
      props.encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `CloudWatchLogsForRunner${props.runnerId.replace(/[^A-Za-z0-9]/g, '')}`,
          principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
          actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          // In a key policy, "*" is the key itself.
          resources: ['*'],
          conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': this.logGroupArnPattern } },
        }),
      );
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
