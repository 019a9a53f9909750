/**
 * The live check (`po-ecs-runner check --stack`) against a local server that speaks the AWS APIs
 * it calls (test/support/fake-aws.ts), for a stack synthesized from a real EcsRunner: the
 * deployed stack's outputs, resources and template are the synthesized ones with CloudFormation's
 * values filled in. The contract calls are made by hand here, shaped like the offline engine's.
 */
import { execFile } from 'child_process';
import { tmpdir } from 'os';
import * as path from 'path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Template } from 'aws-cdk-lib/assertions';
import {
  EcsRunner,
  RunnerEncryption,
  RunnerNetwork,
  RunnerVpcEndpoints,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import type { ContractCall } from '../../../src/cli/check/contract';
import { secretFromArn } from '../../support/secrets';
import { evaluate } from '../../../src/cli/check/evaluator';
import { boundaryOf, identityPolicies, readTemplate } from '../../../src/cli/check/model';
import { contractCallsFromTemplate } from '../../../src/cli/check/offline';
import type { LiveClients } from '../../../src/cli/check/live/aws';
import { Ec2QueryClient } from '../../../src/cli/check/live/ec2-query';
import { liveCheckAction } from '../../../src/cli/check/live/command';
import { LiveCheckReport, formatReport, parseProxy, runLiveCheck } from '../../../src/cli/check/live/index';
import { evaluateResourcePolicy, resourcePolicyFor } from '../../../src/cli/check/live/simulate';
import type { DeployedStack } from '../../../src/cli/check/live/stack';
import { RUNNER_CREATE_BODY_SHAPE } from '../../../src/registration/runner-create-body';
import { OrchestratorClient } from '../../../src/registration/runtime/api-client';
import { CLI_BUNDLE, ensureBundled } from '../../support/bundles';
import { render } from '../../support/cfn';
import { FakeAws, FakeAwsState, SimulationRequest } from '../../support/fake-aws';
import { useFakeOrchestrator } from '../../support/fake-orchestrator';
import { newStack } from '../../support/stacks';

const ACCOUNT = '123456789012';
const ORG = 'live-org';
const RUNNER = 'live-runner';
const STACK = 'LiveStack';
const TOKEN = 'hum-live-check-token-0123456789';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'];
const SECRET = `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:db-password-AbCdEf`;
const SECRET_KEY = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`;
const ISSUER = 'oidc.humanitec.dev';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;

// GIVEN a stack with a runner in an imported VPC, with VPC endpoints, a secret under a customer
// managed key and restricted state access (a bucket policy the live check must evaluate).
function synth() {
  const stack = newStack({ stackName: STACK });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0aaaaaaaaaaaaaaa0',
    availabilityZones: ['eu-central-1a', 'eu-central-1b'],
    privateSubnetIds: SUBNETS,
    privateSubnetRouteTableIds: ['rtb-private1', 'rtb-private2'],
  });
  const runner = new EcsRunner(stack, 'Runner', {
    orgId: ORG,
    runnerId: RUNNER,
    network: RunnerNetwork.fromVpc(vpc),
    secrets: { DB_PASSWORD: secretFromArn(stack, SECRET) },
    secretsEncryptionKeys: [kms.Key.fromKeyArn(stack, 'SecretKey', SECRET_KEY)],
    state: { bucket: StateBucket.create({ restrictAccess: true }) },
  });
  new RunnerVpcEndpoints(stack, 'Endpoints', {
    vpc,
    runner,
    exclude: ['ecr.dkr', 'secretsmanager', 'ssm', 'kms', 'ecs'],
  });
  return Template.fromStack(stack).toJSON();
}
const template = synth();
const logicalIds = (type: string, fragment = '') =>
  Object.entries<any>(template.Resources)
    .filter(([id, r]) => r.Type === type && id.includes(fragment))
    .map(([id]) => id);
const only = (type: string, fragment = '') => {
  const ids = logicalIds(type, fragment);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${fragment}, found ${ids.join(', ')}`);
  return ids[0];
};
const TASK_MANAGER = only('AWS::IAM::Role', 'TaskManager');
const EXECUTION = only('AWS::IAM::Role', 'Execution');
const TASK = only('AWS::IAM::Role', 'RolesTaskRole');
const CLUSTER = only('AWS::ECS::Cluster');
const BUCKET = only('AWS::S3::Bucket', 'State');

/** Physical ids as CloudFormation would give them, consistent with test/support/cfn.ts's render. */
function physicalId(logicalId: string, type: string, i: number): string {
  if (type === 'AWS::IAM::OIDCProvider') return render({ 'Fn::GetAtt': [logicalId, 'Arn'] }, template);
  if (type === 'AWS::EC2::VPCEndpoint') return `vpce-0${String(i).padStart(16, '0')}`;
  if (type === 'AWS::KMS::Key') return '11111111-2222-3333-4444-555555555555';
  return `${logicalId.toLowerCase()}-abc123`;
}
const resources = Object.entries<any>(template.Resources).map(([logicalId, r], i) => ({
  logicalId,
  type: r.Type,
  physicalId: physicalId(logicalId, r.Type, i),
}));
const endpointIds = resources.filter((r) => r.type === 'AWS::EC2::VPCEndpoint').map((r) => r.physicalId);
const outputs = Object.entries<any>(template.Outputs ?? {}).map(([key, o]) => ({
  OutputKey: key,
  OutputValue: String(render(o.Value, template)),
  Description: o.Description,
}));
const body = JSON.parse(outputs.find((o) => o.OutputKey.includes('RunnerCreateBody'))!.OutputValue);
/** test/support/cfn.ts's render, with Ref of the OIDC provider giving its ARN (as CloudFormation's does). */
const OIDC_PROVIDER_ID = only('AWS::IAM::OIDCProvider');
function deployed(value: any): any {
  return JSON.parse(
    JSON.stringify(render(value, template)).split(`${OIDC_PROVIDER_ID.toLowerCase()}-abc123`).join(PROVIDER),
  );
}
const roleArn = (logicalId: string) => `arn:aws:iam::${ACCOUNT}:role/${logicalId.toLowerCase()}-abc123`;
const clusterArn = `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/${CLUSTER.toLowerCase()}-abc123`;

