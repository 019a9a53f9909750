/**
 * The contract, call by call: every AWS request the orchestrator's ECS driver, ECS and a job make
 * with a runner's roles (../shared/platform-orchestrator/README.md, "How the orchestrator uses an
 * ECS runner"), with the request context AWS builds for each, and the attacks a runner's policies
 * must refuse. Sample values stand in for what differs per deployment (environment UUID, task id).
 */
import { ContractCall } from './contract';
import { RunnerModel } from './model';

/** The sample deployment every call is made for. */
export const SAMPLE = {
  envUuid: '4f0c2a9e-8d1b-4c7a-9e3f-1a2b3c4d5e6f',
  projectId: 'sample-project',
  envId: 'development',
  deploymentId: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  taskId: '0123456789abcdef0123456789abcdef',
  revision: 2,
  /** Task size the orchestrator registers (fixed): 0.5 vCPU, 1 GB. */
  cpu: '512',
  memory: '1024',
  /** A size no runner should admit: 16 vCPU, 120 GB. */
  largeCpu: '16384',
  largeMemory: '122880',
} as const;

/** `<path_prefix>/<envUuid>.tfstate`, joined as the job joins paths (no prefix: `<envUuid>.tfstate`). */
export function stateKey(pathPrefix: string | undefined, envUuid: string = SAMPLE.envUuid): string {
  const parts = [...(pathPrefix ?? '').split('/'), `${envUuid}.tfstate`].filter((p) => p !== '' && p !== '.');
  return parts.join('/');
}

/** The family the orchestrator registers for the sample environment. */
export function taskFamily(runner: RunnerModel): string {
  return `${runner.orchestrator.taskDefinitionFamilyPrefix}env_${runner.orgId}_${SAMPLE.envUuid}`;
}

/** The value of the ManagedBy tag the orchestrator writes. */
function managedBy(runner: RunnerModel): string {
  return runner.orchestrator.name === 'humanitec'
    ? 'humanitec-platform-orchestrator'
    : 'platform-orchestrator-platform-orchestrator';
}

function tagContext(tags: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) out[`aws:RequestTag/${k}`] = v;
  return out;
}

