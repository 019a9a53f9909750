import { existsSync, statSync } from 'fs';
import { App, CfnParameter, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { EcsRunner } from '../../src/ecs-runner';
import { RunnerEncryption } from '../../src/encryption/runner-encryption';
import { RunnerErrors } from '../../src/errors';
import { RunnerNetwork } from '../../src/networking/runner-network';
import { RunnerRegistration, RunnerRegistrationProps } from '../../src/registration';
import {
  REPORT_RESERVE_MS,
  SECRET_TIMEOUT_MS,
  UNDO_DEADLINE_MS,
} from '../../src/registration/runtime/registration.lambda';
import { HANDLER_BUNDLE, ensureBundled } from '../support/bundles';
import { sampleBody } from '../support/fake-orchestrator';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po/api-token-AbCdEf';
const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/0d3c1b1e-1111-2222-3333-444455556666';
const PROVIDER = 'PlatformOrchestratorRegistrationProvider';

beforeAll(() => ensureBundled());

function stack(): Stack {
  return new Stack(new App(), 'Registrations', { env: ENV });
}

function importedSecret(s: Stack, withKey = true): secretsmanager.ISecret {
  return secretsmanager.Secret.fromSecretAttributes(s, `Token${s.node.children.length}`, {
    secretCompleteArn: SECRET_ARN,
    encryptionKey: withKey ? kms.Key.fromKeyArn(s, `Key${s.node.children.length}`, KEY_ARN) : undefined,
  });
}

function register(s: Stack, id: string, over: Partial<RunnerRegistrationProps> = {}): RunnerRegistration {
  const runnerId = over.runnerId ?? 'prod-runner';
  return new RunnerRegistration(s, id, {
    runnerId,
    orgId: 'acme',
    body: JSON.stringify(sampleBody(runnerId)),
    apiTokenSecret: over.apiTokenSecret ?? importedSecret(s),
    ...over,
  });
}

function logicalIdOf(t: Template, type: string, description: string): string {
  const found = Object.keys(
    t.findResources(type, { Properties: { Description: Match.stringLikeRegexp(description) } }),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

describe('RunnerRegistration', () => {
  test('the handler role may only read the token secret (and decrypt it through Secrets Manager) and write its logs', () => {
    // GIVEN a registration whose token secret is encrypted with a customer managed key
    const s = stack();
    register(s, 'Registration');
    // WHEN synthesized
    const t = Template.fromStack(s);
    const role = logicalIdOf(t, 'AWS::IAM::Role', '^Registers Platform Orchestrator runners');
    const logGroup = Object.keys(t.findResources('AWS::Logs::LogGroup')).find((k) => k.includes('HandlerLogGroup'))!;
    // THEN the role has no managed or inline policies of its own
    const roleProps = t.toJSON().Resources[role].Properties;
    expect(roleProps.ManagedPolicyArns).toBeUndefined();
    expect(roleProps.Policies).toBeUndefined();
    // AND no inline policy exists at all (IAMNoInlinePolicy of the HIPAA, NIST and PCI packs)
    t.resourceCountIs('AWS::IAM::Policy', 0);
    // AND exactly one customer managed policy attaches to it, with exactly these statements
    const policies = t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: role }] } });
    expect(Object.keys(policies)).toHaveLength(1);
    expect(Object.values(policies)[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
      },
      {
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Effect: 'Allow',
        Resource: SECRET_ARN,
      },
      {
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' } },
        Effect: 'Allow',
        Resource: KEY_ARN,
      },
    ]);
    // AND no other policy in the template names the handler role
    const mentions = Object.entries(t.toJSON().Resources).filter(
      ([k, r]: [string, any]) =>
        k !== role && r.Type.startsWith('AWS::IAM::') && JSON.stringify(r).includes(`"${role}"`),
    );
    expect(mentions.map(([k]) => k)).toEqual(Object.keys(policies));
    // AND the handler function waits for that policy
    const handler = logicalIdOf(t, 'AWS::Lambda::Function', '^Registers Platform Orchestrator runners');
    expect(t.toJSON().Resources[handler].DependsOn).toEqual(expect.arrayContaining(Object.keys(policies)));
  });

  test('a secret in the same stack is granted through its key policy and referenced by ARN only', () => {
    // GIVEN a generated secret with its own key in the stack
    const s = stack();
    const key = new kms.Key(s, 'TokenKey');
    const secret = new secretsmanager.Secret(s, 'ApiToken', { encryptionKey: key });
    register(s, 'Registration', { apiTokenSecret: secret });
    // WHEN synthesized
    const t = Template.fromStack(s);
    const role = logicalIdOf(t, 'AWS::IAM::Role', '^Registers Platform Orchestrator runners');
    const secretId = Object.keys(t.findResources('AWS::SecretsManager::Secret'))[0];
    // THEN the custom resource carries the secret's ARN (a Ref), never a value
    const cr = Object.values(t.findResources('Custom::PlatformOrchestratorRunner'))[0].Properties;
    expect(cr.TokenSecretArn).toEqual({ Ref: secretId });
    expect(Object.keys(cr).sort()).toEqual(
      [
        'AdoptExisting',
        'ApiUrl',
        'Body',
        'OrgId',
        'Rules',
        'RetainOnDelete',
        'RunnerId',
        'ServiceToken',
        'TokenSecretArn',
      ].sort(),
    );
    // AND no resolution of the secret's value appears anywhere in the template
    const json = JSON.stringify(t.toJSON());
    expect(json).not.toMatch(/resolve:secretsmanager/);
    expect(json).not.toMatch(/"SecretString"/);
    // AND the key lets the handler role decrypt only through Secrets Manager
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' } },
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::GetAtt': [role, 'Arn'] } },
            Resource: '*',
          },
        ]),
      },
    });
  });

  test('two registrations in a stack share one provider; each secret is granted once', () => {
    // GIVEN two registrations with different secrets
    const s = stack();
    const a = register(s, 'A', { runnerId: 'runner-a' });
    const b = register(s, 'B', {
      runnerId: 'runner-b',
      apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(s, 'Other', SECRET_ARN.replace('api-token', 'other')),
    });
    // WHEN synthesized
    const t = Template.fromStack(s);
    // THEN there is one provider construct with one handler and one framework function
    expect(s.node.children.filter((c) => c.node.id === PROVIDER)).toHaveLength(1);
    t.resourceCountIs('AWS::Lambda::Function', 2);
    t.resourceCountIs('Custom::PlatformOrchestratorRunner', 2);
    const tokens = Object.values(t.findResources('Custom::PlatformOrchestratorRunner')).map((r) =>
      JSON.stringify(r.Properties.ServiceToken),
    );
    expect(new Set(tokens).size).toBe(1);
    // AND the handler may read both secrets
    const role = logicalIdOf(t, 'AWS::IAM::Role', '^Registers Platform Orchestrator runners');
    const statements = Object.values(
      t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: role }] } }),
    )[0].Properties.PolicyDocument.Statement;
    expect(
      statements
        .filter((st: any) => JSON.stringify(st.Action).includes('secretsmanager'))
        .map((st: any) => st.Resource),
    ).toEqual([SECRET_ARN, SECRET_ARN.replace('api-token', 'other')]);
    // AND each registration exposes its runner id and resource
    expect([a.runnerId, b.runnerId]).toEqual(['runner-a', 'runner-b']);
    expect(a.resource.node.id).toBe('Resource');
  });

  test('permissions boundary and role path apply to every IAM role', () => {
    // GIVEN a boundary and a path
    const s = stack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(s, 'Boundary', 'platform-boundary');
    register(s, 'Registration', { permissionsBoundary: boundary, rolePath: '/platform/runners/' });
    // WHEN synthesized
    const roles = Object.values(Template.fromStack(s).findResources('AWS::IAM::Role'));
    // THEN every role (handler and provider framework) carries both
    expect(roles).toHaveLength(2);
    for (const r of roles) {
      expect(r.Properties.Path).toBe('/platform/runners/');
      expect(JSON.stringify(r.Properties.PermissionsBoundary)).toContain(':iam::123456789012:policy/platform-boundary');
      expect(JSON.stringify(r.Properties.PermissionsBoundary)).toContain('AWS::Partition');
    }
    // AND their customer managed policies carry the path
    const policies = Object.values(Template.fromStack(s).findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) expect(p.Properties.Path).toBe('/platform/runners/');
  });

  test('the provider framework role may only invoke and describe the handler and write its logs, in a managed policy', () => {
    // GIVEN a registration
    const s = stack();
    register(s, 'Registration');
    // WHEN synthesized
    const t = Template.fromStack(s);
    const role = logicalIdOf(t, 'AWS::IAM::Role', '^Custom resource provider framework');
    const handler = logicalIdOf(t, 'AWS::Lambda::Function', '^Registers Platform Orchestrator runners');
    const framework = logicalIdOf(t, 'AWS::Lambda::Function', '^AWS CDK resource provider framework - onEvent');
    const logGroup = Object.keys(t.findResources('AWS::Logs::LogGroup')).find((k) => k.includes('FrameworkLogGroup'))!;
    // THEN cr.Provider's own grants land in the role's customer managed policy, not in an inline one
    t.resourceCountIs('AWS::IAM::Policy', 0);
    const roleProps = t.toJSON().Resources[role].Properties;
    expect(roleProps.Policies).toBeUndefined();
    expect(roleProps.ManagedPolicyArns).toBeUndefined();
    const policies = t.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: role }] } });
    expect(Object.keys(policies)).toHaveLength(1);
    const handlerArn = { 'Fn::GetAtt': [handler, 'Arn'] };
    expect(Object.values(policies)[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
      },
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [handlerArn, { 'Fn::Join': ['', [handlerArn, ':*']] }],
      },
      { Action: 'lambda:GetFunction', Effect: 'Allow', Resource: handlerArn },
    ]);
    // AND the framework function uses that role and waits for the policy
    const fn = t.toJSON().Resources[framework];
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    expect(fn.DependsOn).toEqual(expect.arrayContaining(Object.keys(policies)));
    // AND the only wildcard (the handler's versions) is acknowledged on that policy, with a reason
    const policy = s.node
      .findAll()
      .find((c) => c instanceof iam.ManagedPolicy && c.node.path.includes('FrameworkRole'))!;
    const acks = policy.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    // (CDK stores ids without a plugin namespace as `Annotation::<id>`; cdk-nag strips that prefix)
    expect(acks.flatMap((m) => Object.keys(m.data)).map((id) => id.replace(/^Annotation::/, ''))).toEqual([
      `AwsSolutions-IAM5[Resource::<${handler}.Arn>:*]`,
    ]);
  });

  test('the Lambda rules that do not apply are acknowledged on each function, with its own reasons', () => {
    // GIVEN a registration
    const s = stack();
    const registration = register(s, 'Registration');
    const provider = s.node.findChild(PROVIDER);
    const framework = provider.node.findChild('Provider').node.findChild('framework-onEvent');
    const acknowledged = (c: IConstruct): Record<string, string> =>
      Object.fromEntries(
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.entries(m.data as Record<string, string>))
          .map(([id, reason]) => [id.replace(/^Annotation::/, ''), reason]),
      );
    // WHEN / THEN both functions carry exactly these acknowledgements
    const ids = [
      'HIPAA.Security-LambdaConcurrency',
      'NIST.800.53.R5-LambdaConcurrency',
      'HIPAA.Security-LambdaDLQ',
      'NIST.800.53.R5-LambdaDLQ',
      'HIPAA.Security-LambdaInsideVPC',
      'NIST.800.53.R5-LambdaInsideVPC',
      'PCI.DSS.321-LambdaInsideVPC',
      'cdk-validator-cfnguard::lambda_inside_vpc_check',
    ].sort();
    const handlerAcks = acknowledged(registration.handlerFunction);
    const frameworkAcks = acknowledged(framework);
    expect(Object.keys(handlerAcks).sort()).toEqual(ids);
    expect(Object.keys(frameworkAcks).sort()).toEqual(ids);
    // AND the reasons say why: synchronous invocation, deploy-time only, public orchestrator API
    expect(handlerAcks['HIPAA.Security-LambdaDLQ']).toMatch(/synchronously .*RequestResponse/);
    expect(frameworkAcks['HIPAA.Security-LambdaDLQ']).toMatch(/asynchronously/);
    expect(handlerAcks['HIPAA.Security-LambdaConcurrency']).toMatch(/100 unreserved/);
    expect(handlerAcks['PCI.DSS.321-LambdaInsideVPC']).toMatch(/api\.humanitec\.dev.*NAT gateway/);
    expect(handlerAcks['cdk-validator-cfnguard::lambda_inside_vpc_check']).toBe(
      handlerAcks['PCI.DSS.321-LambdaInsideVPC'],
    );
    // AND the functions really have no reserved concurrency, dead-letter queue or VPC
    for (const fn of Object.values(Template.fromStack(s).findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(fn.Properties.DeadLetterConfig).toBeUndefined();
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  test('without a key, the log groups use CloudWatch Logs encryption and are named after the stack UUID', () => {
    // GIVEN a registration without encryptionKey, outside a runner
    const s = stack();
    register(s, 'Registration');
    // WHEN synthesized
    const groups = Object.values(Template.fromStack(s).findResources('AWS::Logs::LogGroup'));
    // THEN the groups have no KMS key and stable names of their own
    expect(groups).toHaveLength(2);
    const uuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
    expect(groups.map((g) => g.Properties.LogGroupName)).toEqual([
      { 'Fn::Join': ['', ['/platform-orchestrator/registration/', uuid, '/handler']] },
      { 'Fn::Join': ['', ['/platform-orchestrator/registration/', uuid, '/framework']] },
    ]);
    for (const g of groups) expect(g.Properties.KmsKeyId).toBeUndefined();
  });

  test('encryptionKey encrypts both log groups; its key policy lets CloudWatch Logs use it for them only', () => {
    // GIVEN a key of the stack and two registrations, the second with another key
    const s = stack();
    const key = new kms.Key(s, 'LogKey');
    const other = new kms.Key(s, 'OtherKey');
    register(s, 'A', { runnerId: 'runner-a', encryptionKey: key });
    register(s, 'B', { runnerId: 'runner-b', encryptionKey: other });
    // WHEN synthesized
    const t = Template.fromStack(s);
    const keyId = s.getLogicalId(key.node.defaultChild as kms.CfnKey);
    const otherId = s.getLogicalId(other.node.defaultChild as kms.CfnKey);
    // THEN both log groups use the first registration's key (they belong to the shared provider)
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    // AND that key's policy allows CloudWatch Logs for the registration's log groups only
    const statement = {
      Sid: expect.stringMatching(/^CloudWatchLogsForRunnerRegistration[0-9A-F]{8}$/),
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':logs:eu-central-1:123456789012:log-group:/platform-orchestrator/registration/',
                { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
                '/*',
              ],
            ],
          },
        },
      },
    };
    const keyPolicy = (id: string) => t.toJSON().Resources[id].Properties.KeyPolicy.Statement;
    expect(keyPolicy(keyId)).toContainEqual(statement);
    // AND the second key is left alone
    expect(JSON.stringify(keyPolicy(otherId))).not.toContain('CloudWatchLogsForRunnerRegistration');
  });

  test('an imported encryptionKey encrypts the log groups and a warning names the key policy statement to add', () => {
    // GIVEN an imported key
    const s = stack();
    register(s, 'Registration', { encryptionKey: kms.Key.fromKeyArn(s, 'Imported', KEY_ARN) });
    // WHEN synthesized
    const t = Template.fromStack(s);
    // THEN both log groups (handler and provider framework) use it
    const groups = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([k]) => k.startsWith(PROVIDER));
    expect(groups).toHaveLength(2);
    for (const [id, g] of groups) expect([id, g.Properties.KmsKeyId]).toEqual([id, KEY_ARN]);
    // AND a warning says what its key policy needs
    Annotations.fromStack(s).hasWarning(
      '/Registrations/Registration',
      Match.stringLikeRegexp('key policy of encryptionKey cannot be changed.*CloudWatchLogsForRunnerRegistration'),
    );
  });

  test("inside the EcsRunner it registers, the runner's key encrypts the log groups", () => {
    // GIVEN a runner with its own key that registers itself
    const s = stack();
    const runner = new EcsRunner(s, 'Runner', {
      orgId: 'acme',
      runnerId: 'prod-runner',
      network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      encryption: RunnerEncryption.createKey(),
      registration: { apiTokenSecret: importedSecret(s) },
    });
    // WHEN synthesized
    const t = Template.fromStack(s);
    // THEN both registration log groups use the runner's key, which lets CloudWatch Logs use it for them
    const keyArn = s.resolve(runner.encryptionKey!.keyArn);
    const groups = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([k]) => k.startsWith(PROVIDER));
    expect(groups).toHaveLength(2);
    for (const [, g] of groups) expect(g.Properties.KmsKeyId).toEqual(keyArn);
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: Match.stringLikeRegexp('^CloudWatchLogsForRunnerRegistration[0-9A-F]{8}$') }),
        ]),
      },
    });
    // AND a registration of another runner id in that runner does not pick the key up
    const s2 = stack();
    const r2 = new EcsRunner(s2, 'Runner', {
      orgId: 'acme',
      runnerId: 'prod-runner',
      network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      encryption: RunnerEncryption.createKey(),
    });
    register(r2 as unknown as Stack, 'Other', { runnerId: 'someone-else' });
    const registrationGroups = Object.entries(Template.fromStack(s2).findResources('AWS::Logs::LogGroup')).filter(
      ([, g]) => JSON.stringify(g.Properties.LogGroupName).includes('/registration/'),
    );
    expect(registrationGroups).toHaveLength(2);
    for (const [id, g] of registrationGroups) expect([id, g.Properties.KmsKeyId]).toEqual([id, undefined]);
  });

  test('the handler runs the bundled asset on Node 24 with 256 MB, a timeout above the client deadline, and retained logs', () => {
    // GIVEN a registration
    const s = stack();
    register(s, 'Registration');
    // WHEN synthesized
    const t = Template.fromStack(s);
    // THEN the bundle exists and is small
    expect(existsSync(HANDLER_BUNDLE)).toBe(true);
    expect(statSync(HANDLER_BUNDLE).size).toBeLessThan(100 * 1024);
    // AND the function runs it
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.onEvent',
      Runtime: 'nodejs24.x',
      MemorySize: 256,
      Timeout: 300,
      Environment: { Variables: { PO_API_DEADLINE_MS: '240000' } },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('HandlerLogGroup') } },
    });
    // AND both log groups have a retention and are retained
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(365);
      expect(g.DeletionPolicy).toBe('Retain');
    }
  });

  test("the handler's timeout holds the secret read, an undo and the failure report beyond its API calls; the framework outlives it", () => {
    // GIVEN a registration
    const s = stack();
    register(s, 'Registration');
    // WHEN synthesized
    const t = Template.fromStack(s);
    const fns = Object.values(t.findResources('AWS::Lambda::Function'));
    const handler = fns.find((f) => f.Properties.Handler === 'index.onEvent')!;
    const framework = fns.find((f) => f.Properties.Handler === 'framework.onEvent')!;
    // THEN the handler's budget (registration.lambda.ts) fits into its timeout with at least a minute for the API:
    // the event's client deadline is cut to the remaining time less the undo and the report
    const timeoutMs = handler.Properties.Timeout * 1000;
    expect(timeoutMs - SECRET_TIMEOUT_MS - UNDO_DEADLINE_MS - REPORT_RESERVE_MS).toBeGreaterThanOrEqual(60_000);
    expect(Number(handler.Properties.Environment.Variables.PO_API_DEADLINE_MS)).toBeLessThan(timeoutMs);
    // AND the framework function, which reports the handler's error to CloudFormation, runs longer than the handler
    expect(framework.Properties.Timeout).toBeGreaterThan(handler.Properties.Timeout);
  });

  test('properties: defaults, adoptExisting, RETAIN and rules', () => {
    // GIVEN one registration with defaults and one with everything set
    const s = stack();
    register(s, 'Defaults', { runnerId: 'plain' });
    register(s, 'Custom', {
      runnerId: 'custom',
      apiUrl: 'https://po.example.com/api',
      adoptExisting: true,
      removalPolicy: RemovalPolicy.RETAIN,
      rules: [{ environmentType: 'development' }, { projectId: 'shop', environmentType: 'staging' }],
    });
    // WHEN synthesized
    const t = Template.fromStack(s);
    // THEN the properties carry the choices as strings
    t.hasResourceProperties('Custom::PlatformOrchestratorRunner', {
      RunnerId: 'plain',
      ApiUrl: 'https://api.humanitec.dev',
      AdoptExisting: 'false',
      RetainOnDelete: 'false',
      Rules: '[]',
    });
    t.hasResourceProperties('Custom::PlatformOrchestratorRunner', {
      RunnerId: 'custom',
      OrgId: 'acme',
      ApiUrl: 'https://po.example.com/api',
      AdoptExisting: 'true',
      RetainOnDelete: 'true',
      Rules: JSON.stringify([{ env_type_id: 'development' }, { env_type_id: 'staging', project_id: 'shop' }]),
    });
    // AND the custom resource itself is deleted with the stack (the handler decides what RETAIN means)
    for (const r of Object.values(t.findResources('Custom::PlatformOrchestratorRunner'))) {
      expect(r.DeletionPolicy).toBe('Delete');
    }
  });

  test('a body with deploy-time references passes validation', () => {
    // GIVEN a body rendered from tokens, and a runner id from a parameter
    const s = stack();
    const param = new CfnParameter(s, 'RunnerId');
    const body = s.toJsonString({ ...sampleBody('x'), id: param.valueAsString });
    // WHEN / THEN nothing throws and the body is resolved by CloudFormation
    register(s, 'Registration', { runnerId: param.valueAsString, body });
    const cr = Object.values(Template.fromStack(s).findResources('Custom::PlatformOrchestratorRunner'))[0];
    expect(JSON.stringify(cr.Properties.Body)).toContain('Fn::Join');
  });

  test('a plain-http apiUrl is legal but warned about', () => {
    // GIVEN a local test installation
    const s = stack();
    register(s, 'Registration', { apiUrl: 'http://localhost:8080' });
    // WHEN / THEN
    Annotations.fromStack(s).hasWarning(
      '/Registrations/Registration',
      Match.stringLikeRegexp('apiUrl http://localhost:8080 is plain http'),
    );
  });

  test.each<[string, Partial<RunnerRegistrationProps>, string]>([
    ['runnerId', { runnerId: 'Prod_Runner' }, 'runnerId'],
    ['orgId', { orgId: 'Acme Corp' }, 'orgId'],
    ['body that is not JSON', { body: '{id:' }, 'body'],
    ['body of another runner', { body: JSON.stringify(sampleBody('someone-else')) }, 'body'],
    ['body without configuration', { body: JSON.stringify({ id: 'prod-runner' }) }, 'body'],
    ['apiUrl without scheme', { apiUrl: 'api.humanitec.dev' }, 'apiUrl'],
    ['apiUrl with credentials', { apiUrl: 'https://me:pw@api.humanitec.dev' }, 'apiUrl'],
    ['removalPolicy SNAPSHOT', { removalPolicy: RemovalPolicy.SNAPSHOT }, 'removalPolicy'],
    ['rule environment type', { rules: [{ environmentType: 'Dev Env' }] }, 'rules[0].environmentType'],
    ['duplicate rules', { rules: [{ projectId: 'shop' }, { projectId: 'shop' }] }, 'rules[1]'],
    ['rolePath', { rolePath: 'platform' }, 'rolePath'],
  ])('rejects an invalid %s at synth time, naming the property', (_what, over, property) => {
    // GIVEN / WHEN a registration with the invalid property
    const s = stack();
    let error: unknown;
    try {
      register(s, 'Registration', over);
    } catch (e) {
      error = e;
    }
    // THEN the library's validation error names it, and what is accepted
    expect(RunnerErrors.isValidationError(error)).toBe(true);
    expect(RunnerErrors.propertyOf(error)).toBe(property);
    expect((error as Error).message).toMatch(/^Invalid .+: .+\. Expected .+\.$/s);
  });

  test('registrations in one stack must agree on boundary and path (they share the provider)', () => {
    // GIVEN a registration with a boundary
    const s = stack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(s, 'Boundary', 'platform-boundary');
    register(s, 'A', { runnerId: 'runner-a', permissionsBoundary: boundary });
    // WHEN / THEN a second one without it, or with another path, is refused
    expect(() => register(s, 'B', { runnerId: 'runner-b' })).toThrow(/Invalid permissionsBoundary/);
    expect(() => register(s, 'C', { runnerId: 'runner-c', permissionsBoundary: boundary, rolePath: '/x/' })).toThrow(
      /Invalid rolePath/,
    );
  });

  test('unresolved tokens pass validation', () => {
    // GIVEN ids and URL from parameters
    const s = stack();
    const org = new CfnParameter(s, 'Org').valueAsString;
    const url = new CfnParameter(s, 'Url').valueAsString;
    const env = new CfnParameter(s, 'EnvType').valueAsString;
    // WHEN / THEN
    expect(() =>
      register(s, 'Registration', { orgId: org, apiUrl: url, rules: [{ environmentType: env }] }),
    ).not.toThrow();
  });
});
