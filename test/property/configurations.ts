/**
 * Property-based test: thousands of random and hostile configurations. Each one either
 * synthesizes a stack whose RunnerCreateBody output validates against the orchestrator's
 * OpenAPI schema, or fails in the constructor with the library's validation error. Nothing
 * else: no CDK internal error, no invalid body, no half-built stack.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fc from 'fast-check';
import {
  EcsRunner,
  EcsRunnerProps,
  Orchestrator,
  RunnerEncryption,
  RunnerErrors,
  RunnerNetwork,
  StateAccessLogs,
  StateBucket,
} from 'platform-orchestrator-ecs-runner';
import { registrationBodies } from '../support/cfn';
import { validateSchema } from '../support/openapi';
import { rawSecret } from '../support/secrets';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
// A well-formed '${Token[NAME.123]}' string is a CDK token by definition and is passed through
// unchecked, like any token; hostile values include a broken one instead.
const hostile = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '-', 'a', '${Token[X', '../..', 'arn:aws:iam::123:role/x', '\u0000', 'ÄÖÜ', 'a'.repeat(300)),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** Mostly well-formed values, sometimes hostile ones: every field is attacked, few at once. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 20 }, { arbitrary: hostile as fc.Arbitrary<any>, weight: 1 });

const runnerIdArb = mostly(fc.stringMatching(/^[a-z][a-z0-9_-]{1,30}$/));
const subnetIdArb = mostly(
  fc.oneof(
    hex(17).map((h) => `subnet-${h}`),
    hex(8).map((h) => `subnet-${h}`),
  ),
);
const sgIdArb = mostly(hex(17).map((h) => `sg-${h}`));
const envNameArb = mostly(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/));
const envValueArb = mostly(
  fc.oneof(
    fc.string({ maxLength: 50 }),
    fc.nat(1100).map((n) => 'v'.repeat(n)),
  ),
);
const secretArnArb = mostly(
  fc.oneof(
    fc
      .stringMatching(/^[a-z0-9/_-]{1,20}$/)
      .chain((name) =>
        fc
          .stringMatching(/^[a-zA-Z0-9]{6}$/)
          .map((suffix) => `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}-${suffix}`),
      ),
    fc.stringMatching(/^[a-z0-9/_-]{1,20}$/).map((name) => `arn:aws:ssm:eu-central-1:123456789012:parameter/${name}`),
  ),
);
const tagArb = fc.dictionary(
  mostly(fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.:/=+@-]{0,20}$/)),
  mostly(fc.string({ maxLength: 30 })),
  {
    maxKeys: 4,
  },
);

const propsArb: fc.Arbitrary<EcsRunnerProps> = fc
  .record(
    {
      orgId: mostly(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}[a-z0-9]$/)),
      runnerId: maybe(runnerIdArb),
      runnerIdPrefix: maybe(mostly(fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/))),
      description: maybe(mostly(fc.string({ maxLength: 100 }))),
      orchestrator: maybe(
        fc.constantFrom(
          Orchestrator.humanitec(),
          Orchestrator.stellwerk({ oidcIssuer: 'oidc.stellwerk.example.com', apiUrl: 'https://po.example.com' }),
          Orchestrator.custom({
            oidcIssuer: 'login.example.org/po',
            apiUrl: 'https://login.example.org/api',
            taskDefinitionFamilyPrefix: 'acme_',
          }),
        ),
      ),
      subnetIds: fc.oneof(
        { arbitrary: fc.array(subnetIdArb, { minLength: 1, maxLength: 16 }), weight: 20 },
        { arbitrary: fc.array(subnetIdArb, { minLength: 0, maxLength: 20 }), weight: 1 },
      ),
      securityGroupIds: maybe(
        fc.oneof(
          { arbitrary: fc.array(sgIdArb, { maxLength: 5 }), weight: 20 },
          { arbitrary: fc.array(sgIdArb, { maxLength: 8 }), weight: 1 },
        ),
      ),
      assignPublicIp: maybe(fc.boolean()),
      environment: maybe(fc.dictionary(envNameArb, envValueArb, { maxKeys: 4 })),
      secrets: maybe(
        fc
          .dictionary(envNameArb, secretArnArb, { maxKeys: 3 })
          .map((d) => Object.fromEntries(Object.entries(d).map(([k, arn]) => [k, rawSecret(arn)]))),
      ),
      image: maybe(
        mostly(fc.constantFrom('ghcr.io/acme/runner:1.2.3', '123456789012.dkr.ecr.eu-central-1.amazonaws.com/r:1')),
      ),
      maxTaskCpu: maybe(
        fc.oneof(
          { arbitrary: fc.integer({ min: 512, max: 16384 }), weight: 20 },
          { arbitrary: fc.integer(), weight: 1 },
        ),
      ),
      maxTaskMemoryMiB: maybe(
        fc.oneof(
          { arbitrary: fc.integer({ min: 1024, max: 122880 }), weight: 20 },
          { arbitrary: fc.integer(), weight: 1 },
        ),
      ),
      sessionName: maybe(mostly(fc.stringMatching(/^[\w+=,.@-]{3,64}$/))),
      stsRegion: maybe(mostly(fc.constantFrom('eu-central-1', 'us-east-1'))),
      statePathPrefix: maybe(mostly(fc.stringMatching(/^[a-z0-9._-]{1,10}(\/[a-z0-9._-]{1,10}){0,2}\/?$/))),
      noncurrentVersionTransitionDays: maybe(fc.integer({ min: 25, max: 120 })),
      noncurrentVersionExpirationDays: maybe(fc.integer({ min: 0, max: 800 })),
      rolePath: maybe(mostly(fc.constantFrom('/', '/platform/runners/'))),
      tags: maybe(tagArb),
      createEncryptionKey: maybe(fc.boolean()),
      serverAccessLogs: maybe(fc.boolean()),
    },
    { requiredKeys: ['orgId', 'subnetIds'] },
  )
  // The generated values in the places of EcsRunnerProps' options objects and factories.
  .map(
    ({
      subnetIds,
      statePathPrefix,
      noncurrentVersionTransitionDays,
      noncurrentVersionExpirationDays,
      createEncryptionKey,
      serverAccessLogs,
      ...rest
    }) => ({
      ...rest,
      network: RunnerNetwork.fromSubnetIds(subnetIds),
      state: {
        pathPrefix: statePathPrefix,
        bucket: StateBucket.create({
          noncurrentVersionTransitionDays,
          noncurrentVersionExpirationDays,
          accessLogs: serverAccessLogs === false ? StateAccessLogs.disabled() : undefined,
        }),
      },
      encryption:
        createEncryptionKey === undefined
          ? undefined
          : createEncryptionKey
            ? RunnerEncryption.createKey()
            : RunnerEncryption.s3Managed(),
    }),
  ) as fc.Arbitrary<EcsRunnerProps>;

/**
 * Runs the property `numRuns` times; returns how many configurations synthesized and how many
 * the library rejected. Each jest file calls it once, so two workers share the runs.
 */
export function checkConfigurations(numRuns: number): { synthesized: number; rejected: number } {
  let synthesized = 0;
  let rejected = 0;
  fc.assert(
    fc.property(propsArb, (props) => {
      const app = new App();
      const stack = new Stack(app, 'Prop', { env: { account: '123456789012', region: 'eu-central-1' } });
      try {
        new EcsRunner(stack, 'Runner', props);
      } catch (e) {
        if (!RunnerErrors.isValidationError(e)) throw e;
        rejected++;
        return;
      }
      const template = Template.fromStack(stack).toJSON();
      const bodies = registrationBodies(template);
      if (bodies.length !== 1) throw new Error(`expected one RunnerCreateBody output, found ${bodies.length}`);
      const result = validateSchema('RunnerCreateBody', bodies[0]);
      if (!result.valid) throw new Error(`body not valid: ${result.errors.join('; ')}\n${JSON.stringify(bodies[0])}`);
      synthesized++;
    }),
    { numRuns, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
  return { synthesized, rejected };
}
