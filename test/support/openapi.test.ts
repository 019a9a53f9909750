/**
 * Negative tests for the OpenAPI helper (./openapi.ts) and the fake orchestrator's request
 * validation: every other use of them is a positive check, which a validator that accepted
 * everything would also pass. Each limit below is quoted from spec/openapi.yaml.
 */
import { readFileSync } from 'fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { registrationBodies } from './cfn';
import { FakeOrchestrator } from './fake-orchestrator';
import { assertValid, SPEC_PATH, validateSchema } from './openapi';
import { synthRunner } from './stacks';

let template: any;
let valid: any;

beforeAll(() => {
  template = synthRunner().template.toJSON();
  [valid] = registrationBodies(template);
});

/** A deep copy of the valid body, changed by `edit`. */
function changed(edit: (body: any) => void): any {
  const body = structuredClone(valid);
  edit(body);
  return body;
}

describe('assertValid: RunnerCreateBody', () => {
  test('accepts the body a synthesized EcsRunner outputs', () => {
    // GIVEN the RunnerCreateBody output of a default EcsRunner, rendered for partition aws
    // WHEN / THEN
    expect(valid.runner_configuration.type).toBe('serverless-ecs');
    expect(() => assertValid('RunnerCreateBody', valid)).not.toThrow();
  });

  test('rejects role ARNs in another partition', () => {
    // GIVEN the same template rendered for aws-cn.
    // AwsTemporaryAuth.properties.role_arn.pattern: ^arn:aws:iam::[0-9]{12}:role\/...
    // ServerlessEcsRunnerJob.properties.{execution_role_arn,task_role_arn}.pattern: ^arn:aws:iam::\d{12}:role\/...
    const [cn] = registrationBodies(template, { partition: 'aws-cn' });
    expect(cn.runner_configuration.auth.role_arn).toMatch(/^arn:aws-cn:iam::\d{12}:role\//);

    // WHEN / THEN
    const check = () => assertValid('RunnerCreateBody', cn);
    expect(check).toThrow('/runner_configuration/auth/role_arn must match pattern');
    expect(check).toThrow('/runner_configuration/job/execution_role_arn must match pattern');
    expect(check).toThrow('/runner_configuration/job/task_role_arn must match pattern');
  });

  test('rejects 17 subnets and accepts 16', () => {
    // GIVEN ServerlessEcsRunnerJob.properties.subnets: minItems 1, maxItems 16
    const subnets = (n: number) => Array.from({ length: n }, (_, i) => `subnet-${String(i).padStart(17, '0')}`);
    const sixteen = changed((b) => (b.runner_configuration.job.subnets = subnets(16)));
    const seventeen = changed((b) => (b.runner_configuration.job.subnets = subnets(17)));
    const none = changed((b) => (b.runner_configuration.job.subnets = []));

    // WHEN / THEN
    expect(() => assertValid('RunnerCreateBody', sixteen)).not.toThrow();
    expect(() => assertValid('RunnerCreateBody', seventeen)).toThrow(
      '/runner_configuration/job/subnets must NOT have more than 16 items',
    );
    expect(() => assertValid('RunnerCreateBody', none)).toThrow(
      '/runner_configuration/job/subnets must NOT have fewer than 1 items',
    );
  });

  // ServerlessEcsRunnerConfiguration.required: [type, auth, job]
  // ServerlessEcsRunnerJob.required: [region, cluster, subnets, execution_role_arn]
  // RunnerCreateBody.required: [id, runner_configuration, state_storage_configuration]
  test.each([
    ['runner_configuration', 'job'],
    ['runner_configuration', 'auth'],
    ['runner_configuration/job', 'execution_role_arn'],
    ['', 'state_storage_configuration'],
  ])('rejects a body without the required %s/%s', (parent, prop) => {
    // GIVEN the valid body without that property
    const body = changed((b) => {
      const owner = parent === '' ? b : parent.split('/').reduce((o: any, k) => o[k], b);
      delete owner[prop];
    });

    // WHEN / THEN
    expect(() => assertValid('RunnerCreateBody', body)).toThrow(
      `${parent === '' ? '/' : `/${parent}`} must have required property '${prop}'`,
    );
  });

  test('rejects a discriminator type that is not a mapping key', () => {
    // GIVEN RunnerConfiguration.discriminator.mapping keys (= RunnerType.enum) and
    // StateStorageConfiguration.discriminator.mapping keys (= StateStorageType.enum)
    const runner = changed((b) => (b.runner_configuration.type = 'serverless-fargate'));
    const state = changed((b) => (b.state_storage_configuration.type = 'dynamodb'));

    // WHEN / THEN
    expect(() => assertValid('RunnerCreateBody', runner)).toThrow(
      '/runner_configuration/type must be equal to one of the allowed values',
    );
    expect(() => assertValid('RunnerCreateBody', state)).toThrow(
      '/state_storage_configuration/type must be equal to one of the allowed values',
    );
  });

  test.each(['eu-central', 'EU-CENTRAL-1', 'us-gov-west-1', 'eu-central-1 '])('rejects the region %p', (region) => {
    // GIVEN ServerlessEcsRunnerJob.properties.region.pattern: ^[a-z]{2}-[a-z]+-\d$ (GovCloud's
    // us-gov-west-1 does not match it either)
    const body = changed((b) => (b.runner_configuration.job.region = region));

    // WHEN / THEN
    expect(() => assertValid('RunnerCreateBody', body)).toThrow('/runner_configuration/job/region must match pattern');
  });

  test('extra properties: the spec closes no schema, so none is rejected', () => {
    // GIVEN spec/openapi.yaml, which has no `additionalProperties: false` anywhere (if one is
    // added, this fails: replace it with a negative test for that schema)
    const closed: string[] = [];
    const walk = (node: any, at: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (node.additionalProperties === false) closed.push(at);
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(parse(readFileSync(SPEC_PATH, 'utf8')), '#');
    const extra = changed((b) => {
      b.unknown = 1;
      b.runner_configuration.job.unknown = 1;
    });

    // WHEN / THEN
    expect(closed).toEqual([]);
    expect(() => assertValid('RunnerCreateBody', extra)).not.toThrow();
  });

  // Known gap of the spec, not tested here: ServerlessEcsRunnerJob has `required` and `properties`
  // but no `type: object`, so JSON Schema accepts `job: "x"`. The library always sends an object
  // (runner-create-body.ts), so the gap cannot reach the API from it.
});

describe('the discriminator rewrite', () => {
  /** The spec's schemas compiled by Ajv as written: plain oneOf, discriminator ignored. */
  function rawValidator(schema: string) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const doc = parse(readFileSync(SPEC_PATH, 'utf8'));
    ajv.addSchema({ $id: 'raw.json', components: { schemas: doc.components.schemas } });
    return ajv.getSchema(`raw.json#/components/schemas/${schema}`)!;
  }

  test('plain oneOf rejects a valid body: an s3 state storage also matches the gcs member', () => {
    // GIVEN StateStorageConfiguration.oneOf, whose S3 and GCS members have the same shape
    const raw = rawValidator('RunnerCreateBody');

    // WHEN
    const rawValid = raw(valid);

    // THEN plain oneOf finds two matches (oneOf[1] S3, oneOf[2] GCS); the rewrite picks S3 by `type`
    expect(rawValid).toBe(false);
    expect(raw.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '/state_storage_configuration',
        keyword: 'oneOf',
        params: { passingSchemas: [1, 2] },
      }),
    );
    expect(validateSchema('RunnerCreateBody', valid)).toEqual({ valid: true, errors: [] });
  });

  test('plain oneOf accepts a configuration whose type names another member', () => {
    // GIVEN a serverless-ecs configuration labelled `kubernetes`: only the ECS member matches its
    // shape, and every member's `type` accepts any RunnerType
    const mislabelled = { ...valid.runner_configuration, type: 'kubernetes' };

    // WHEN / THEN plain oneOf accepts it; the rewrite validates it as K8sRunnerConfiguration
    expect(rawValidator('RunnerConfiguration')(mislabelled)).toBe(true);
    expect(() => assertValid('RunnerConfiguration', mislabelled)).toThrow("/ must have required property 'cluster'");
  });
});