/** The contract's calls as the engine makes them: `${...}` references to the template (Fn::Sub notation). */
function contractCalls(): ContractCall[] {
  const family =
    'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/humanitec_env_live-org_0123';
  const tasks = 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${' + CLUSTER + '}/0123456789abcdef';
  const cluster = { 'ecs:cluster': '${' + CLUSTER + '.Arn}' };
  const tm = (
    id: string,
    action: string,
    resource: string,
    context = {},
    expect: 'allowed' | 'denied' = 'allowed',
  ): ContractCall => ({
    id: `task-manager:${id}`,
    description: id,
    principal: 'task-manager',
    roleLogicalId: TASK_MANAGER,
    action,
    resource,
    context,
    expect,
  });
  const state = '${' + BUCKET + '.Arn}';
  return [
    {
      id: 'web-identity:sts:AssumeRoleWithWebIdentity',
      description: "the orchestrator's token assumes the task-manager role",
      principal: 'web-identity',
      roleLogicalId: TASK_MANAGER,
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: '${' + TASK_MANAGER + '.Arn}',
      context: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: `${ORG}+${RUNNER}` },
      expect: 'allowed',
    },
    {
      id: 'attack:AssumeRoleWithWebIdentity-other-runner',
      description: "another runner's token must not assume this role",
      principal: 'web-identity',
      roleLogicalId: TASK_MANAGER,
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: '${' + TASK_MANAGER + '.Arn}',
      context: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: `${ORG}+other-runner` },
      expect: 'denied',
    },
    tm('ecs:ListTaskDefinitions', 'ecs:ListTaskDefinitions', '*'),
    tm('ecs:DeregisterTaskDefinition', 'ecs:DeregisterTaskDefinition', '*'),
    tm('ecs:DeleteTaskDefinitions', 'ecs:DeleteTaskDefinitions', `${family}:1`),
    tm('ecs:RegisterTaskDefinition', 'ecs:RegisterTaskDefinition', family),
    tm('ecs:TagResource-task-definition', 'ecs:TagResource', `${family}:2`, {
      'ecs:CreateAction': 'RegisterTaskDefinition',
    }),
    tm('iam:PassRole-execution', 'iam:PassRole', '${' + EXECUTION + '.Arn}', {
      'iam:PassedToService': 'ecs-tasks.amazonaws.com',
    }),
    tm('iam:PassRole-task', 'iam:PassRole', '${' + TASK + '.Arn}', {
      'iam:PassedToService': 'ecs-tasks.amazonaws.com',
    }),
    tm('ecs:RunTask', 'ecs:RunTask', `${family}:2`, cluster),
    tm('ecs:TagResource-task', 'ecs:TagResource', tasks, { 'ecs:CreateAction': 'RunTask' }),
    tm('ecs:ListTasks', 'ecs:ListTasks', '*', cluster),
    tm('ecs:DescribeTasks', 'ecs:DescribeTasks', tasks, cluster),
    tm(
      'attack:RunTask-other-cluster',
      'ecs:RunTask',
      `${family}:2`,
      { 'ecs:cluster': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/other' },
      'denied',
    ),
    {
      id: 'execution:secretsmanager:GetSecretValue',
      description: 'ECS reads the job secret',
      principal: 'execution',
      roleLogicalId: EXECUTION,
      action: 'secretsmanager:GetSecretValue',
      resource: SECRET,
      context: {},
      expect: 'allowed',
    },
    ...['s3:GetObject', 's3:PutObject'].map((action): ContractCall => ({
      id: `task:${action}`,
      description: 'the job reads and writes its state',
      principal: 'task',
      roleLogicalId: TASK,
      action,
      resource: `${state}/0123.tfstate`,
      context: { 'aws:SecureTransport': 'true' },
      expect: 'allowed',
    })),
    {
      id: 'task:s3:ListBucket',
      description: 'the job lists its state',
      principal: 'task',
      roleLogicalId: TASK,
      action: 's3:ListBucket',
      resource: state,
      context: { 'aws:SecureTransport': 'true', 's3:prefix': '0123.tfstate' },
      expect: 'allowed',
    },
  ];
}

/**
 * The IAM simulator of the fake account: what the runner's deployed policies allow, with the
 * conditions the simulator needs context for (ecs:cluster, iam:PassedToService, ecs:CreateAction).
 */
