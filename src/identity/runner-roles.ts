import { Arn, ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STS_AUDIENCE } from './oidc-provider';

/** Properties of {@link RunnerRoles}. */
export interface RunnerRolesProps {
  /** ARN of the IAM OIDC provider of the orchestrator's issuer. */
  readonly oidcProviderArn: string;
  /** The issuer host (and path), without scheme: the prefix of the trust policy's condition keys. */
  readonly issuer: string;
  /** The orchestrator organization id. */
  readonly orgId: string;
  /** The runner id. */
  readonly runnerId: string;
  /** ARN of the runner's ECS cluster. */
  readonly clusterArn: string;
  /** Name of the runner's ECS cluster. */
  readonly clusterName: string;
  /** Prefix of the task definition families the orchestrator registers. */
  readonly taskDefinitionFamilyPrefix: string;
  /** Secrets Manager secret and SSM parameter ARNs the jobs receive as secrets. */
  readonly secretArns: string[];
  /** KMS keys that encrypt those secrets, when they are customer managed. */
  readonly secretsEncryptionKeys: kms.IKey[];
  /** The job image, when the user chose one. */
  readonly image?: string;
  /** ARN patterns of the log groups the execution role may write job logs to. */
  readonly jobLogGroupArns: string[];
  /** Let jobs open ECS Exec sessions (task role: SSM message channels and the exec log group). */
  readonly allowExecuteCommand: boolean;
  /** ARN of the exec log group. */
  readonly execLogGroupArn: string;
  /** The runner's CMK, when it has one: ECS Exec sessions are encrypted with it. */
  readonly encryptionKey?: kms.IKey;
  /** Roles, e.g. in other accounts, the task role may assume to deploy. */
  readonly assumableRoleArns: string[];
  /** Extra statements of the task role. */
  readonly taskRoleStatements: iam.PolicyStatement[];
  /** Extra managed policies of the task role. */
  readonly taskRoleManagedPolicies: iam.IManagedPolicy[];
}

/**
 * The three IAM roles of a runner, each with exactly the permissions of its part in the
 * orchestrator's flow:
 *
 * - `taskManagerRole`: assumed by the orchestrator with AssumeRoleWithWebIdentity; registers
 *   task definitions of the family prefix and runs them on this runner's cluster only.
 * - `executionRole`: used by ECS to start a job: pull its image, write its logs, read its secrets.
 * - `taskRole`: the job's own credentials: Terraform state, plus what the user adds.
 */
export class RunnerRoles extends Construct {
  public readonly taskManagerRole: iam.Role;
  public readonly executionRole: iam.Role;
  public readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: RunnerRolesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.taskManagerRole = new iam.Role(this, 'TaskManagerRole', {
      description: `Assumed by the Platform Orchestrator (${props.issuer}) to run Terraform jobs of runner ${props.runnerId}`,
      assumedBy: new iam.WebIdentityPrincipal(props.oidcProviderArn, {
        StringEquals: {
          [`${props.issuer}:aud`]: STS_AUDIENCE,
          [`${props.issuer}:sub`]: `${props.orgId}+${props.runnerId}`,
        },
      }),
    });

    // ECS only assumes the two task roles on behalf of this account's tasks (confused deputy).
    const ecsTasks = new iam.ServicePrincipal('ecs-tasks.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ecs', resource: '*' }) },
    });

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: `ECS task execution role of runner ${props.runnerId}: image pull, logs, job secrets`,
      assumedBy: ecsTasks,
      inlinePolicies: { Execution: executionPolicy(stack, props) },
    });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `Credentials of the Terraform jobs of runner ${props.runnerId}`,
      assumedBy: new iam.CompositePrincipal(ecsTasks, new iam.ArnPrincipal(this.taskManagerRole.roleArn)),
      managedPolicies: props.taskRoleManagedPolicies.length > 0 ? [...props.taskRoleManagedPolicies] : undefined,
    });
    for (const statement of taskRoleStatements(props)) {
      this.taskRole.addToPrincipalPolicy(statement);
    }

    // A separate policy resource: the task role trusts the task-manager role and the
    // task-manager role passes the task role, so an inline policy would be a cycle.
    new iam.Policy(this, 'TaskManagerPolicy', {
      roles: [this.taskManagerRole],
      document: taskManagerPolicy(stack, props, [this.executionRole.roleArn, this.taskRole.roleArn]),
    });
  }
}

