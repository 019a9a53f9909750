import { Arn, ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STS_AUDIENCE } from './oidc-provider';
import { acknowledgeWildcardResources } from '../acknowledgements';

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
  /** KMS keys that encrypt the job secrets, when they are customer managed and the secrets do not know them. */
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
  /** What the task role needs on the Terraform state. */
  readonly stateStatements: iam.PolicyStatement[];
  /** Why the state statements' wildcard resources are needed, by Sid. */
  readonly stateWildcardReasons: Record<string, string>;
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
    });
    const execution = executionStatements(stack, props);
    const executionPolicy = new iam.ManagedPolicy(this, 'ExecutionPolicy', {
      description: `Runner ${props.runnerId}: start jobs (image, logs, secrets)`,
      statements: [...execution.own, ...execution.fromProps],
      roles: [this.executionRole],
    });
    acknowledgeWildcardResources(executionPolicy, execution.own, WILDCARD_REASONS);

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `Credentials of the Terraform jobs of runner ${props.runnerId}`,
      assumedBy: new iam.CompositePrincipal(ecsTasks, new iam.ArnPrincipal(this.taskManagerRole.roleArn)),
      managedPolicies: props.taskRoleManagedPolicies.length > 0 ? [...props.taskRoleManagedPolicies] : undefined,
    });
    const task = [...props.stateStatements, ...execStatements(props)];
    const taskPolicy = new iam.ManagedPolicy(this, 'TaskPolicy', {
      description: `Runner ${props.runnerId}: Terraform state`,
      statements: task,
      roles: [this.taskRole],
    });
    acknowledgeWildcardResources(taskPolicy, task, { ...WILDCARD_REASONS, ...props.stateWildcardReasons });
    const deployment = deploymentStatements(props);
    if (deployment.length > 0) {
      // What the user's Terraform deploys: kept apart from the runner's own permissions.
      new iam.ManagedPolicy(this, 'TaskDeploymentPolicy', {
        description: `Runner ${props.runnerId}: what the Terraform jobs deploy`,
        statements: deployment,
        roles: [this.taskRole],
      });
    }

    // A separate resource: the task role trusts the task-manager role and the task-manager role
    // passes the task role, so a policy inside either role would be a dependency cycle.
    const manager = taskManagerStatements(stack, props, [this.executionRole.roleArn, this.taskRole.roleArn]);
    const managerPolicy = new iam.ManagedPolicy(this, 'TaskManagerPolicy', {
      description: `Runner ${props.runnerId}: what the orchestrator may do with its OIDC session`,
      statements: manager,
      roles: [this.taskManagerRole],
    });
    acknowledgeWildcardResources(managerPolicy, manager, WILDCARD_REASONS);
  }
}

/** Why each of the runner's own wildcard resources is needed, by statement Sid. */
const WILDCARD_REASONS: Record<string, string> = {
  RegisterAndDeleteRunnerTaskDefinitions:
    "The orchestrator registers and deletes task definition families it names itself under the runner's taskDefinitionFamilyPrefix; family names and revisions exist only at run time.",
  ListAndDeregisterTaskDefinitions:
    'ecs:ListTaskDefinitions and ecs:DeregisterTaskDefinition have no resource type in the IAM service authorization reference; deletion of task definitions is limited to the family prefix.',
  RunRunnerTasksOnRunnerClusterOnly:
    "ecs:RunTask's resource is the task definition: limited to the orchestrator's family prefix (revisions exist only at run time) and to this runner's cluster by the ecs:cluster condition.",
  DescribeTasksOfRunnerCluster:
    "ECS assigns task ids at RunTask time; ecs:DescribeTasks is limited to tasks of this runner's cluster (task/<cluster>/* and the ecs:cluster condition).",
  TagTasksOfRunnerCluster:
    "ECS assigns task ids at RunTask time; ecs:TagResource is limited to tasks of this runner's cluster by the task ARN (task/<cluster>/*): it has no ecs:cluster condition key.",
  ListTasksOfRunnerCluster:
    "ecs:ListTasks' only resource type is container-instance, which Fargate tasks do not have; the ecs:cluster condition limits it to this runner's cluster.",
  TagRunnerTaskDefinitionsOnRegister:
    "Tags may only be set while registering task definitions of the runner's family prefix (ecs:CreateAction condition); revisions exist only at run time.",
  WriteJobLogs:
    'The orchestrator chooses the awslogs log group of each task definition it registers and does not document it; the execution role only gets logs:CreateLogStream and logs:PutLogEvents (no CreateLogGroup), and ExecutionRoleLogAccess.RUNNER_LOG_GROUP narrows it to the job log group, whose stream names are generated per task.',
  AuthenticateToEcr:
    'ecr:GetAuthorizationToken has no resource type in the IAM service authorization reference; image pulls are limited to the job image repository.',
  EcsExecMessageChannels:
    'The SSM message channel actions of ECS Exec have no resource type in the IAM service authorization reference; granted only with allowExecuteCommand.',
  EcsExecFindLogGroup:
    'logs:DescribeLogGroups has no resource type in the IAM service authorization reference; the ECS Exec agent uses it to find the exec log group (allowExecuteCommand only).',
  EcsExecWriteSessionLogs:
    "ECS Exec writes each session's log stream, named at run time, into the runner's exec log group (allowExecuteCommand only).",
};

function taskManagerStatements(stack: Stack, props: RunnerRolesProps, passRoleArns: string[]): iam.PolicyStatement[] {
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
  return [
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
      sid: 'DescribeTasksOfRunnerCluster',
      actions: ['ecs:DescribeTasks'],
      resources: [clusterTasks],
      conditions: onThisCluster,
    }),
    new iam.PolicyStatement({
      // TagResource has no ecs:cluster condition key: with that condition it never matched, so
      // RunTask with tags and tagging a task afterwards were denied. The task ARN
      // (task/<cluster name>/*) keeps it to this cluster.
      sid: 'TagTasksOfRunnerCluster',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
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
  ];
}

/** The user's statements and deployment roles for the task role. */
function deploymentStatements(props: RunnerRolesProps): iam.PolicyStatement[] {
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
  return statements;
}

/** ECS Exec permissions of the task role, when enabled. */
function execStatements(props: RunnerRolesProps): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
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

/** The execution role's statements: its own, and those derived from user input (secrets). */
function executionStatements(
  stack: Stack,
  props: RunnerRolesProps,
): { own: iam.PolicyStatement[]; fromProps: iam.PolicyStatement[] } {
  const own: iam.PolicyStatement[] = [];
  const fromProps: iam.PolicyStatement[] = [];
  own.push(
    new iam.PolicyStatement({
      sid: 'WriteJobLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: props.jobLogGroupArns.map((arn) => `${arn}:*`),
    }),
  );
  // The job secrets themselves are granted through them (ecs.Secret.grantRead, as ECS does).
  if (props.secretsEncryptionKeys.length > 0) {
    fromProps.push(
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
    own.push(
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
  return { own, fromProps };
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
