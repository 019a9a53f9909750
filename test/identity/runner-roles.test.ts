import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EcsRunner, Orchestrator, RunnerEncryption, StateBucket } from 'platform-orchestrator-ecs-runner';
import { logicalId, minimalProps, newStack, statementsOfRole, synthRunner } from '../support/stacks';
import { secretFromArn } from '../support/secrets';

const TASK_DEFS = (family = 'humanitec_') => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:eu-central-1:123456789012:task-definition/${family}*`]],
});

/** The logical id of the one resource of `type` in the template (fails if there are none or several). */
const onlyResourceOf = (template: Template, type: string): string => logicalId(template, type, '');

/** The task role's state statements every runner has, for a state bucket of this logical id. */
const STATE_STATEMENTS = (bucket: string, prefix = '') => [
  { Sid: 'ListStateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
  {
    Sid: 'ReadWriteState',
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*`]] },
  },
  {
    Sid: 'DeleteStateLockFiles',
    Effect: 'Allow',
    Action: 's3:DeleteObject',
    Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*.tflock`]] },
  },
];

const STELLWERK = { oidcIssuer: 'stellwerk.example.com/oidc', apiUrl: 'https://stellwerk.example.com/api' };

function roles(template: Template) {
  return {
    manager: logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskManagerRole'),
    execution: logicalId(template, 'AWS::IAM::Role', 'RunnerRolesExecutionRole'),
    task: logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskRole'),
  };
}

describe('task-manager role', () => {
  test('is trusted only through AssumeRoleWithWebIdentity with audience and subject', () => {
    // GIVEN
    const { template } = synthRunner({ runnerId: 'r1' });
    const { manager } = roles(template);
    const oidcProvider = onlyResourceOf(template, 'AWS::IAM::OIDCProvider');
    // THEN
    const trust = template.toJSON().Resources[manager].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: { Ref: oidcProvider } },
        Condition: {
          StringEquals: { 'oidc.humanitec.dev:aud': 'sts.amazonaws.com', 'oidc.humanitec.dev:sub': 'my-org+r1' },
        },
      },
    ]);
  });

  test('has exactly the permissions of the orchestrator flow', () => {
    // GIVEN
    const { template } = synthRunner({ runnerId: 'r1' });
    const { manager, execution, task } = roles(template);
    const clusterId = onlyResourceOf(template, 'AWS::ECS::Cluster');
    const cluster = { 'Fn::GetAtt': [clusterId, 'Arn'] };
    const tasksOfCluster = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-central-1:123456789012:task/', { Ref: clusterId }, '/*'],
      ],
    };
    // THEN
    expect(statementsOfRole(template, manager)).toEqual([
      {
        // the orchestrator registers cpu 512 / memory 1024, FARGATE, nothing privileged
        Sid: 'RegisterRunnerTaskDefinitions',
        Effect: 'Allow',
        Action: 'ecs:RegisterTaskDefinition',
        Resource: TASK_DEFS(),
        Condition: {
          'ForAllValues:StringEquals': { 'ecs:compute-compatibility': ['FARGATE'] },
          Null: { 'ecs:compute-compatibility': 'false' },
          StringEqualsIfExists: { 'ecs:privileged': 'false' },
          NumericLessThanEquals: { 'ecs:task-cpu': 2048, 'ecs:task-memory': 4096 },
        },
      },
      {
        // the orchestrator's ECS driver writes the size as ".5 vCPU" / "1 GB": exactly those too
        Sid: 'RegisterRunnerTaskDefinitionsOfOrchestratorSize',
        Effect: 'Allow',
        Action: 'ecs:RegisterTaskDefinition',
        Resource: TASK_DEFS(),
        Condition: {
          'ForAllValues:StringEquals': { 'ecs:compute-compatibility': ['FARGATE'] },
          Null: { 'ecs:compute-compatibility': 'false' },
          StringEqualsIfExists: { 'ecs:privileged': 'false' },
          StringEquals: { 'ecs:task-cpu': '.5 vCPU', 'ecs:task-memory': '1 GB' },
        },
      },
      {
        Sid: 'DeleteRunnerTaskDefinitions',
        Effect: 'Allow',
        Action: 'ecs:DeleteTaskDefinitions',
        Resource: TASK_DEFS(),
      },
      {
        Sid: 'ListAndDeregisterTaskDefinitions',
        Effect: 'Allow',
        Action: ['ecs:ListTaskDefinitions', 'ecs:DeregisterTaskDefinition'],
        Resource: '*',
      },
      {
        Sid: 'RunRunnerTasksOnRunnerClusterOnly',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: TASK_DEFS(),
        Condition: {
          ArnEquals: { 'ecs:cluster': cluster },
          // absent unless the request sets ECS Exec, EBS volumes or overrides
          StringEqualsIfExists: { 'ecs:enable-execute-command': 'false', 'ecs:enable-ebs-volumes': 'false' },
          NumericLessThanEqualsIfExists: { 'ecs:task-cpu': 2048, 'ecs:task-memory': 4096 },
        },
      },
      {
        Sid: 'DescribeTasksOfRunnerCluster',
        Effect: 'Allow',
        Action: 'ecs:DescribeTasks',
        Resource: tasksOfCluster,
        Condition: { ArnEquals: { 'ecs:cluster': cluster } },
      },
      // TagResource has no ecs:cluster condition key: the task ARN keeps it to this cluster,
      // ecs:CreateAction to the tags RunTask sets
      {
        Sid: 'TagTasksOfRunnerCluster',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: tasksOfCluster,
        Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      },
      {
        Sid: 'ListTasksOfRunnerCluster',
        Effect: 'Allow',
        Action: 'ecs:ListTasks',
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': cluster } },
      },
      {
        Sid: 'TagRunnerTaskDefinitionsOnRegister',
        Effect: 'Allow',
        Action: 'ecs:TagResource',
        Resource: TASK_DEFS(),
        Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      },
      {
        Sid: 'PassRunnerTaskRolesToEcsTasks',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [{ 'Fn::GetAtt': [execution, 'Arn'] }, { 'Fn::GetAtt': [task, 'Arn'] }],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
  });

  test.each([
    [
      'Stellwerk: its families carry the org id',
      Orchestrator.stellwerk(STELLWERK),
      'platform_orchestrator_env_my-org_',
    ],
    [
      'custom: the given prefix',
      Orchestrator.custom({ ...STELLWERK, taskDefinitionFamilyPrefix: 'acme-po-' }),
      'acme-po-',
    ],
  ])("the orchestrator's family scope scopes every task-definition statement (%s)", (_, orchestrator, family) => {
    const { template } = synthRunner({ orchestrator });
    const { manager } = roles(template);
    const scoped = statementsOfRole(template, manager).filter(
      (s) => s.Resource !== '*' && JSON.stringify(s.Action).match(/TaskDefinition|RunTask/),
    );
    expect(scoped).toHaveLength(4);
    scoped.forEach((s) => expect(s.Resource).toEqual(TASK_DEFS(family)));
    const tagDefs = statementsOfRole(template, manager).find((s) => s.Sid === 'TagRunnerTaskDefinitionsOnRegister');
    expect(tagDefs.Resource).toEqual(TASK_DEFS(family));
  });

  test('the task-size ceiling is configurable and validated', () => {
    const { template } = synthRunner({ maxTaskCpu: 1024, maxTaskMemoryMiB: 2048 });
    const statements = statementsOfRole(template, roles(template).manager);
    const register = statements.find((s) => s.Sid === 'RegisterRunnerTaskDefinitions');
    const run = statements.find((s) => s.Sid === 'RunRunnerTasksOnRunnerClusterOnly');
    expect(register.Condition.NumericLessThanEquals).toEqual({ 'ecs:task-cpu': 1024, 'ecs:task-memory': 2048 });
    expect(run.Condition.NumericLessThanEqualsIfExists).toEqual({ 'ecs:task-cpu': 1024, 'ecs:task-memory': 2048 });
    // below the orchestrator's own 512 / 1024, or above Fargate's maximum, is an error
    expect(() => synthRunner({ maxTaskCpu: 256 })).toThrow(
      /Invalid maxTaskCpu: 256\. Expected a whole number from 512 to 16384/,
    );
    expect(() => synthRunner({ maxTaskMemoryMiB: 512 })).toThrow(
      /Invalid maxTaskMemoryMiB: 512\. Expected a whole number from 1024 to 122880/,
    );
    expect(() => synthRunner({ maxTaskCpu: 1500.5 })).toThrow(/Invalid maxTaskCpu/);
  });
});

describe('execution role', () => {
  test('is trusted by ECS tasks of this account only', () => {
    const { template } = synthRunner();
    const { execution } = roles(template);
    expect(template.toJSON().Resources[execution].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-central-1:123456789012:*']],
            },
          },
        },
      },
    ]);
  });

  test('reads exactly the configured secrets (the reference forgets this), writes no logs', () => {
    // GIVEN
    const secret = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db-AbCdEf';
    const parameter = 'arn:aws:ssm:eu-central-1:123456789012:parameter/prod/token';
    const stack = newStack();
    const { template } = synthRunner(
      { secrets: { DB: secretFromArn(stack, secret), API_TOKEN: secretFromArn(stack, parameter) } },
      stack,
    );
    // THEN what ecs.Secret.grantRead gives, on exactly these two
    const { execution } = roles(template);
    const statements = statementsOfRole(template, execution);
    expect(statements).toHaveLength(2);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: secret,
        },
        {
          Effect: 'Allow',
          Action: ['ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory'],
          // The parameter is imported by name, so its ARN is the stack's partition, region and account.
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, parameter.replace(/^arn:aws/, '')]] },
        },
      ]),
    );
  });

  test('with the default image and no secrets the execution role has no policy at all', () => {
    // the orchestrator's task definitions have no log configuration, its default image is public
    const { template } = synthRunner();
    expect(statementsOfRole(template, roles(template).execution)).toEqual([]);
    template.resourcePropertiesCountIs(
      'AWS::IAM::ManagedPolicy',
      { Description: Match.stringLikeRegexp('start jobs') },
      0,
    );
  });

  test('a private ECR image gets pull rights on its repository only; a public image none', () => {
    // GIVEN
    const ecr = synthRunner({ image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/runner/terraform:1.9' }).template;
    const pub = synthRunner({ image: 'ghcr.io/acme/runner:1.0' }).template;
    // THEN
    expect(statementsOfRole(ecr, roles(ecr).execution)).toEqual([
      { Sid: 'AuthenticateToEcr', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'PullJobImage',
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-central-1:123456789012:repository/runner/terraform'],
          ],
        },
      },
    ]);
    expect(statementsOfRole(pub, roles(pub).execution)).toEqual([]);
  });

  test('customer managed secret keys are decryptable through Secrets Manager and SSM only', () => {
    // GIVEN
    const stack = newStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'K',
      'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    );
    const { template } = synthRunner({ secretsEncryptionKeys: [key] }, stack);
    // THEN
    expect(statementsOfRole(template, roles(template).execution)).toEqual([
      {
        Sid: 'DecryptJobSecrets',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555',
        Condition: {
          StringEquals: {
            'kms:ViaService': ['secretsmanager.eu-central-1.amazonaws.com', 'ssm.eu-central-1.amazonaws.com'],
          },
        },
      },
    ]);
  });
});

describe('task role', () => {
  test('is trusted by ECS tasks of this account only, not by the task-manager role', () => {
    // the orchestrator never assumes the task role: its session must not reach the state
    const { template } = synthRunner();
    const { execution, task } = roles(template);
    const trust = (id: string) => template.toJSON().Resources[id].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust(task)).toEqual([
      expect.objectContaining({
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': '123456789012' } }),
      }),
    ]);
    expect(trust(task)).toEqual(trust(execution));
  });

  test('reads and writes state under the prefix, deletes only lock files', () => {
    const { template } = synthRunner({ state: { pathPrefix: 'runners/prod' } });
    const { task } = roles(template);
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
    const objects = (suffix: string) => ({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/runners/prod/${suffix}`]],
    });
    expect(statementsOfRole(template, task)).toEqual([
      { Sid: 'ListStateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } },
      { Sid: 'ReadWriteState', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objects('*') },
      { Sid: 'DeleteStateLockFiles', Effect: 'Allow', Action: 's3:DeleteObject', Resource: objects('*.tflock') },
    ]);
  });

  test('with a CMK, gets the data-key operations through S3 only', () => {
    // GIVEN
    const { template } = synthRunner({ encryption: RunnerEncryption.createKey() });
    const key = onlyResourceOf(template, 'AWS::KMS::Key');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
    // THEN
    expect(statementsOfRole(template, roles(template).task)).toEqual([
      ...STATE_STATEMENTS(bucket),
      {
        Sid: 'StateDataKeys',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [key, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      },
    ]);
  });

  test('user statements, managed policies and assumable deployment roles', () => {
    // GIVEN
    const stack = newStack();
    const { template } = synthRunner(
      {
        taskRoleStatements: [
          new iam.PolicyStatement({
            actions: ['sqs:CreateQueue'],
            resources: ['arn:aws:sqs:eu-central-1:123456789012:app-*'],
          }),
        ],
        taskRoleManagedPolicies: [iam.ManagedPolicy.fromManagedPolicyName(stack, 'P', 'deploy-apps')],
        assumableRoleArns: ['arn:aws:iam::210987654321:role/deployer'],
      },
      stack,
    );
    const { task } = roles(template);
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket');
    // THEN
    expect(statementsOfRole(template, task)).toEqual([
      ...STATE_STATEMENTS(bucket),
      { Effect: 'Allow', Action: 'sqs:CreateQueue', Resource: 'arn:aws:sqs:eu-central-1:123456789012:app-*' },
      {
        Sid: 'AssumeDeploymentRoles',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: 'arn:aws:iam::210987654321:role/deployer',
      },
    ]);
    expect(template.toJSON().Resources[task].Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:policy/deploy-apps']] },
    ]);
  });
});