function taskManagerPolicy(stack: Stack, props: RunnerRolesProps, passRoleArns: string[]): iam.PolicyDocument {
  const family = stack.formatArn({
    service: 'ecs',
    resource: 'task-definition',
    resourceName: `${props.taskDefinitionFamilyPrefix}*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const clusterTasks = stack.formatArn({
    service: 'ecs',
    resource: 'task',
    resourceName: `${props.clusterName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const onThisCluster = { ArnEquals: { 'ecs:cluster': props.clusterArn } };
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'RegisterAndDeleteRunnerTaskDefinitions',
        actions: ['ecs:RegisterTaskDefinition', 'ecs:DeleteTaskDefinitions'],
        resources: [family],
      }),
      new iam.PolicyStatement({
        // The service authorization reference gives these actions no resource type.
        sid: 'ListAndDeregisterTaskDefinitions',
        actions: ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        // RunTask's resource is the task definition; the cluster is only a condition key.
        sid: 'RunRunnerTasksOnRunnerClusterOnly',
        actions: ['ecs:RunTask'],
        resources: [family],
        conditions: onThisCluster,
      }),
      new iam.PolicyStatement({
        sid: 'DescribeAndTagTasksOfRunnerCluster',
        actions: ['ecs:DescribeTasks', 'ecs:TagResource'],
        resources: [clusterTasks],
        conditions: onThisCluster,
      }),
      new iam.PolicyStatement({
        // ListTasks' only resource type is container-instance, which Fargate tasks do not
        // have; the ecs:cluster condition key restricts it to this runner's cluster.
        sid: 'ListTasksOfRunnerCluster',
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: onThisCluster,
      }),
      new iam.PolicyStatement({
        sid: 'TagRunnerTaskDefinitionsOnRegister',
        actions: ['ecs:TagResource'],
        resources: [family],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
      new iam.PolicyStatement({
        sid: 'PassRunnerTaskRolesToEcsTasks',
        actions: ['iam:PassRole'],
        resources: passRoleArns,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    ],
  });
}

function taskRoleStatements(props: RunnerRolesProps): iam.PolicyStatement[] {
  const statements = [...props.taskRoleStatements];
  if (props.assumableRoleArns.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'AssumeDeploymentRoles',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [...props.assumableRoleArns],
      }),
    );
  }
  if (props.allowExecuteCommand) {
    statements.push(
      new iam.PolicyStatement({
        // The service authorization reference gives the SSM message channel actions no resource type.
        sid: 'EcsExecMessageChannels',
        actions: [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        // The ECS Exec agent checks the log group exists; DescribeLogGroups has no resource type.
        sid: 'EcsExecFindLogGroup',
        actions: ['logs:DescribeLogGroups'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'EcsExecWriteSessionLogs',
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [`${props.execLogGroupArn}:*`],
      }),
    );
    if (props.encryptionKey) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'EcsExecSessionEncryption',
          actions: ['kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
        }),
      );
    }
  }
  return statements;
}

function executionPolicy(stack: Stack, props: RunnerRolesProps): iam.PolicyDocument {
  const doc = new iam.PolicyDocument();
  doc.addStatements(
    new iam.PolicyStatement({
      sid: 'WriteJobLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: props.jobLogGroupArns.map((arn) => `${arn}:*`),
    }),
  );
  const secretsManager = props.secretArns.filter((arn) => arn.startsWith('arn:aws:secretsmanager:'));
  const parameters = props.secretArns.filter((arn) => arn.startsWith('arn:aws:ssm:'));
  if (secretsManager.length > 0) {
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'ReadJobSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: secretsManager,
      }),
    );
  }
  if (parameters.length > 0) {
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'ReadJobParameters',
        actions: ['ssm:GetParameters'],
        resources: parameters,
      }),
    );
  }
  if (props.secretsEncryptionKeys.length > 0) {
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'DecryptJobSecrets',
        actions: ['kms:Decrypt'],
        resources: props.secretsEncryptionKeys.map((key) => key.keyArn),
        conditions: {
          StringEquals: {
            'kms:ViaService': [`secretsmanager.${stack.region}.amazonaws.com`, `ssm.${stack.region}.amazonaws.com`],
          },
        },
      }),
    );
  }
  const repository = props.image ? ecrRepositoryArn(stack, props.image) : undefined;
  if (repository) {
    doc.addStatements(
      new iam.PolicyStatement({
        // The service authorization reference gives GetAuthorizationToken no resource type.
        sid: 'AuthenticateToEcr',
        actions: ['ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'PullJobImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [repository],
      }),
    );
  }
  return doc;
}

/**
 * The ARN of the private ECR repository an image lives in, or undefined when the image is
 * not in a private ECR registry (public registries need no IAM permission to pull).
 */
export function ecrRepositoryArn(stack: Stack, image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  if (!match) return undefined;
  const [, account, region, repository] = match;
  return Arn.format(
    { partition: Aws.PARTITION, service: 'ecr', region, account, resource: 'repository', resourceName: repository },
    stack,
  );
}
