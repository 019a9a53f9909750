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
  /**
   * The task definition families the task-manager role may register, delete and run: the ARN's
   * resource part after `task-definition/`, without the revision, e.g. `humanitec_*`.
   */
  readonly taskDefinitionFamilyScope: string;
  /** Ceiling of the task CPU units (1024 = 1 vCPU) the task-manager role may register and run. */
  readonly maxTaskCpu: number;
  /** Ceiling of the task memory (MiB) the task-manager role may register and run. */
  readonly maxTaskMemoryMiB: number;
  /** KMS keys that encrypt the job secrets, when they are customer managed and the secrets do not know them. */
  readonly secretsEncryptionKeys: kms.IKey[];
  /** The job image, when the user chose one. */
  readonly image?: string;
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
 *   Fargate task definitions of the orchestrator's families, within the task-size ceiling, and
 *   runs them on this runner's cluster only, without ECS Exec or EBS volumes.
 * - `executionRole`: used by ECS to start a job: pull its image (private ECR only), read its
 *   secrets. The orchestrator's task definitions have no log configuration, so it writes no logs.
 * - `taskRole`: the job's own credentials: Terraform state, plus what the user adds. Trusted by
 *   ECS tasks of this account only: the orchestrator never assumes it.
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
      description: `ECS task execution role of runner ${props.runnerId}: image pull, job secrets`,
      assumedBy: ecsTasks,
    });
    const execution = executionStatements(stack, props);
    if (execution.own.length + execution.fromProps.length > 0) {
      // With the orchestrator's public default image and no secrets, ECS needs nothing of the role.
      const executionPolicy = new iam.ManagedPolicy(this, 'ExecutionPolicy', {
        description: `Runner ${props.runnerId}: start jobs (image, secrets)`,
        statements: [...execution.own, ...execution.fromProps],
        roles: [this.executionRole],
      });
      acknowledgeWildcardResources(executionPolicy, execution.own, WILDCARD_REASONS);
    }

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `Credentials of the Terraform jobs of runner ${props.runnerId}`,
      // Only ECS tasks of this account: the orchestrator's session never assumes the task role, so
      // it cannot read the state (the reference module's trust of the task-manager role is unused).
      assumedBy: ecsTasks,
      managedPolicies: props.taskRoleManagedPolicies.length > 0 ? [...props.taskRoleManagedPolicies] : undefined,
    });
    const task = [...props.stateStatements];
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

    // A separate resource, so the roles' logical ids and the policy's own stay as they were.
    const manager = taskManagerStatements(stack, props, [this.executionRole.roleArn, this.taskRole.roleArn]);
    const managerPolicy = new iam.ManagedPolicy(this, 'TaskManagerPolicy', {
      description: `Runner ${props.runnerId}: what the orchestrator may do with its OIDC session`,
      statements: manager,
      roles: [this.taskManagerRole],
    });
    acknowledgeWildcardResources(managerPolicy, manager, WILDCARD_REASONS);
  }
}

/** The task size the orchestrator's ECS driver registers, as it writes it (ecs_runner.go). */
const ORCHESTRATOR_TASK_CPU = '.5 vCPU';
const ORCHESTRATOR_TASK_MEMORY = '1 GB';

/** Why each of the runner's own wildcard resources is needed, by statement Sid. */
const WILDCARD_REASONS: Record<string, string> = {
  RegisterRunnerTaskDefinitions:
    "The orchestrator registers one task definition family per environment, named at run time within the orchestrator's family scope (taskDefinitionFamilyScope); only Fargate, unprivileged task definitions within the task-size ceiling.",
  RegisterRunnerTaskDefinitionsOfOrchestratorSize:
    "The orchestrator registers one task definition family per environment, named at run time within the orchestrator's family scope; only Fargate, unprivileged task definitions of exactly the orchestrator's size (.5 vCPU, 1 GB).",
  DeleteRunnerTaskDefinitions:
    "The orchestrator deletes the inactive revisions of its environment families, named at run time within the orchestrator's family scope.",
  ListAndDeregisterTaskDefinitions:
    'ecs:ListTaskDefinitions and ecs:DeregisterTaskDefinition have no resource type in the IAM service authorization reference; deletion of task definitions is limited to the family scope.',
  RunRunnerTasksOnRunnerClusterOnly:
    "ecs:RunTask's resource is the task definition: limited to the orchestrator's family scope (revisions exist only at run time), to this runner's cluster by the ecs:cluster condition, and to tasks without ECS Exec, EBS volumes or overrides above the task-size ceiling.",
  DescribeTasksOfRunnerCluster:
    "ECS assigns task ids at RunTask time; ecs:DescribeTasks is limited to tasks of this runner's cluster (task/<cluster>/* and the ecs:cluster condition).",
  TagTasksOfRunnerCluster:
    "ECS assigns task ids at RunTask time; ecs:TagResource is limited to tagging tasks of this runner's cluster (task/<cluster>/*) while RunTask creates them (ecs:CreateAction): it has no ecs:cluster condition key.",
  ListTasksOfRunnerCluster:
    "ecs:ListTasks' only resource type is container-instance, which Fargate tasks do not have; the ecs:cluster condition limits it to this runner's cluster.",
  TagRunnerTaskDefinitionsOnRegister:
    "Tags may only be set while registering task definitions of the orchestrator's family scope (ecs:CreateAction condition); revisions exist only at run time.",
  AuthenticateToEcr:
    'ecr:GetAuthorizationToken has no resource type in the IAM service authorization reference; image pulls are limited to the job image repository.',
};