describe('partition awareness and governance', () => {
  test('no IAM policy or trust policy hard-codes the aws partition', () => {
    const { template } = synthRunner({
      encryption: RunnerEncryption.createKey(),
      image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/x:1',
    });
    const iamJson = JSON.stringify(
      Object.values(template.toJSON().Resources as Record<string, any>).filter(
        (r) => r.Type.startsWith('AWS::IAM::') || r.Type === 'AWS::KMS::Key',
      ),
    );
    expect(iamJson).not.toMatch(/"arn:aws:/);
  });

  test('no AWS managed policy unless the user gives one', () => {
    const { template } = synthRunner({ encryption: RunnerEncryption.createKey() });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/:aws:policy\//);
  });

  test('permissions boundary and path on every role, including CDK provider roles', () => {
    const app = new App();
    const stack = new Stack(app, 'Gov', { env: { account: '123456789012', region: 'eu-central-1' } });
    new EcsRunner(stack, 'Runner', {
      ...minimalProps(),
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'B', 'platform-boundary'),
      rolePath: '/platform/runners/',
      state: { bucket: StateBucket.create({ destroyOnRemoval: true }) },
    });
    const rolesInStack = Template.fromStack(stack).findResources('AWS::IAM::Role');
    expect(Object.keys(rolesInStack).length).toBeGreaterThanOrEqual(4);
    for (const [id, role] of Object.entries(rolesInStack)) {
      expect({ id, path: role.Properties.Path }).toEqual({ id, path: '/platform/runners/' });
      expect({ id, boundary: role.Properties.PermissionsBoundary }).toEqual({
        id,
        boundary: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:policy/platform-boundary']],
        },
      });
    }
  });

  test('roles carry the boundary ARN given as a managed policy object', () => {
    const stack = newStack();
    const boundary = new iam.ManagedPolicy(stack, 'Boundary', {
      statements: [new iam.PolicyStatement({ actions: ['*'], resources: ['*'] })],
    });
    const { template } = synthRunner({ permissionsBoundary: boundary }, stack);
    template.allResourcesProperties('AWS::IAM::Role', {
      PermissionsBoundary: { Ref: Match.stringLikeRegexp('^Boundary') },
    });
  });
});