function simulator(req: SimulationRequest) {
  const ctx = (name: string) => req.context.find((c) => c.name === name);
  const is = (name: string, value: string) => ctx(name)?.type === 'string' && ctx(name)?.values[0] === value;
  const allowed = (() => {
    switch (req.policySourceArn) {
      case roleArn(TASK_MANAGER):
        if (['ecs:RunTask', 'ecs:ListTasks', 'ecs:DescribeTasks'].includes(req.action))
          return is('ecs:cluster', clusterArn);
        if (req.action === 'iam:PassRole') {
          return (
            [roleArn(EXECUTION), roleArn(TASK)].includes(req.resource!) &&
            is('iam:PassedToService', 'ecs-tasks.amazonaws.com')
          );
        }
        if (req.action === 'ecs:TagResource') return ctx('ecs:CreateAction') !== undefined;
        return [
          'ecs:ListTaskDefinitions',
          'ecs:DeregisterTaskDefinition',
          'ecs:DeleteTaskDefinitions',
          'ecs:RegisterTaskDefinition',
        ].includes(req.action);
      case roleArn(EXECUTION):
        if (req.action === 'kms:Decrypt')
          return req.resource === SECRET_KEY && is('kms:ViaService', 'secretsmanager.eu-central-1.amazonaws.com');
        return req.action === 'secretsmanager:GetSecretValue' && req.resource === SECRET;
      case roleArn(TASK):
        return req.action.startsWith('s3:') && ctx('aws:SecureTransport')?.type === 'boolean';
      default:
        return false;
    }
  })();
  return { decision: allowed ? ('allowed' as const) : ('implicitDeny' as const) };
}

/**
 * IAM's simulator for the bundled CLI test: decides each SimulatePrincipalPolicy request with the
 * offline engine's evaluator over the deployed role's identity policies and permissions boundary
 * (the template with the deployed physical ids), as SimulatePrincipalPolicy does without a
 * resource policy.
 */
function deployedPolicySimulator() {
  const model = readTemplate(template, {
    env: { account: ACCOUNT, region: 'eu-central-1', partition: 'aws' },
    physicalResourceIds: Object.fromEntries(resources.map((x) => [x.logicalId, x.physicalId])),
  });
  return (req: SimulationRequest) => {
    const logicalId = model.template.logicalIdOf(req.policySourceArn);
    if (logicalId === undefined) return { decision: 'implicitDeny' as const };
    const context = Object.fromEntries(
      req.context.map((c) => [c.name, c.type.endsWith('List') ? c.values : c.values[0]]),
    );
    const evaluation = evaluate({
      action: req.action,
      resource: req.resource ?? '*',
      context,
      principal: { type: 'AWS', id: req.policySourceArn, account: ACCOUNT },
      identity: identityPolicies(model, logicalId),
      boundary: boundaryOf(model, logicalId),
      resourcePolicy: undefined,
      resourcePolicyMode: 'either',
    });
    return { decision: evaluation.decision === 'allowed' ? ('allowed' as const) : ('implicitDeny' as const) };
  };
}

function healthyAccount(): FakeAwsState {
  return {
    account: ACCOUNT,
    callerArn: `arn:aws:iam::${ACCOUNT}:user/platform-engineer`,
    stacks: [{ name: STACK, status: 'UPDATE_COMPLETE', outputs, resources, template }],
    roles: {
      [`${TASK_MANAGER.toLowerCase()}-abc123`]: {
        arn: roleArn(TASK_MANAGER),
        trust: deployed(template.Resources[TASK_MANAGER].Properties.AssumeRolePolicyDocument),
      },
    },
    simulate: simulator,
    oidcProviders: { [PROVIDER]: { url: ISSUER, clientIds: ['sts.amazonaws.com'] } },
    subnets: Object.fromEntries(SUBNETS.map((s) => [s, 'vpc-0aaaaaaaaaaaaaaa0'])),
    routeTables: [
      {
        id: 'rtb-private1',
        vpcId: 'vpc-0aaaaaaaaaaaaaaa0',
        subnets: [SUBNETS[0]],
        routes: [{ destination: '0.0.0.0/0', target: { NatGatewayId: 'nat-0a' } }],
      },
      // The second subnet has no explicit association: the main route table applies.
      {
        id: 'rtb-main',
        vpcId: 'vpc-0aaaaaaaaaaaaaaa0',
        main: true,
        subnets: [],
        routes: [{ destination: '0.0.0.0/0', target: { NatGatewayId: 'nat-0b' } }],
      },
    ],
    vpcEndpoints: endpointIds.map((id, i) => ({
      id,
      service: `com.amazonaws.eu-central-1.service${i}`,
      state: 'available',
    })),
    secrets: { [SECRET]: { kmsKeyId: SECRET_KEY } },
  };
}

const orchestrator = useFakeOrchestrator({ token: TOKEN });
let aws: FakeAws;
let clients: LiveClients;

beforeAll(async () => {
  aws = await FakeAws.start(healthyAccount());
  const config = {
    region: 'eu-central-1',
    endpoint: aws.url,
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 2,
    retryStrategy: undefined,
  };
  const sts = new STSClient(config);
  clients = {
    sts,
    cloudformation: new CloudFormationClient(config),
    iam: new IAMClient(config),
    ec2: new Ec2QueryClient(sts, { AWS_ENDPOINT_URL_EC2: aws.url, AWS_MAX_ATTEMPTS: '2' }),
    secretsmanager: new SecretsManagerClient(config),
  };
});
afterAll(async () => {
  [clients.sts, clients.cloudformation, clients.iam, clients.secretsmanager].forEach((c) => c.destroy());
  await aws.close();
});
beforeEach(async () => {
  aws.reset(healthyAccount());
  // The orchestrator has the stack's runner, registered as `po-ecs-runner register` does.
  await new OrchestratorClient({ orgId: ORG, token: TOKEN, apiUrl: orchestrator().url }).createRunner(body);
});
afterEach(() => {
  expect(aws.violations).toEqual([]);
  // THEN the check made read-only calls only.
  expect(aws.actions().every((a) => /:(Get|Describe|Simulate)/.test(a))).toBe(true);
});