/**
 * The task-manager role's statements: exactly the calls of the orchestrator's ECS driver, each
 * bounded by the condition keys the IAM service authorization reference gives the action.
 */
function taskManagerStatements(stack: Stack, props: RunnerRolesProps, passRoleArns: string[]): iam.PolicyStatement[] {
  const family = stack.formatArn({
    service: 'ecs',
    resource: 'task-definition',
    resourceName: props.taskDefinitionFamilyScope,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const clusterTasks = stack.formatArn({
    service: 'ecs',
    resource: 'task',
    resourceName: `${props.clusterName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const onThisCluster = { ArnEquals: { 'ecs:cluster': props.clusterArn } };
  const fargateUnprivileged = {
    'ForAllValues:StringEquals': { 'ecs:compute-compatibility': ['FARGATE'] },
    Null: { 'ecs:compute-compatibility': 'false' },
    StringEqualsIfExists: { 'ecs:privileged': 'false' },
  };
  return [
    new iam.PolicyStatement({
      // Fargate only (the compatibilities are always in a Fargate request), nothing privileged
      // (`privileged` is in the request only when a container sets it), within the ceiling.
      sid: 'RegisterRunnerTaskDefinitions',
      actions: ['ecs:RegisterTaskDefinition'],
      resources: [family],
      conditions: {
        ...fargateUnprivileged,
        NumericLessThanEquals: { 'ecs:task-cpu': props.maxTaskCpu, 'ecs:task-memory': props.maxTaskMemoryMiB },
      },
    }),
    new iam.PolicyStatement({
      // The orchestrator's ECS driver sends the size as the strings ".5 vCPU" and "1 GB", not as
      // 512 and 1024. The reference documents ecs:task-cpu/-memory as integers but not whether ECS
      // converts these strings before authorizing; if it does not, the numeric ceiling above never
      // matches, so exactly the orchestrator's strings are allowed as well (and nothing larger).
      sid: 'RegisterRunnerTaskDefinitionsOfOrchestratorSize',
      actions: ['ecs:RegisterTaskDefinition'],
      resources: [family],
      conditions: {
        ...fargateUnprivileged,
        StringEquals: { 'ecs:task-cpu': ORCHESTRATOR_TASK_CPU, 'ecs:task-memory': ORCHESTRATOR_TASK_MEMORY },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DeleteRunnerTaskDefinitions',
      actions: ['ecs:DeleteTaskDefinitions'],
      resources: [family],
    }),
    new iam.PolicyStatement({
      // The service authorization reference gives these actions no resource type.
      sid: 'ListAndDeregisterTaskDefinitions',
      actions: ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      // RunTask's resource is the task definition; the cluster is only a condition key. The
      // orchestrator sets no overrides, ECS Exec or volume configurations, so those keys may be
      // absent from its requests (IfExists); a request that sets them stays within the bounds.
      sid: 'RunRunnerTasksOnRunnerClusterOnly',
      actions: ['ecs:RunTask'],
      resources: [family],
      conditions: {
        ...onThisCluster,
        StringEqualsIfExists: { 'ecs:enable-execute-command': 'false', 'ecs:enable-ebs-volumes': 'false' },
        NumericLessThanEqualsIfExists: { 'ecs:task-cpu': props.maxTaskCpu, 'ecs:task-memory': props.maxTaskMemoryMiB },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DescribeTasksOfRunnerCluster',
      actions: ['ecs:DescribeTasks'],
      resources: [clusterTasks],
      conditions: onThisCluster,
    }),
    new iam.PolicyStatement({
      // TagResource has no ecs:cluster condition key; the task ARN (task/<cluster name>/*) keeps
      // it to this cluster, and ecs:CreateAction to the tags RunTask sets on the new task.
      sid: 'TagTasksOfRunnerCluster',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
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

/** The execution role's statements: its own, and those derived from user input (secrets). */
function executionStatements(
  stack: Stack,
  props: RunnerRolesProps,
): { own: iam.PolicyStatement[]; fromProps: iam.PolicyStatement[] } {
  const own: iam.PolicyStatement[] = [];
  const fromProps: iam.PolicyStatement[] = [];
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