describe('FakeOrchestrator: an invalid request body', () => {
  const TOKEN = 'test-token';
  let fake: FakeOrchestrator;

  beforeAll(async () => {
    fake = await FakeOrchestrator.start({ token: TOKEN });
  });
  afterAll(async () => {
    await fake.close();
  });

  const post = (body: unknown) =>
    fetch(`${fake.url}/orgs/my-org/runners`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('is answered 400, recorded as a violation, and creates nothing', async () => {
    // GIVEN a fresh fake and a body with 17 subnets (ServerlessEcsRunnerJob.properties.subnets.maxItems 16)
    fake.reset();
    const body = changed((b) => {
      b.runner_configuration.job.subnets = Array.from({ length: 17 }, (_, i) => `subnet-${i}`);
    });

    // WHEN
    const res = await post(body);

    // THEN
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe('HTTP-400'); // the real server's error code form
    expect(answer.message).toContain('/runner_configuration/job/subnets must NOT have more than 16 items');
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatch(/^POST \/orgs\/my-org\/runners: not a valid RunnerCreateBody: /);
    expect(fake.violations[0]).toContain('/runner_configuration/job/subnets must NOT have more than 16 items');
    expect(fake.runnerIds('my-org')).toEqual([]);
    expect(fake.apiCalls().map((r) => r.status)).toEqual([400]);
  });

  test('a valid body is created and records no violation', async () => {
    // GIVEN a fresh fake
    fake.reset();

    // WHEN
    const res = await post(valid);

    // THEN
    expect(res.status).toBe(201);
    expect(fake.violations).toEqual([]);
    expect(fake.responseViolations).toEqual([]);
    expect(fake.runnerIds('my-org')).toEqual([valid.id]);
  });
});