const check = (overrides: { proxy?: string; token?: string | null; calls?: ContractCall[] } = {}) =>
  runLiveCheck({
    stackName: STACK,
    calls: overrides.calls ?? contractCalls(),
    proxy: overrides.proxy ? parseProxy(overrides.proxy) : undefined,
    registration: {
      token: overrides.token === null ? undefined : (overrides.token ?? TOKEN),
      apiUrl: orchestrator().url,
    },
    clients,
  });

function lines(report: LiveCheckReport): string[] {
  return formatReport(report);
}
const failures = (report: LiveCheckReport) => lines(report).filter((l) => /^\s+(FAIL|CANNOT)/.test(l));

describe('live check of a healthy runner', () => {
  test('every call and every check is ok: exit 0', async () => {
    // WHEN
    const report = await check();
    // THEN
    expect(failures(report)).toEqual([]);
    expect(report.exitCode).toBe(0);
    const runner = report.runners[0];
    expect(runner.runnerId).toBe(RUNNER);
    expect(runner.orgId).toBe(ORG);
    expect(runner.calls).toHaveLength(contractCalls().length);
    expect(runner.calls.every((c) => c.ok)).toBe(true);
    expect(runner.findings.map((f) => `${f.check} ${f.subject} ${f.status}`)).toEqual([
      `network ${SUBNETS[0]} ok`,
      `network ${SUBNETS[1]} ok`,
      `oidc ${PROVIDER} ok`,
      'secret secrets.DB_PASSWORD ok',
      `registration ${RUNNER} ok`,
    ]);
    expect(report.stackFindings.map((f) => `${f.check} ${f.status}`)).toEqual([
      'stack ok',
      ...endpointIds.map(() => 'endpoint ok'),
    ]);
    expect(endpointIds.length).toBe(3); // ecr.api and sts interface endpoints, and the S3 gateway
    expect(lines(report).find((l) => l.includes(SUBNETS[1]))).toContain('nat-0b (main route table rtb-main)');
  });

  test('the simulator gets each call with its context keys typed, and the deployed role and resources', async () => {
    await check();
    const sims = aws.requests.filter((r) => r.action === 'SimulatePrincipalPolicy');
    const runTask = sims.find(
      (r) =>
        r.params['ActionNames.member.1'] === 'ecs:RunTask' &&
        r.params['ContextEntries.member.1.ContextKeyValues.member.1'] === clusterArn,
    )!;
    expect(runTask.params).toMatchObject({
      PolicySourceArn: roleArn(TASK_MANAGER),
      'ResourceArns.member.1': `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/humanitec_env_live-org_0123:2`,
      'ContextEntries.member.1.ContextKeyName': 'ecs:cluster',
      'ContextEntries.member.1.ContextKeyType': 'string',
    });
    const put = sims.find((r) => r.params['ActionNames.member.1'] === 's3:PutObject')!;
    expect(put.params).toMatchObject({
      PolicySourceArn: roleArn(TASK),
      'ResourceArns.member.1': `arn:aws:s3:::${BUCKET.toLowerCase()}-abc123/0123.tfstate`,
      'ContextEntries.member.1.ContextKeyName': 'aws:SecureTransport',
      'ContextEntries.member.1.ContextKeyType': 'boolean',
    });
    const decrypt = sims.find((r) => r.params['ActionNames.member.1'] === 'kms:Decrypt')!;
    expect(decrypt.params).toMatchObject({
      PolicySourceArn: roleArn(EXECUTION),
      'ResourceArns.member.1': SECRET_KEY,
      'ContextEntries.member.1.ContextKeyName': 'kms:ViaService',
      'ContextEntries.member.1.ContextKeyValues.member.1': 'secretsmanager.eu-central-1.amazonaws.com',
    });
    // The web identity is never simulated: the deployed trust policy is read instead.
    expect(sims.some((r) => r.params['ActionNames.member.1'] === 'sts:AssumeRoleWithWebIdentity')).toBe(false);
    expect(aws.actions()).toContain('iam:GetRole');
  });
});

