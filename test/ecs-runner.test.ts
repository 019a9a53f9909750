import { App, CfnElement, CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner, MANAGED_BY, Orchestrator, RunnerEncryption, RunnerNetwork } from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from './support/cfn';
import { assertValid } from './support/openapi';
import { logicalId, minimalProps, newStack, statementsOfRole, SUBNETS, synthRunner } from './support/stacks';

/** The logical id of the resource a construct (an L2 or an L1) synthesizes to. */
const logicalIdOf = (construct: { node: { defaultChild?: unknown } } | CfnElement): string => {
  const element = construct instanceof CfnElement ? construct : (construct.node.defaultChild as CfnElement);
  return Stack.of(element).getLogicalId(element);
};

/** The logical id of the one resource of `type` in the template (fails if there are none or several). */
const onlyResourceOf = (template: Template, type: string): string => logicalId(template, type, '');

const STELLWERK = Orchestrator.stellwerk({
  oidcIssuer: 'oidc.stellwerk.example.com',
  apiUrl: 'https://stellwerk.example.com',
});

describe('EcsRunner: the reference module scenarios', () => {
  test('defaults: cluster, OIDC provider, three roles, state bucket, no log groups, one output', () => {
    // GIVEN / WHEN
    const { template, runner } = synthRunner();

    // THEN
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.resourceCountIs('AWS::IAM::Role', 3);
    // no job log group: the orchestrator's task definitions have no log configuration
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
    // no capacity providers: the orchestrator runs every job with launchType FARGATE
    template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://oidc.humanitec.dev',
      ClientIdList: ['sts.amazonaws.com'],
      ThumbprintList: Match.absent(),
    });
    expect(runner.runnerId).toMatch(/^runner-[0-9a-f]{10}$/);
    const [body] = registrationBodies(template.toJSON());
    expect(body.id).toBe(runner.runnerId);
    expect(body.runner_configuration.job.is_public_ip_enabled).toBe(false);
    expect(body.runner_configuration.job.subnets).toEqual(SUBNETS);
    expect(body.runner_configuration.job.security_groups).toBeUndefined();
    assertValid('RunnerCreateBody', body);
  });

  test('explicit runner id is used everywhere the orchestrator sees it', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ runnerId: 'prod-runner' });

    // THEN
    const [body] = registrationBodies(template.toJSON());
    expect(body.id).toBe('prod-runner');
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                'oidc.humanitec.dev:aud': 'sts.amazonaws.com',
                'oidc.humanitec.dev:sub': 'my-org+prod-runner',
              },
            },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: 'Runner prod-runner: what the orchestrator may do with its OIDC session',
    });
  });

  test('runner id prefix: derived id is stable, prefixed and matches the API pattern', () => {
    // GIVEN
    const first = synthRunner({ runnerIdPrefix: 'team-a' }).runner.runnerId;
    // WHEN the same stack and path are synthesized again
    const again = synthRunner({ runnerIdPrefix: 'team-a' }).runner.runnerId;
    // THEN
    expect(first).toMatch(/^team-a-[0-9a-f]{10}$/);
    expect(again).toBe(first);
    expect(first).toMatch(/^[a-z][a-z0-9_-]+$/);
  });

  test('derived ids differ by stack name, construct path, account and region', () => {
    const idOf = (stackName: string, path: string, account: string, region: string) => {
      const stack = new Stack(new App(), stackName, { env: { account, region } });
      return new EcsRunner(stack, path, minimalProps()).runnerId;
    };
    const base = idOf('S', 'Runner', '123456789012', 'eu-central-1');
    const others = [
      idOf('T', 'Runner', '123456789012', 'eu-central-1'),
      idOf('S', 'Runner2', '123456789012', 'eu-central-1'),
      idOf('S', 'Runner', '210987654321', 'eu-central-1'),
      idOf('S', 'Runner', '123456789012', 'eu-west-1'),
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });

  test('existing cluster: no cluster created; its ARN (not a wildcard) scopes RunTask', () => {
    // GIVEN
    const stack = newStack();
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Existing', {
      clusterName: 'shared-cluster',
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['eu-central-1a'],
      }),
    });
    // WHEN
    const { template, runner } = synthRunner({ cluster }, stack);
    // THEN
    template.resourceCountIs('AWS::ECS::Cluster', 0);
    template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
    const clusterArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-central-1:123456789012:cluster/shared-cluster']],
    };
    expect(stack.resolve(runner.clusterArn)).toEqual(clusterArn);
    // every cluster-scoped statement of the task-manager role names the given cluster; nothing else changes
    const manager = logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskManagerRole');
    const statements = statementsOfRole(template, manager);
    const bySid = (sid: string) => statements.find((st) => st.Sid === sid);
    for (const sid of [
      'RunRunnerTasksOnRunnerClusterOnly',
      'DescribeTasksOfRunnerCluster',
      'ListTasksOfRunnerCluster',
    ]) {
      expect(bySid(sid).Condition.ArnEquals).toEqual({ 'ecs:cluster': clusterArn });
    }
    const tasksOfCluster = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-central-1:123456789012:task/shared-cluster/*']],
    };
    expect(bySid('DescribeTasksOfRunnerCluster').Resource).toEqual(tasksOfCluster);
    expect(bySid('TagTasksOfRunnerCluster').Resource).toEqual(tasksOfCluster);
    expect(JSON.stringify(statements)).not.toMatch(/:cluster\/\*|"Fn::GetAtt":\["[^"]*Cluster/);
    const [body] = registrationBodies(template.toJSON());
    expect(body.runner_configuration.job.cluster).toBe('shared-cluster');
  });

  test('additional tags and ManagedBy on every taggable resource', () => {
    // GIVEN a runner with every optional resource: key, security group, registration, monitoring
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a'],
    });
    const apiTokenSecret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Token',
      'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
    );
    // WHEN
    const runner = new EcsRunner(
      stack,
      'Runner',
      minimalProps({
        tags: { Team: 'platform', CostCenter: '1234' },
        encryption: RunnerEncryption.createKey(),
        network: RunnerNetwork.fromSubnetIds([...SUBNETS], { vpc }),
        registration: { apiTokenSecret },
      }),
    );
    runner.addMonitoring();
    const template = Template.fromStack(stack).toJSON();
    // THEN every taggable resource (by its L1 construct) carries ManagedBy, and the runner's own also the
    // user's tags; the stack-shared ones (OIDC provider, access-log bucket, registration provider) ManagedBy only
    const taggable = stack.node
      .findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && TagManager.isTaggable(c));
    const tagsOf = (id: string) =>
      Object.fromEntries((template.Resources[id].Properties?.Tags ?? []).map((t: any) => [t.Key, t.Value]));
    const runnerOwn = (c: CfnResource) => c.node.path.startsWith(`${runner.node.path}/`);
    expect([...new Set(taggable.map((c) => c.cfnResourceType))].sort()).toEqual([
      'AWS::EC2::SecurityGroup',
      'AWS::ECS::Cluster',
      'AWS::IAM::OIDCProvider',
      'AWS::IAM::Role',
      'AWS::KMS::Key',
      'AWS::Lambda::Function',
      'AWS::Logs::LogGroup',
      'AWS::S3::Bucket',
      'AWS::SNS::Topic',
    ]);
    for (const c of taggable) {
      const id = stack.getLogicalId(c);
      expect({ id, tags: tagsOf(id) }).toEqual({
        id,
        tags: runnerOwn(c)
          ? { ManagedBy: MANAGED_BY, Team: 'platform', CostCenter: '1234' }
          : { ManagedBy: MANAGED_BY },
      });
    }
    // the shared access-log bucket is among them, with ManagedBy only
    const accessLogs = logicalId(
      Template.fromJSON(template),
      'AWS::S3::Bucket',
      'PlatformOrchestratorRunnerAccessLogs',
    );
    expect(tagsOf(accessLogs)).toEqual({ ManagedBy: MANAGED_BY });
  });

  test('security groups: given groups and ids are registered, at most 5', () => {
    // GIVEN
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a'],
    });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0');
    // WHEN
    const { template, runner } = synthRunner(
      {
        network: RunnerNetwork.fromSubnetIds([...SUBNETS], { vpc }),
        securityGroups: [sg],
        securityGroupIds: ['sg-0fedcba9876543210'],
      },
      stack,
    );
    // THEN
    const [body] = registrationBodies(template.toJSON());
    expect(body.runner_configuration.job.security_groups).toEqual(['sg-0123456789abcdef0', 'sg-0fedcba9876543210']);
    expect(runner.connections.securityGroups).toHaveLength(2);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  test('with a VPC and no security group, an egress-only group is created', () => {
    // GIVEN
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a'],
    });
    // WHEN
    const { template, runner } = synthRunner({ network: RunnerNetwork.fromSubnetIds([...SUBNETS], { vpc }) }, stack);
    // THEN
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }],
    });
    const [body] = registrationBodies(template.toJSON());
    expect(body.runner_configuration.job.security_groups).toHaveLength(1);
    expect(runner.connections.securityGroups).toHaveLength(1);
  });

  test('without VPC or security group, a warning says ECS uses the default group', () => {
    const { stack } = synthRunner();
    Annotations.fromStack(stack).hasWarning('/TestStack/Runner', Match.stringLikeRegexp('default security group'));
  });

  test('subnets as ISubnets and public IP opt-in', () => {
    // GIVEN
    const stack = newStack();
    const subnets = SUBNETS.map((id, i) => ec2.Subnet.fromSubnetId(stack, `S${i}`, id));
    // WHEN
    const runner = new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      network: RunnerNetwork.fromSubnets(subnets),
      assignPublicIp: true,
    });
    // THEN
    const [body] = registrationBodies(Template.fromStack(stack).toJSON());
    expect(body.runner_configuration.job.subnets).toEqual(SUBNETS);
    expect(body.runner_configuration.job.is_public_ip_enabled).toBe(true);
    expect(runner.subnetIds).toEqual(SUBNETS);
  });

  test('existing OIDC provider: none created, the role trusts the given ARN', () => {
    // GIVEN
    const arn = 'arn:aws:iam::123456789012:oidc-provider/oidc.humanitec.dev';
    // WHEN
    const { template, runner } = synthRunner({ oidcProviderArn: arn });
    // THEN
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(runner.oidcProviderArn).toBe(arn);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Federated: arn }, Action: 'sts:AssumeRoleWithWebIdentity' })],
      },
    });
  });

  test('custom issuer host (self-hosted Stellwerk): provider URL and condition keys follow it', () => {
    // GIVEN / WHEN
    const { template } = synthRunner({ orchestrator: STELLWERK, runnerId: 'sw-runner' });
    // THEN
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: 'https://oidc.stellwerk.example.com' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              StringEquals: {
                'oidc.stellwerk.example.com:aud': 'sts.amazonaws.com',
                'oidc.stellwerk.example.com:sub': 'my-org+sw-runner',
              },
            },
          }),
        ],
      },
    });
  });

  test("existing provider with custom host: it must be the orchestrator's issuer", () => {
    // GIVEN
    const arn = 'arn:aws:iam::123456789012:oidc-provider/oidc.stellwerk.example.com';
    // WHEN the orchestrator's issuer is the provider's
    const { template } = synthRunner({ oidcProviderArn: arn, orchestrator: STELLWERK, runnerId: 'sw-runner' });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: { StringEquals: Match.objectLike({ 'oidc.stellwerk.example.com:sub': 'my-org+sw-runner' }) },
          }),
        ],
      },
    });
    // THEN a different issuer (here the default, Humanitec's) fails
    expect(() => synthRunner({ oidcProviderArn: arn })).toThrow(
      /Invalid oidcProviderArn: .*oidc\.stellwerk\.example\.com.*Expected the provider of the orchestrator's issuer "oidc\.humanitec\.dev"/,
    );
  });

  test('two runners in one stack share one OIDC provider and get different ids', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const a = new EcsRunner(stack, 'A', minimalProps());
    const b = new EcsRunner(stack, 'B', minimalProps());
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    expect(a.oidcProviderArn).toBe(b.oidcProviderArn);
    expect(a.runnerId).not.toBe(b.runnerId);
    template.resourceCountIs('AWS::ECS::Cluster', 2);
    template.resourceCountIs('AWS::S3::Bucket', 3); // two state buckets, one shared access-log bucket
    const bodies = registrationBodies(template.toJSON());
    expect(bodies.map((body) => body.id).sort()).toEqual([a.runnerId, b.runnerId].sort());
    bodies.forEach((body) => assertValid('RunnerCreateBody', body));
  });

  test('two issuers in one stack get one provider each', () => {
    const stack = newStack();
    new EcsRunner(stack, 'A', minimalProps());
    new EcsRunner(stack, 'B', minimalProps({ orchestrator: STELLWERK }));
    new EcsRunner(stack, 'C', minimalProps({ orchestrator: STELLWERK }));
    Template.fromStack(stack).resourceCountIs('AWS::IAM::OIDCProvider', 2);
  });
});

describe('EcsRunner: cluster options', () => {
  test('a created cluster has no capacity providers and no ECS Exec configuration', () => {
    // GIVEN / WHEN
    const { template } = synthRunner();
    // THEN the orchestrator's RunTask (launchType FARGATE) needs neither
    template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
    template.hasResourceProperties('AWS::ECS::Cluster', { Configuration: Match.absent() });
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
  });
});

describe('EcsRunner: outputs and public members', () => {
  test('one stack output per runner (outputs are limited to 200 per stack)', () => {
    const { template } = synthRunner();
    expect(Object.keys(template.toJSON().Outputs)).toHaveLength(1);
  });

  test('exposes every sub-resource', () => {
    // GIVEN / WHEN
    const { runner, stack, template } = synthRunner({ encryption: RunnerEncryption.createKey() });
    // THEN each member is the resource of the template it names
    // (the cluster member is a reference to the created AWS::ECS::Cluster, not its L2)
    const cluster = onlyResourceOf(template, 'AWS::ECS::Cluster');
    expect(stack.resolve([runner.cluster.clusterArn, runner.clusterArn, runner.clusterName])).toEqual([
      { 'Fn::GetAtt': [cluster, 'Arn'] },
      { 'Fn::GetAtt': [cluster, 'Arn'] },
      { Ref: cluster },
    ]);
    expect(logicalIdOf(runner.stateBucket)).toBe(logicalId(template, 'AWS::S3::Bucket', 'RunnerStateBucket'));
    expect(logicalIdOf(runner.encryptionKey!)).toBe(onlyResourceOf(template, 'AWS::KMS::Key'));
    expect([runner.taskManagerRole, runner.executionRole, runner.taskRole].map(logicalIdOf)).toEqual([
      logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskManagerRole'),
      logicalId(template, 'AWS::IAM::Role', 'RunnerRolesExecutionRole'),
      logicalId(template, 'AWS::IAM::Role', 'RunnerRolesTaskRole'),
    ]);
    template.resourceCountIs('AWS::IAM::Role', 3);
    expect(stack.resolve(runner.oidcProviderArn)).toEqual({ Ref: onlyResourceOf(template, 'AWS::IAM::OIDCProvider') });
    expect(runner.orchestrator.name).toBe('humanitec');
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual([logicalIdOf(runner.registrationBodyOutput)]);
    expect(stack.resolve(runner.registrationBody)).toEqual(outputs[logicalIdOf(runner.registrationBodyOutput)].Value);
  });

  test('registrationBody is the output value', () => {
    const { runner, stack } = synthRunner();
    expect(stack.resolve(runner.registrationBodyOutput.value)).toEqual(stack.resolve(runner.registrationBody));
  });

  test('props are not mutated', () => {
    const props = minimalProps({ environment: { A: '1' }, tags: { T: 'v' } });
    const copy = JSON.parse(JSON.stringify(props));
    new EcsRunner(newStack(), 'Runner', props);
    expect(JSON.parse(JSON.stringify(props))).toEqual(copy);
  });
});

describe('EcsRunner: registration and monitoring wiring', () => {
  test('with an API token secret, the stack registers exactly its RunnerCreateBody', () => {
    // GIVEN
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Token',
      'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
    );
    // WHEN
    const runner = new EcsRunner(
      stack,
      'Runner',
      minimalProps({ registration: { apiTokenSecret: secret, rules: [{ environmentType: 'development' }] } }),
    );
    const monitoring = runner.addMonitoring();
    // THEN
    const template = Template.fromStack(stack);
    const handler = logicalId(template, 'AWS::Lambda::Function', 'PlatformOrchestratorRegistrationProviderHandler');
    expect(logicalIdOf(runner.registration!.handlerFunction)).toBe(handler);
    template.hasResourceProperties('Custom::PlatformOrchestratorRunner', {
      OrgId: 'my-org',
      RunnerId: runner.runnerId,
      ApiUrl: 'https://api.humanitec.dev',
      Body: stack.resolve(runner.registrationBody),
      TokenSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
      Rules: '[{"env_type_id":"development"}]',
    });
    // AND monitoring alarms on the registration handler's errors
    const alarm = template.toJSON().Resources[logicalIdOf(monitoring.registrationErrorsAlarm!)];
    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors' });
    expect(alarm.Properties.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: handler } }]);
  });

  test('without registration nothing is registered', () => {
    // GIVEN / WHEN a runner without `registration`
    const { template, runner } = synthRunner();
    // THEN
    template.resourceCountIs('Custom::PlatformOrchestratorRunner', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    expect(runner.registration).toBeUndefined();
  });

  test('addMonitoring encrypts the topic with the runner key', () => {
    // GIVEN
    const stack = newStack();
    const runner = new EcsRunner(stack, 'Runner', minimalProps({ encryption: RunnerEncryption.createKey() }));
    // WHEN
    const monitoring = runner.addMonitoring({ alarmEmails: ['oncall@example.com'] });
    // THEN the topic's key is the runner's key, the only key of the stack
    const template = Template.fromStack(stack);
    const key = onlyResourceOf(template, 'AWS::KMS::Key');
    expect(logicalIdOf(runner.encryptionKey!)).toBe(key);
    expect(monitoring.topicKey).toBe(runner.encryptionKey);
    expect(template.toJSON().Resources[onlyResourceOf(template, 'AWS::SNS::Topic')].Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [key, 'Arn'],
    });
  });
});
