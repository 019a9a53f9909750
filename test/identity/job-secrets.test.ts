/**
 * The execution role reads exactly the job's secrets, whether their ARNs are known at synth or are
 * tokens (a secret or parameter of this or another stack) that CloudFormation resolves.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { EcsRunner } from '../../src/ecs-runner';
import { logicalId, statementsOfRole } from '../support/stacks';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';

function jobSecretStatements(stack: Stack): any[] {
  const template = Template.fromStack(stack);
  const role = logicalId(template, 'AWS::IAM::Role', 'RunnerRolesExecutionRole');
  return statementsOfRole(template, role).filter((s) => s.Sid === 'ReadJobSecrets' || s.Sid === 'ReadJobParameters');
}

describe('job secrets on the execution role', () => {
  test('ARNs given as tokens are readable, each by its own action', () => {
    // GIVEN a secret and a parameter created in the stack, whose ARNs are tokens at synth
    const stack = new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
    const secret = new secretsmanager.Secret(stack, 'DbPassword');
    const parameter = new ssm.StringParameter(stack, 'ApiKey', { stringValue: 'not-a-secret-in-tests' });

    // WHEN the runner's jobs get them as secrets
    new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      runnerId: 'prod-runner',
      subnetIds: ['subnet-0123456789abcdef0'],
      secrets: { DB_PASSWORD: secret.secretArn, API_KEY: parameter.parameterArn },
    });

    // THEN the execution role may read both (a token could be either service's ARN, so it is in
    // both statements; GetSecretValue never matches an SSM ARN, nor GetParameters a secret's)
    const secretArn = stack.resolve(secret.secretArn);
    const parameterArn = stack.resolve(parameter.parameterArn);
    expect(jobSecretStatements(stack)).toEqual([
      {
        Sid: 'ReadJobSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [secretArn, parameterArn],
      },
      {
        Sid: 'ReadJobParameters',
        Effect: 'Allow',
        Action: 'ssm:GetParameters',
        Resource: [secretArn, parameterArn],
      },
    ]);
    expect(secretArn).toEqual({ Ref: expect.stringMatching(/^DbPassword/) });
  });

  test('ARNs known at synth go to their own service only', () => {
    // GIVEN one secret and one parameter ARN as literals
    const stack = new Stack(new App(), 'Stack', { env: { account: ACCOUNT, region: REGION } });
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:db-password-AbCdEf`;
    const parameterArn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/runner/api-key`;

    // WHEN the runner's jobs get them as secrets
    new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      runnerId: 'prod-runner',
      subnetIds: ['subnet-0123456789abcdef0'],
      secrets: { DB_PASSWORD: secretArn, API_KEY: parameterArn },
    });

    // THEN each is readable by its service's action only
    expect(jobSecretStatements(stack)).toEqual([
      { Sid: 'ReadJobSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
      { Sid: 'ReadJobParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: parameterArn },
    ]);
  });
});