describe('live check findings', () => {
  test('a denied simulated call fails with what to change', async () => {
    // GIVEN the task-manager role may not pass the task role
    aws.state.simulate = (req) =>
      req.action === 'iam:PassRole' && req.resource === roleArn(TASK) ? { decision: 'implicitDeny' } : simulator(req);
    // WHEN
    const report = await check();
    // THEN
    expect(report.exitCode).toBe(1);
    expect(failures(report)).toEqual([
      expect.stringMatching(
        /FAIL .* task-manager:iam:PassRole-task: denied, expected allowed: IAM simulator: no statement of the role allows iam:PassRole on .*; the task-manager role may pass only the runner's executionRole and taskRole/,
      ),
    ]);
  });

  test('an empty list of calls proves nothing: could not check', async () => {
    const report = await check({ calls: [] });
    expect(failures(report)).toEqual([expect.stringMatching(/CANNOT +iam +contract calls: no contract calls/)]);
    expect(report.exitCode).toBe(1);
  });

  test('a permissions boundary that denies is named', async () => {
    aws.state.simulate = (req) =>
      req.action === 'ecs:RunTask' && req.context.length > 0 && req.context[0].values[0] === clusterArn
        ? { decision: 'implicitDeny', boundaryAllows: false }
        : simulator(req);
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringContaining(
        "task-manager:ecs:RunTask: denied, expected allowed: IAM simulator: the role's permissions boundary (permissionsBoundary) does not allow ecs:RunTask",
      ),
    ]);
  });

  test('an attack the account allows fails', async () => {
    aws.state.simulate = (req) => (req.action === 'ecs:RunTask' ? { decision: 'allowed' } : simulator(req));
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(
        /FAIL .* task-manager:attack:RunTask-other-cluster: allowed, expected denied: .*this call must be denied but is allowed/,
      ),
    ]);
  });

  test('a trust policy for another subject fails the web identity', async () => {
    const trust = deployed(template.Resources[TASK_MANAGER].Properties.AssumeRolePolicyDocument);
    trust.Statement[0].Condition.StringEquals[`${ISSUER}:sub`] = `${ORG}+renamed-runner`;
    aws.state.roles[`${TASK_MANAGER.toLowerCase()}-abc123`].trust = trust;
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(
        /web-identity:sts:AssumeRoleWithWebIdentity: denied, expected allowed: no statement of the deployed trust policy allows it .*orgId and runnerId/,
      ),
    ]);
  });

  test('the state bucket policy is evaluated: a deny of the task role fails its state calls', async () => {
    // GIVEN a deployed template whose restricted state access admits another role only
    const changed = JSON.parse(JSON.stringify(template));
    const policyId = Object.keys(changed.Resources).find(
      (id) => changed.Resources[id].Type === 'AWS::S3::BucketPolicy',
    )!;
    const restrict = changed.Resources[policyId].Properties.PolicyDocument.Statement.find(
      (s: any) => s.Condition?.ArnNotEquals,
    );
    restrict.Condition.ArnNotEquals['aws:PrincipalArn'] = [`arn:aws:iam::${ACCOUNT}:role/someone-else`];
    aws.state.stacks = [{ ...aws.state.stacks[0], template: changed }];
    const report = await check();
    expect(failures(report).map((l) => l.replace(/:.*/, '').trim())).toEqual([
      'FAIL    iam          task',
      'FAIL    iam          task',
    ]);
    expect(failures(report).join('\n')).toMatch(
      /task:s3:GetObject: denied, expected allowed: the bucket policy \S+ denies it .*StateBucket\.create\(\{ restrictAccess \}\)/,
    );
  });

  test('a subnet without a route to the internet fails; a named proxy in reach passes', async () => {
    aws.state.routeTables[1] = { ...aws.state.routeTables[1], routes: [] };
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(
        new RegExp(
          `FAIL +network +${SUBNETS[1]}: no route to the internet: main route table rtb-main has no 0.0.0.0/0 route.*give network subnets.*--proxy`,
        ),
      ),
    ]);
    // The local route (10.0.0.0/16) reaches a proxy in the VPC.
    const viaProxy = await check({ proxy: '10.0.3.7' });
    expect(failures(viaProxy)).toEqual([]);
    // A proxy outside the VPC is reached through the NAT gateway's default route, not without it.
    const outside = await check({ proxy: '192.168.1.1' });
    expect(failures(outside)).toEqual([
      expect.stringMatching(
        new RegExp(`FAIL +network +${SUBNETS[1]}: no route to proxy 192.168.1.1 in main route table rtb-main`),
      ),
    ]);
    expect(lines(outside).find((l) => l.includes(SUBNETS[0]))).toMatch(
      /ok +network .*proxy 192.168.1.1 reachable via route table rtb-private1 \(0.0.0.0\/0 → nat-0a\)/,
    );
  });

  test('a public subnet without public IPs fails, naming assignPublicIp', async () => {
    aws.state.routeTables[0] = {
      ...aws.state.routeTables[0],
      routes: [{ destination: '0.0.0.0/0', target: { GatewayId: 'igw-0a' } }],
    };
    const report = await check();
    expect(failures(report)).toEqual([expect.stringMatching(/public subnet .*igw-0a.*set assignPublicIp: true/)]);
  });

  test('a blackholed NAT route fails', async () => {
    aws.state.routeTables[0] = {
      ...aws.state.routeTables[0],
      routes: [{ destination: '0.0.0.0/0', target: { NatGatewayId: 'nat-gone' }, state: 'blackhole' }],
    };
    const report = await check();
    expect(failures(report)).toEqual([expect.stringMatching(/its 0.0.0.0\/0 is a blackhole/)]);
  });

  test('a missing VPC endpoint fails', async () => {
    aws.state.vpcEndpoints = aws.state.vpcEndpoints.slice(1);
    const report = await check();
    expect(failures(report)).toEqual([expect.stringMatching(/FAIL +endpoint .*does not exist .*redeploy the stack/)]);
  });

  test('an OIDC provider without sts.amazonaws.com fails', async () => {
    aws.state.oidcProviders[PROVIDER].clientIds = ['sts.amazonaws.com.cn'];
    const report = await check();
    expect(failures(report)).toEqual([expect.stringMatching(/FAIL +oidc .*lack sts.amazonaws.com.*oidcProviderArn/)]);
  });

  test('a missing OIDC provider fails', async () => {
    aws.state.oidcProviders = {};
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(/FAIL +oidc .*no OIDC provider for oidc.humanitec.dev: set oidcProviderArn/),
    ]);
  });

  test('a role that trusts another issuer fails the web identity and the provider check', async () => {
    const other = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.other.example`;
    const trust = deployed(template.Resources[TASK_MANAGER].Properties.AssumeRolePolicyDocument);
    trust.Statement[0].Principal.Federated = other;
    aws.state.roles[`${TASK_MANAGER.toLowerCase()}-abc123`].trust = trust;
    aws.state.oidcProviders[other] = { url: 'oidc.other.example', clientIds: ['sts.amazonaws.com'] };
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(/FAIL +iam +web-identity:sts:AssumeRoleWithWebIdentity: denied/),
      expect.stringMatching(
        /FAIL +oidc .*trusts arn:aws:iam::123456789012:oidc-provider\/oidc.other.example, not the provider of the orchestrator's issuer oidc.humanitec.dev: set orchestrator/,
      ),
    ]);
  });

  test('an SSM parameter secret is skipped; a key named by alias could not be checked', async () => {
    const parameter = `arn:aws:ssm:eu-central-1:${ACCOUNT}:parameter/runner/token`;
    const aliased = `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:api-key-XyZ123`;
    const changed = JSON.parse(JSON.stringify(body));
    changed.runner_configuration.job.secrets = { TOKEN_PARAM: parameter, API_KEY: aliased };
    aws.state.stacks = [
      {
        ...aws.state.stacks[0],
        outputs: outputs.map((o) =>
          o.OutputKey.includes('RunnerCreateBody') ? { ...o, OutputValue: JSON.stringify(changed) } : o,
        ),
      },
    ];
    aws.state.secrets = { [aliased]: { kmsKeyId: `arn:aws:kms:eu-central-1:${ACCOUNT}:alias/team-secrets` } };
    const report = await check({ token: null });
    const secrets = report.runners[0].findings.filter((f) => f.check === 'secret');
    expect(secrets.map((f) => `${f.subject} ${f.status}`)).toEqual([
      'secrets.TOKEN_PARAM skipped',
      'secrets.API_KEY could-not-check',
    ]);
    expect(secrets[1].detail).toMatch(/named by alias: .*secretsEncryptionKeys/);
    expect(report.exitCode).toBe(1);
  });

  test('a missing secret fails; one scheduled for deletion fails', async () => {
    aws.state.secrets = {};
    expect(failures(await check())).toEqual([
      expect.stringMatching(/FAIL +secret +secrets.DB_PASSWORD: .* does not exist.*fix secrets.DB_PASSWORD/),
    ]);
    aws.state.secrets = { [SECRET]: { kmsKeyId: SECRET_KEY, deleted: true } };
    expect(failures(await check())).toEqual([expect.stringMatching(/scheduled for deletion/)]);
  });

  test('a secret key the execution role may not use fails, naming secretsEncryptionKeys', async () => {
    aws.state.secrets = {
      [SECRET]: { kmsKeyId: `arn:aws:kms:eu-central-1:${ACCOUNT}:key/99999999-0000-0000-0000-000000000000` },
    };
    const report = await check();
    expect(failures(report)).toEqual([
      expect.stringMatching(/FAIL +secret .*may not use .*add the key to secretsEncryptionKeys/),
    ]);
  });

  test('a registration that differs from the stack fails; an unregistered runner fails; no token skips', async () => {
    const client = new OrchestratorClient({ orgId: ORG, token: TOKEN, apiUrl: orchestrator().url });
    await client.updateRunner(RUNNER, { description: 'changed in the console' } as any);
    expect(failures(await check())).toEqual([
      expect.stringMatching(
        /FAIL +registration .*differs from the stack in description: run "po-ecs-runner register --adopt-existing/,
      ),
    ]);
    await client.deleteRunner(RUNNER);
    expect(failures(await check())).toEqual([
      expect.stringMatching(/FAIL +registration .*not registered in organization live-org/),
    ]);
    // WHEN there is no API token THEN the registration is skipped, which does not fail the check.
    const skipped = await check({ token: null });
    expect(skipped.runners[0].findings.find((f) => f.check === 'registration')?.status).toBe('skipped');
    expect(skipped.exitCode).toBe(0);
  });
});

describe('the check\'s own calls fail: "could not check", never "ok"', () => {
  test.each([
    [
      'SimulatePrincipalPolicy',
      'Throttling',
      400,
      /CANNOT +iam +.*could not check: iam:SimulatePrincipalPolicy: Throttling/,
    ],
    [
      'SimulatePrincipalPolicy',
      'AccessDenied',
      403,
      /CANNOT +iam +.*iam:SimulatePrincipalPolicy: AccessDenied.*may not call/,
    ],
    [
      'DescribeRouteTables',
      'RequestLimitExceeded',
      503,
      /CANNOT +network .*ec2:DescribeRouteTables: RequestLimitExceeded/,
    ],
    ['DescribeRouteTables', 'UnauthorizedOperation', 403, /CANNOT +network .*UnauthorizedOperation/],
    ['DescribeVpcEndpoints', 'UnauthorizedOperation', 403, /CANNOT +endpoint .*UnauthorizedOperation/],
    ['GetOpenIDConnectProvider', 'AccessDenied', 403, /CANNOT +oidc .*AccessDenied/],
    ['DescribeSecret', 'AccessDeniedException', 400, /CANNOT +secret .*AccessDeniedException/],
    ['DescribeSecret', 'ThrottlingException', 400, /CANNOT +secret .*ThrottlingException/],
    ['GetRole', 'AccessDenied', 403, /CANNOT +iam +web-identity.*iam:GetRole: AccessDenied/],
  ])('%s answering %s', async (action, code, status, line) => {
    aws.failWith({ action, code, status });
    const report = await check();
    expect(report.exitCode).toBe(1);
    const bad = failures(report);
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((l) => /^\s+CANNOT/.test(l))).toBe(true);
    expect(bad.join('\n')).toMatch(line);
  });
});

describe('usage and configuration: exit 2', () => {
  test('no credentials', async () => {
    const io = { out: jest.fn(), err: jest.fn() };
    const saved = { ...process.env };
    try {
      for (const k of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_PROFILE',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      ]) {
        delete process.env[k];
      }
      process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
      process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
      process.env.AWS_ENDPOINT_URL = aws.url;
      const code = await liveCheckAction({ stack: STACK, region: 'eu-central-1' }, {}, undefined, io);
      expect(code).toBe(2);
      expect(io.err).toHaveBeenCalledWith(
        expect.stringMatching(/^po-ecs-runner: no usable AWS credentials .*AWS_PROFILE/),
      );
      expect(aws.requests).toEqual([]);
    } finally {
      process.env = saved;
    }
  });

  test('a RunnerCreateBody output that is JSON but not a body names the output', async () => {
    // GIVEN the deployed stack's body output replaced by JSON without the body's shape
    const key = outputs.find((o) => o.OutputKey.includes('RunnerCreateBody'))!.OutputKey;
    aws.state.stacks = [
      {
        ...aws.state.stacks[0],
        outputs: outputs.map((o) => (o.OutputKey === key ? { ...o, OutputValue: JSON.stringify({ id: 7 }) } : o)),
      },
    ];
    // WHEN / THEN the check refuses it, rather than reporting a stack without runners
    await expect(check()).rejects.toThrow(
      `output ${key} of stack ${STACK} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`,
    );
  });

  test('an unknown stack, a bad proxy', async () => {
    await expect(
      runLiveCheck({ stackName: 'NoSuchStack', registration: { apiUrl: orchestrator().url }, clients }),
    ).rejects.toThrow(/stack "NoSuchStack" not found/);
    const io = { out: jest.fn(), err: jest.fn() };
    expect(await liveCheckAction({ stack: STACK, proxy: 'proxy.example.com' }, {}, undefined, io)).toBe(2);
    expect(io.err).toHaveBeenCalledWith(
      expect.stringContaining('--proxy "proxy.example.com" is not an IPv4 address or CIDR'),
    );
  });
});

describe('the bundled CLI: po-ecs-runner check --stack', () => {
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI_BUNDLE, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  const baseEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: tmpdir(),
    AWS_REGION: 'eu-central-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(tmpdir(), 'no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'no-such-aws-credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const withCredentials = (): Record<string, string> => ({
    ...baseEnv(),
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
  });

  beforeAll(() => ensureBundled());

  test("per-service endpoint variables; the engine's calls, with the deployed names, decided by IAM's simulator", async () => {
    // GIVEN an account whose IAM simulator decides as AWS would from the deployed roles' own
    // policies (identity policies and boundary, no resource policies: SimulatePrincipalPolicy's scope)
    aws.state.simulate = deployedPolicySimulator();
    // GIVEN every service's endpoint overridden by its own variable (the SDK's AWS_ENDPOINT_URL_<SERVICE>)
    const env = {
      ...withCredentials(),
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: aws.url,
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_ENDPOINT_URL_EC2: aws.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      HUMANITEC_AUTH_TOKEN: TOKEN,
      HUMANITEC_API_URL: orchestrator().url,
    };
    // WHEN
    const r = await run(['check', '--stack', STACK], env);
    // THEN
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(
      `Live check of stack ${STACK} (${ACCOUNT}, eu-central-1) as arn:aws:iam::${ACCOUNT}:user/platform-engineer`,
    );
    expect(out.filter((l) => /^\s+(FAIL|CANNOT)/.test(l))).toEqual([]);
    // AND every call of the engine was simulated on the deployed role it names, never a placeholder
    const simulated = aws.requests.filter((q) => q.action === 'SimulatePrincipalPolicy');
    const engine = contractCallsFromTemplate(template, {
      env: { account: ACCOUNT, region: 'eu-central-1', partition: 'aws' },
      physicalResourceIds: Object.fromEntries(resources.map((x) => [x.logicalId, x.physicalId])),
    })[0].calls.filter((c) => c.principal !== 'web-identity');
    // (one more: the secrets check's own kms:Decrypt of the secret's key for the execution role)
    expect(simulated).toHaveLength(engine.length + 1);
    for (const q of simulated) {
      expect(q.params.PolicySourceArn).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:role/[a-z0-9]+-abc123$`));
    }
    expect(out.filter((l) => /^\s+ok +iam +attack:/.test(l)).length).toBeGreaterThan(10);
    expect(out).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`ok +registration +${RUNNER}: `))]));
    expect(r.stdout).not.toContain(TOKEN);
    expect(new Set(aws.requests.map((q) => q.service))).toEqual(
      new Set(['sts', 'cloudformation', 'iam', 'ec2', 'secretsmanager']),
    );
  });

  test('--json', async () => {
    const r = await run(['check', '--stack', STACK, '--json'], { ...withCredentials(), AWS_ENDPOINT_URL: aws.url });
    const report = JSON.parse(r.stdout);
    expect(report.exitCode).toBe(1);
    expect(report.runners[0].findings.find((f: any) => f.check === 'registration').status).toBe('skipped');
  });

  test('no credentials: exit 2, no AWS request', async () => {
    const r = await run(['check', '--stack', STACK], { ...baseEnv(), AWS_ENDPOINT_URL: aws.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^po-ecs-runner: no usable AWS credentials/);
    expect(aws.requests).toEqual([]);
  });

  test('credentials AWS refuses: exit 2', async () => {
    aws.failWith({ action: 'GetCallerIdentity', code: 'InvalidClientTokenId', status: 403 });
    const r = await run(['check', '--stack', STACK], { ...withCredentials(), AWS_ENDPOINT_URL: aws.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no usable AWS credentials \(sts:GetCallerIdentity: InvalidClientTokenId/);
  });

  test('no region: exit 2', async () => {
    const env = withCredentials();
    delete env.AWS_REGION;
    const r = await run(['check', '--stack', STACK], { ...env, AWS_ENDPOINT_URL: aws.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no AWS region: pass --region or set AWS_REGION/);
  });

  test('a template the check cannot read: exit 1, naming the call', async () => {
    aws.failWith({ action: 'GetTemplate', code: 'AccessDenied', status: 403 });
    const r = await run(['check', '--stack', STACK], { ...withCredentials(), AWS_ENDPOINT_URL: aws.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read stack "LiveStack": cloudformation:GetTemplate: AccessDenied/);
  });

  test('neither --stack nor --template: exit 2', async () => {
    const r = await run(['check'], withCredentials());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/say which template: check --template/);
  });
});

describe('a production runner: the live check resolves and decides every bucket and key policy', () => {
  test('no "could not check" from the resource policies of a runner with every feature', () => {
    // GIVEN a runner with its own key, monitoring, registration and restricted state access
    const stack = newStack({ stackName: 'ProductionStack' });
    const runner = new EcsRunner(stack, 'Runner', {
      orgId: ORG,
      runnerId: 'prod-runner',
      network: RunnerNetwork.fromSubnetIds(SUBNETS),
      encryption: RunnerEncryption.createKey(),
      state: { bucket: StateBucket.create({ restrictAccess: true }) },
      registration: { apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', SECRET) },
    });
    runner.addMonitoring();
    const prod = Template.fromStack(stack).toJSON();
    const deployedStack: DeployedStack = {
      name: 'ProductionStack',
      stackId: `arn:aws:cloudformation:eu-central-1:${ACCOUNT}:stack/ProductionStack/x`,
      status: 'CREATE_COMPLETE',
      partition: 'aws',
      region: 'eu-central-1',
      account: ACCOUNT,
      template: prod,
      resources: new Map(
        Object.entries<any>(prod.Resources).map(([logicalId, r], i) => [
          logicalId,
          { logicalId, type: r.Type, physicalId: physicalId(logicalId, r.Type, i) },
        ]),
      ),
      runners: [],
    };
    const bucket = Object.keys(prod.Resources).find(
      (id) => prod.Resources[id].Type === 'AWS::S3::Bucket' && id.includes('State'),
    )!;
    const keyArn = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
    const taskRole = `arn:aws:iam::${ACCOUNT}:role/${Object.keys(prod.Resources)
      .find((id) => /RolesTaskRole/.test(id) && prod.Resources[id].Type === 'AWS::IAM::Role')!
      .toLowerCase()}-abc123`;
    // WHEN the state calls' resource policies are looked up and evaluated
    const state = resourcePolicyFor(deployedStack, `arn:aws:s3:::${bucket.toLowerCase()}-abc123/env.tfstate`);
    const keyPolicy = resourcePolicyFor(deployedStack, keyArn);
    // THEN both are found and decided: the bucket does not deny the task role, the key lets IAM decide
    expect(state?.kind).toBe('bucket');
    expect(keyPolicy?.kind).toBe('key');
    const objectArn = `arn:aws:s3:::${bucket.toLowerCase()}-abc123/env.tfstate`;
    const put = evaluateResourcePolicy(
      deployedStack,
      state!,
      { action: 's3:PutObject', resource: objectArn, context: { 'aws:SecureTransport': 'true' } },
      taskRole,
    );
    // neither denies nor allows by itself: the task role's identity policies decide
    expect(put.deniedBy).toBeUndefined();
    expect(put.allowedBy).toEqual([]);
    const generate = evaluateResourcePolicy(
      deployedStack,
      keyPolicy!,
      {
        action: 'kms:GenerateDataKey',
        resource: keyArn,
        context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' },
      },
      taskRole,
    );
    // the key policy allows through the account principal: it lets IAM policies decide
    expect(generate.deniedBy).toBeUndefined();
    expect(generate.allowedBy).toEqual([]);
    expect(generate.delegatedBy?.length).toBeGreaterThan(0);
    // and another role of the account is denied the state by restrictAccess
    const other = `arn:aws:iam::${ACCOUNT}:role/ReadOnly`;
    expect(
      evaluateResourcePolicy(
        deployedStack,
        state!,
        { action: 's3:GetObject', resource: objectArn, context: { 'aws:SecureTransport': 'true' } },
        other,
      ).deniedBy,
    ).toBeDefined();
  });
});
