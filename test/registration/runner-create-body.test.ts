/**
 * The one shape check of a RunnerCreateBody read back from JSON, and its three readers: the
 * construct at synth, the registration handler, and the CLI. Each refuses the same bodies with
 * the same description of what is accepted.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RunnerErrors } from '../../src';
import { RunnerRegistration } from '../../src/registration/runner-registration';
import {
  RUNNER_CREATE_BODY_SHAPE,
  isRunnerCreateBody,
  runnerCreateBody,
} from '../../src/registration/runner-create-body';
import { onEvent } from '../../src/registration/runtime/registration.lambda';
import { CLI_BUNDLE, ensureBundled } from '../support/bundles';
import { sampleBody } from '../support/fake-orchestrator';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf';

/** Bodies every reader refuses: what each lacks. */
const BAD: [string, unknown][] = [
  ['an array', [sampleBody('r1')]],
  ['null', null],
  ['no id', { ...sampleBody('r1'), id: undefined }],
  ['an empty id', sampleBody('', {})],
  ['a numeric id', sampleBody('r1', { id: 7 })],
  ['no runner_configuration', sampleBody('r1', { runner_configuration: undefined })],
  ['a string runner_configuration', sampleBody('r1', { runner_configuration: 'serverless-ecs' })],
  ['state_storage_configuration as an array', sampleBody('r1', { state_storage_configuration: [] })],
];

beforeAll(() => ensureBundled());

describe('isRunnerCreateBody', () => {
  test('accepts what runnerCreateBody builds, and the sample body', () => {
    // GIVEN the body the construct builds, with the fewest optional fields
    const built = runnerCreateBody({
      runnerId: 'r1',
      taskManagerRoleArn: 'arn:aws:iam::123456789012:role/task-manager',
      region: 'eu-central-1',
      clusterName: 'runners',
      subnetIds: ['subnet-1'],
      securityGroupIds: [],
      assignPublicIp: false,
      executionRoleArn: 'arn:aws:iam::123456789012:role/execution',
      taskRoleArn: 'arn:aws:iam::123456789012:role/task',
      environment: {},
      secrets: {},
      bucketName: 'state',
    });
    // THEN both have the shape (their contents are the orchestrator's to check), as JSON too
    expect(isRunnerCreateBody(JSON.parse(JSON.stringify(built)))).toBe(true);
    expect(isRunnerCreateBody(sampleBody('r1'))).toBe(true);
  });

  test.each(BAD)('refuses %s', (_what, body) => {
    expect(isRunnerCreateBody(JSON.parse(JSON.stringify(body)))).toBe(false);
  });
});

describe('the readers of a body refuse the same shapes', () => {
  test.each(BAD)('%s: the construct at synth, naming body', (_what, body) => {
    // GIVEN a registration of a JSON body without the shape
    const stack = new Stack(new App(), 'Reg');
    let error: unknown;
    try {
      new RunnerRegistration(stack, 'Registration', {
        runnerId: 'r1',
        orgId: 'acme',
        body: JSON.stringify(body),
        apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', SECRET_ARN),
      });
    } catch (e) {
      error = e;
    }
    // THEN the library's validation error names the property and the accepted shape
    expect(RunnerErrors.isValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('body');
    expect((error as Error).message).toContain(RUNNER_CREATE_BODY_SHAPE);
  });

  test.each(BAD)('%s: the handler, before it reads the token or calls the API', async (_what, body) => {
    // GIVEN a Create event with that body (the secret cannot be read here: nothing may get that far)
    const event = {
      RequestType: 'Create' as const,
      ResourceProperties: { OrgId: 'acme', Body: JSON.stringify(body), TokenSecretArn: SECRET_ARN },
    };
    // WHEN / THEN
    await expect(onEvent(event)).rejects.toThrow(
      `ResourceProperties.Body must be a JSON RunnerCreateBody: ${RUNNER_CREATE_BODY_SHAPE}`,
    );
  });

  test('the CLI, for a body file', () => {
    // GIVEN a body file with an id but no configurations
    const dir = mkdtempSync(path.join(tmpdir(), 'po-body-'));
    const file = path.join(dir, 'body.json');
    writeFileSync(file, JSON.stringify({ id: 'r1' }));
    // WHEN the CLI reads it (nothing listens at the API URL: nothing may be called)
    let stderr = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [CLI_BUNDLE, 'status', '--body-file', file], {
        env: {
          PATH: process.env.PATH ?? '',
          HUMANITEC_AUTH_TOKEN: 'token',
          HUMANITEC_ORG: 'acme',
          HUMANITEC_API_URL: 'http://127.0.0.1:9',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      const err = e as { status: number; stderr: string };
      code = err.status;
      stderr = err.stderr;
    }
    // THEN it is a usage error naming the file and the shape
    expect(code).toBe(2);
    expect(stderr).toContain(`--body-file ${file} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`);
  });
});
