/**
 * Job secrets are `ecs.Secret`s, as ECS users write them. The execution role reads exactly them,
 * through `grantRead` (with the secret's KMS key), and the registration body carries ARNs the API
 * accepts: a secret known only by its name, or a JSON field selection, is a synth error.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { EcsRunner, EcsRunnerProps, RunnerErrors, RunnerNetwork } from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from '../support/cfn';
import { assertValid } from '../support/openapi';
import { logicalId, statementsOfRole } from '../support/stacks';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-AbCdEf`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
}

function runner(stack: Stack, secrets: EcsRunnerProps['secrets']): EcsRunner {
  return new EcsRunner(stack, 'Runner', {
    orgId: 'my-org',
    runnerId: 'prod-runner',
    network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
    secrets,
  });
}

function executionStatements(stack: Stack): any[] {
  const template = Template.fromStack(stack);
  return statementsOfRole(template, logicalId(template, 'AWS::IAM::Role', 'RunnerRolesExecutionRole'));
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('job secrets as ecs.Secret', () => {
  test('a secret by complete ARN with an imported key: the role reads it, and secretsEncryptionKeys decrypts', () => {
    // GIVEN a secret imported with its imported key, as ECS users write it
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', KEY_ARN);
    const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Db', {
      secretCompleteArn: SECRET_ARN,
      encryptionKey: key,
    });

    // WHEN the runner's jobs get it (grantRead gives an imported key nothing: CDK grants a key's use via
    // Secrets Manager in the key's policy, which an imported key's is not, so the key is named again)
    new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      runnerId: 'prod-runner',
      network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      secrets: { DB_PASSWORD: ecs.Secret.fromSecretsManager(secret) },
      secretsEncryptionKeys: [key],
    });

    // THEN the execution role may read exactly it, and decrypt with its key only through Secrets Manager
    const statements = executionStatements(stack);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: SECRET_ARN,
    });
    expect(statements).toContainEqual({
      Sid: 'DecryptJobSecrets',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY_ARN,
      Condition: {
        StringEquals: { 'kms:ViaService': [`secretsmanager.${REGION}.amazonaws.com`, `ssm.${REGION}.amazonaws.com`] },
      },
    });
    // AND the body carries the complete ARN, valid for the API
    const [body] = registrationBodies(Template.fromStack(stack).toJSON());
    assertValid('RunnerCreateBody', body);
    expect(body.runner_configuration.job.secrets).toEqual({ DB_PASSWORD: SECRET_ARN });
  });

  test('a secret and a SecureString parameter of the stack, each with a key of the stack', () => {
    // GIVEN a secret and a parameter created in the stack with customer managed keys
    const stack = newStack();
    const secretKey = new kms.Key(stack, 'SecretKey');
    const secret = new secretsmanager.Secret(stack, 'DbPassword', { encryptionKey: secretKey });
    const parameter = ssm.StringParameter.fromSecureStringParameterAttributes(stack, 'Token', {
      parameterName: '/prod/token',
      encryptionKey: kms.Key.fromKeyArn(stack, 'ParamKey', KEY_ARN),
    });

    // WHEN
    runner(stack, {
      DB_PASSWORD: ecs.Secret.fromSecretsManager(secret),
      API_TOKEN: ecs.Secret.fromSsmParameter(parameter),
    });

    // THEN the role reads both, and may decrypt the parameter with its key
    const template = Template.fromStack(stack);
    const statements = executionStatements(stack);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: stack.resolve(secret.secretArn),
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['ssm:GetParameters']),
        Resource: stack.resolve(parameter.parameterArn),
      }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: KEY_ARN }));
    // AND the secret's own key lets the role decrypt via Secrets Manager (the key policy CDK manages)
    const executionRole = logicalId(template, 'AWS::IAM::Role', 'RunnerRolesExecutionRole');
    const keyPolicy =
      template.toJSON().Resources[stack.getLogicalId(secretKey.node.defaultChild as kms.CfnKey)].Properties.KeyPolicy
        .Statement;
    const decryptForRole = [...keyPolicy, ...statements].filter(
      (s: any) =>
        [s.Action].flat().includes('kms:Decrypt') &&
        (JSON.stringify(s.Principal ?? {}).includes(executionRole) || JSON.stringify(s.Resource).includes('SecretKey')),
    );
    expect(decryptForRole.length).toBeGreaterThan(0);
  });

  test('a secret known only by its name: a synth error that says to use fromSecretCompleteArn', () => {
    // GIVEN
    const stack = newStack();
    const byName = secretsmanager.Secret.fromSecretNameV2(stack, 'Db', 'prod/db');

    // WHEN / THEN
    const error = errorOf(() => runner(stack, { DB: ecs.Secret.fromSecretsManager(byName) }));
    expect(RunnerErrors.propertyOf(error)).toBe('secrets.DB');
    expect(error.message).toContain('"arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/db"');
    expect(error.message).toContain('fromSecretCompleteArn');
  });

  test('a JSON field of a secret (valueFrom <arn>:<field>::), which the API refuses: a synth error', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Db', SECRET_ARN);
    const error = errorOf(() => runner(stack, { DB_USER: ecs.Secret.fromSecretsManager(secret, 'username') }));
    expect(RunnerErrors.propertyOf(error)).toBe('secrets.DB_USER');
    expect(error.message).toContain(`"${SECRET_ARN}:username::"`);
    expect(error.message).toMatch(/accepts no JSON field/);
  });

  test('a parameter by name: the body has its ARN in the stack account and region', () => {
    const stack = newStack();
    const parameter = ssm.StringParameter.fromStringParameterName(stack, 'P', '/runner/api-url');
    runner(stack, { API_URL: ecs.Secret.fromSsmParameter(parameter) });
    const [body] = registrationBodies(Template.fromStack(stack).toJSON());
    assertValid('RunnerCreateBody', body);
    expect(body.runner_configuration.job.secrets).toEqual({
      API_URL: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/runner/api-url`,
    });
  });
});