/** Every call of the contract and every attack, for one runner. */
export function contractCalls(runner: RunnerModel): ContractCall[] {
  const { partition, region, account } = runner.env;
  const ecsArn = (resource: string) => `arn:${partition}:ecs:${region}:${account}:${resource}`;
  const family = taskFamily(runner);
  const taskDefinitionArn = ecsArn(`task-definition/${family}:${SAMPLE.revision}`);
  const taskArn = ecsArn(`task/${runner.cluster.name}/${SAMPLE.taskId}`);
  const otherClusterArn = ecsArn('cluster/other-cluster');
  const issuer = runner.orchestrator.issuer;
  const sub = `${runner.orgId}+${runner.runnerId}`.slice(0, 255);

  const definitionTags = {
    ManagedBy: managedBy(runner),
    PlatformOrchestratorOrgId: runner.orgId,
    PlatformOrchestratorProjectId: SAMPLE.projectId,
    PlatformOrchestratorEnvId: SAMPLE.envId,
    PlatformOrchestratorRunnerId: runner.runnerId,
  };
  const taskTags = { ...definitionTags, PlatformOrchestratorDeploymentId: SAMPLE.deploymentId };

  const principalContext = (role: { arn: string }) => ({
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': role.arn,
    'aws:PrincipalAccount': account,
  });
  const tm = principalContext(runner.taskManagerRole);
  const exec = principalContext(runner.executionRole);
  const job = principalContext(runner.taskRole);

  const calls: ContractCall[] = [];
  const add = (call: Omit<ContractCall, 'roleLogicalId'> & { roleLogicalId?: string }) => {
    const roleLogicalId =
      call.roleLogicalId ??
      {
        'web-identity': runner.taskManagerRole.logicalId,
        'task-manager': runner.taskManagerRole.logicalId,
        execution: runner.executionRole.logicalId,
        task: runner.taskRole.logicalId,
      }[call.principal];
    calls.push({ ...call, roleLogicalId });
  };

  // --- 1-2. Token exchange.
  const token = (aud: string, subject: string) => ({
    [`${issuer}:aud`]: aud,
    [`${issuer}:sub`]: subject,
    'aws:FederatedProvider': runner.oidcProviderArn,
    'sts:RoleSessionName': runner.sessionName,
    'aws:SecureTransport': 'true',
  });
  add({
    id: 'token:sts:AssumeRoleWithWebIdentity',
    description: `the orchestrator exchanges its OIDC token (iss ${issuer}, aud sts.amazonaws.com, sub ${sub}) for a session of the task-manager role`,
    principal: 'web-identity',
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: runner.taskManagerRole.arn,
    context: token('sts.amazonaws.com', sub),
    expect: 'allowed',
  });

  // --- 3. Per deployment, with that session.
  add({
    id: 'task-manager:ecs:ListTaskDefinitions',
    description: `lists the ACTIVE, then INACTIVE, revisions of family ${family}`,
    principal: 'task-manager',
    action: 'ecs:ListTaskDefinitions',
    resource: '*',
    context: tm,
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:DeregisterTaskDefinition',
    description: `deregisters old revisions of ${family}`,
    principal: 'task-manager',
    action: 'ecs:DeregisterTaskDefinition',
    resource: '*',
    context: tm,
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:DeleteTaskDefinitions',
    description: `deletes INACTIVE revisions of ${family}`,
    principal: 'task-manager',
    action: 'ecs:DeleteTaskDefinitions',
    resource: ecsArn(`task-definition/${family}:1`),
    context: tm,
    expect: 'allowed',
  });
  const register = {
    ...tm,
    ...tagContext(definitionTags),
    'ecs:compute-compatibility': 'FARGATE',
    'ecs:privileged': 'false',
    'ecs:task-cpu': SAMPLE.cpu,
    'ecs:task-memory': SAMPLE.memory,
  };
  add({
    id: 'task-manager:ecs:RegisterTaskDefinition',
    description: `registers ${family} (FARGATE, awsvpc, 512 CPU / 1024 MB, container main, both roles, tags)`,
    principal: 'task-manager',
    action: 'ecs:RegisterTaskDefinition',
    resource: taskDefinitionArn,
    context: register,
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:TagResource:RegisterTaskDefinition',
    description: 'tags the task definition as it is registered (ecs:CreateAction RegisterTaskDefinition)',
    principal: 'task-manager',
    action: 'ecs:TagResource',
    resource: taskDefinitionArn,
    context: { ...tm, ...tagContext(definitionTags), 'ecs:CreateAction': 'RegisterTaskDefinition' },
    expect: 'allowed',
  });
  for (const [which, role] of [
    ['execution', runner.executionRole],
    ['task', runner.taskRole],
  ] as const) {
    add({
      id: `task-manager:iam:PassRole:${which}`,
      description: `passes the ${which} role to ECS tasks (RegisterTaskDefinition and RunTask)`,
      principal: 'task-manager',
      action: 'iam:PassRole',
      resource: role.arn,
      context: { ...tm, 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      expect: 'allowed',
    });
  }
  const runTask = {
    ...tm,
    ...tagContext(taskTags),
    'ecs:cluster': runner.cluster.arn,
    'ecs:enable-execute-command': 'false',
    'ecs:enable-ebs-volumes': 'false',
  };
  add({
    id: 'task-manager:ecs:RunTask',
    description: `runs ${family} on cluster ${runner.cluster.name} with launch type FARGATE, no overrides, tags`,
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: taskDefinitionArn,
    context: runTask,
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:TagResource:RunTask',
    description: 'tags the new task as it starts (ecs:CreateAction RunTask)',
    principal: 'task-manager',
    action: 'ecs:TagResource',
    resource: taskArn,
    context: { ...tm, ...tagContext(taskTags), 'ecs:CreateAction': 'RunTask' },
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:ListTasks',
    description: `lists the family's RUNNING, then STOPPED tasks on ${runner.cluster.name}`,
    principal: 'task-manager',
    action: 'ecs:ListTasks',
    resource: '*',
    context: { ...tm, 'ecs:cluster': runner.cluster.arn },
    expect: 'allowed',
  });
  add({
    id: 'task-manager:ecs:DescribeTasks',
    description: 'describes those tasks (include TAGS)',
    principal: 'task-manager',
    action: 'ecs:DescribeTasks',
    resource: taskArn,
    context: { ...tm, 'ecs:cluster': runner.cluster.arn },
    expect: 'allowed',
  });

  // --- ECS starts the job with the execution role.
  for (const secret of runner.secrets) {
    add({
      id: `execution:${secret.service === 'ssm' ? 'ssm:GetParameters' : 'secretsmanager:GetSecretValue'}:${secret.name}`,
      description: `reads job secret ${secret.name} (${secret.valueFrom})`,
      principal: 'execution',
      action: secret.service === 'ssm' ? 'ssm:GetParameters' : 'secretsmanager:GetSecretValue',
      resource: secret.resourceArn,
      context: exec,
      expect: 'allowed',
    });
    if (secret.keyArn !== undefined) {
      add({
        id: `execution:kms:Decrypt:${secret.name}`,
        description: `decrypts job secret ${secret.name} with its key, through Secrets Manager`,
        principal: 'execution',
        action: 'kms:Decrypt',
        resource: secret.keyArn,
        context: {
          ...exec,
          'kms:ViaService': `secretsmanager.${region}.amazonaws.com`,
          'kms:CallerAccount': account,
          'kms:EncryptionContext:SecretARN': secret.resourceArn,
        },
        expect: 'allowed',
      });
    }
  }
  if (runner.ecrRepositoryArn !== undefined) {
    add({
      id: 'execution:ecr:GetAuthorizationToken',
      description: `authenticates to ECR to pull ${runner.image}`,
      principal: 'execution',
      action: 'ecr:GetAuthorizationToken',
      resource: '*',
      context: exec,
      expect: 'allowed',
    });
    for (const action of ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage']) {
      add({
        id: `execution:${action}`,
        description: `pulls the job image ${runner.image}`,
        principal: 'execution',
        action,
        resource: runner.ecrRepositoryArn,
        context: exec,
        expect: 'allowed',
      });
    }
  }

  // --- 4. The job's OpenTofu S3 backend, with the task role.
  const key = stateKey(runner.pathPrefix);
  const lock = `${key}.tflock`;
  const object = (k: string) => `${runner.bucket.arn}/${k}`;
  add({
    id: 'task:s3:ListBucket:workspaces',
    description: 'lists the workspaces (s3:prefix env:/)',
    principal: 'task',
    action: 's3:ListBucket',
    resource: runner.bucket.arn,
    context: { ...job, 's3:prefix': 'env:/' },
    expect: 'allowed',
  });
  add({
    id: 'task:s3:ListBucket:state',
    description: `lists the state key (s3:prefix ${key})`,
    principal: 'task',
    action: 's3:ListBucket',
    resource: runner.bucket.arn,
    context: { ...job, 's3:prefix': key },
    expect: 'allowed',
  });
  for (const [action, k, what] of [
    ['s3:GetObject', key, 'reads the state'],
    ['s3:PutObject', key, 'writes the state'],
    ['s3:PutObject', lock, 'takes the lock (use_lockfile)'],
    ['s3:GetObject', lock, 'reads the lock'],
    ['s3:DeleteObject', lock, 'releases the lock'],
  ] as const) {
    add({
      id: `task:${action}:${k === key ? 'state' : 'lock'}`,
      description: `${what}: ${k}`,
      principal: 'task',
      action,
      resource: object(k),
      context: job,
      expect: 'allowed',
    });
  }
  const kmsKey = runner.bucket.kmsKeyArn;
  const viaS3 = (k: string) => ({
    ...job,
    'kms:ViaService': `s3.${region}.amazonaws.com`,
    'kms:CallerAccount': account,
    'kms:EncryptionContext:aws:s3:arn': runner.bucket.bucketKeyEnabled ? runner.bucket.arn : object(k),
  });
  if (kmsKey !== undefined) {
    add({
      id: 'task:kms:GenerateDataKey:state',
      description: 'S3 asks for a data key to encrypt the state it writes (SSE-KMS, the bucket default)',
      principal: 'task',
      action: 'kms:GenerateDataKey',
      resource: kmsKey,
      context: viaS3(key),
      expect: 'allowed',
    });
    add({
      id: 'task:kms:Decrypt:state',
      description: 'S3 decrypts the data key of the state it reads',
      principal: 'task',
      action: 'kms:Decrypt',
      resource: kmsKey,
      context: viaS3(key),
      expect: 'allowed',
    });
  }

  // --- Attacks.
  add({
    id: 'attack:token-other-org',
    description: "another org's token (sub other-org+<runner>) cannot assume the task-manager role",
    principal: 'web-identity',
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: runner.taskManagerRole.arn,
    context: token('sts.amazonaws.com', `other-org+${runner.runnerId}`),
    expect: 'denied',
  });
  add({
    id: 'attack:token-other-runner',
    description: "another runner's token (sub <org>+other-runner) cannot assume the task-manager role",
    principal: 'web-identity',
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: runner.taskManagerRole.arn,
    context: token('sts.amazonaws.com', `${runner.orgId}+other-runner`),
    expect: 'denied',
  });
  add({
    id: 'attack:token-other-audience',
    description: 'a token for another audience cannot assume the task-manager role',
    principal: 'web-identity',
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: runner.taskManagerRole.arn,
    context: token('https://other.example.com', sub),
    expect: 'denied',
  });
  const outside = ecsArn(`task-definition/other-family:1`);
  add({
    id: 'attack:RegisterTaskDefinition-other-family',
    description: `a family outside ${runner.orchestrator.taskDefinitionFamilyScope} cannot be registered`,
    principal: 'task-manager',
    action: 'ecs:RegisterTaskDefinition',
    resource: outside,
    context: register,
    expect: 'denied',
  });
  add({
    id: 'attack:RunTask-other-family',
    description: `a task definition outside ${runner.orchestrator.taskDefinitionFamilyScope} cannot be run`,
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: outside,
    context: runTask,
    expect: 'denied',
  });
  if (runner.orchestrator.taskDefinitionFamilyScope.includes(runner.orgId)) {
    const otherOrgFamily = ecsArn(
      `task-definition/${runner.orchestrator.taskDefinitionFamilyPrefix}env_other-org_${SAMPLE.envUuid}:1`,
    );
    add({
      id: 'attack:RegisterTaskDefinition-other-org-family',
      description: "another org's family cannot be registered",
      principal: 'task-manager',
      action: 'ecs:RegisterTaskDefinition',
      resource: otherOrgFamily,
      context: register,
      expect: 'denied',
    });
    add({
      id: 'attack:RunTask-other-org-family',
      description: "another org's task definition cannot be run",
      principal: 'task-manager',
      action: 'ecs:RunTask',
      resource: otherOrgFamily,
      context: runTask,
      expect: 'denied',
    });
  }
  add({
    id: 'attack:RunTask-other-cluster',
    description: 'the runner family cannot be run on another cluster (ecs:cluster)',
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: taskDefinitionArn,
    context: { ...runTask, 'ecs:cluster': otherClusterArn },
    expect: 'denied',
  });
  add({
    id: 'attack:TagResource-other-cluster',
    description: "a task on another cluster cannot be tagged (the session's tagging is for its own tasks)",
    principal: 'task-manager',
    action: 'ecs:TagResource',
    resource: ecsArn(`task/other-cluster/${SAMPLE.taskId}`),
    context: { ...tm, ...tagContext(taskTags), 'ecs:CreateAction': 'RunTask' },
    expect: 'denied',
  });
  add({
    id: 'attack:PassRole-other-role',
    description: 'another role of the account cannot be passed to ECS tasks',
    principal: 'task-manager',
    action: 'iam:PassRole',
    resource: `arn:${partition}:iam::${account}:role/AdministratorRole`,
    context: { ...tm, 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    expect: 'denied',
  });
  add({
    id: 'attack:PassRole-execution-to-other-service',
    description: 'the execution role cannot be passed to another service (Lambda)',
    principal: 'task-manager',
    action: 'iam:PassRole',
    resource: runner.executionRole.arn,
    context: { ...tm, 'iam:PassedToService': 'lambda.amazonaws.com' },
    expect: 'denied',
  });
  add({
    id: 'attack:PassRole-task-to-other-service',
    description: 'the task role cannot be passed to another service (EC2)',
    principal: 'task-manager',
    action: 'iam:PassRole',
    resource: runner.taskRole.arn,
    context: { ...tm, 'iam:PassedToService': 'ec2.amazonaws.com' },
    expect: 'denied',
  });
  add({
    id: 'attack:RegisterTaskDefinition-privileged',
    description: 'a privileged container cannot be registered (ecs:privileged)',
    principal: 'task-manager',
    action: 'ecs:RegisterTaskDefinition',
    resource: taskDefinitionArn,
    context: { ...register, 'ecs:privileged': 'true' },
    expect: 'denied',
  });
  add({
    id: 'attack:RegisterTaskDefinition-ec2',
    description: 'an EC2 task definition cannot be registered (ecs:compute-compatibility)',
    principal: 'task-manager',
    action: 'ecs:RegisterTaskDefinition',
    resource: taskDefinitionArn,
    context: { ...register, 'ecs:compute-compatibility': 'EC2' },
    expect: 'denied',
  });
  add({
    id: 'attack:RegisterTaskDefinition-large',
    description: `a 16 vCPU / 120 GB task definition cannot be registered (ecs:task-cpu, ecs:task-memory)`,
    principal: 'task-manager',
    action: 'ecs:RegisterTaskDefinition',
    resource: taskDefinitionArn,
    context: { ...register, 'ecs:task-cpu': SAMPLE.largeCpu, 'ecs:task-memory': SAMPLE.largeMemory },
    expect: 'denied',
  });
  add({
    id: 'attack:RunTask-execute-command',
    description: 'a task cannot be run with ECS Exec (ecs:enable-execute-command)',
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: taskDefinitionArn,
    context: { ...runTask, 'ecs:enable-execute-command': 'true' },
    expect: 'denied',
  });
  add({
    id: 'attack:RunTask-ebs-volumes',
    description: 'a task cannot be run with EBS volumes (ecs:enable-ebs-volumes)',
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: taskDefinitionArn,
    context: { ...runTask, 'ecs:enable-ebs-volumes': 'true' },
    expect: 'denied',
  });
  add({
    id: 'attack:RunTask-large-override',
    description: 'a task cannot be run with a 16 vCPU / 120 GB override (ecs:task-cpu, ecs:task-memory)',
    principal: 'task-manager',
    action: 'ecs:RunTask',
    resource: taskDefinitionArn,
    context: { ...runTask, 'ecs:task-cpu': SAMPLE.largeCpu, 'ecs:task-memory': SAMPLE.largeMemory },
    expect: 'denied',
  });
  add({
    id: 'attack:task-manager-reads-state',
    description: "the orchestrator's session cannot read the Terraform state",
    principal: 'task-manager',
    action: 's3:GetObject',
    resource: object(key),
    context: tm,
    expect: 'denied',
  });
  add({
    id: 'attack:task-manager-assumes-task-role',
    description: "the orchestrator's session cannot assume the task role (and read the state through it)",
    principal: 'task-manager',
    action: 'sts:AssumeRole',
    resource: runner.taskRole.arn,
    context: tm,
    expect: 'denied',
  });
  add({
    id: 'attack:job-reads-other-bucket',
    description: 'a job cannot read another bucket',
    principal: 'task',
    action: 's3:GetObject',
    resource: `arn:${partition}:s3:::other-bucket/${key}`,
    context: job,
    expect: 'denied',
  });
  add({
    id: 'attack:job-deletes-bucket',
    description: 'a job cannot delete the state bucket',
    principal: 'task',
    action: 's3:DeleteBucket',
    resource: runner.bucket.arn,
    context: job,
    expect: 'denied',
  });
  add({
    id: 'attack:job-deletes-state',
    description: `a job cannot delete the state object ${key} (DeleteObject is for *.tflock lock files only)`,
    principal: 'task',
    action: 's3:DeleteObject',
    resource: object(key),
    context: job,
    expect: 'denied',
  });
  add({
    id: 'attack:job-deletes-state-version',
    description: `a job cannot delete a version of ${key} (the history versioning keeps)`,
    principal: 'task',
    action: 's3:DeleteObjectVersion',
    resource: object(key),
    context: job,
    expect: 'denied',
  });
  if (runner.bucket.logicalId !== undefined) {
    add({
      id: 'attack:job-writes-without-tls',
      description: 'the state cannot be written without TLS (aws:SecureTransport false)',
      principal: 'task',
      action: 's3:PutObject',
      resource: object(key),
      context: { ...job, 'aws:SecureTransport': 'false' },
      expect: 'denied',
    });
  }
  if (kmsKey !== undefined) {
    add({
      id: 'attack:job-decrypts-outside-s3',
      description: 'a job cannot use the state key directly, outside S3 (kms:ViaService)',
      principal: 'task',
      action: 'kms:Decrypt',
      resource: kmsKey,
      context: { ...job, 'kms:CallerAccount': account },
      expect: 'denied',
    });
  }
  return calls;
}
