/**
 * Checks of src/config/validate-props.ts that the adversarial property test found missing
 * (test/property/FINDINGS.md): each input was a crash with someone else's error, a refusal that
 * left resources behind, a stack CloudFormation would refuse, or a token silently dropped.
 */
import { CfnParameter, CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner, RunnerNetwork, StateAccessLogs, StateBucket } from 'platform-orchestrator-ecs-runner';
import { minimalProps, newStack } from '../support/stacks';
import { expectValidationError } from '../support/validation';

/** The resources under the construct `id` of the stack: none of a refused runner may be left. */
function resourcesUnder(stack: Stack, id: string): string[] {
  const scope = stack.node.tryFindChild(id);
  return (scope?.node.findAll() ?? []).filter((c) => CfnResource.isCfnResource(c)).map((c) => c.node.path);
}

const token = (stack: Stack) =>
  secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'Token',
    'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
  );

describe("refusals that depend on the stack's other runners come before anything is built (F2)", () => {
  test("another retention for the stack's shared access-logs bucket", () => {
    // GIVEN a runner that gave the shared access-logs bucket 30 days
    const stack = newStack();
    const logs30 = { bucket: StateBucket.create({ accessLogs: StateAccessLogs.stackBucket({ retentionDays: 30 }) }) };
    new EcsRunner(stack, 'First', minimalProps({ state: logs30 }));
    // WHEN a second runner asks for 90 THEN it is refused, and nothing of it is built
    const logs90 = { bucket: StateBucket.create({ accessLogs: StateAccessLogs.stackBucket({ retentionDays: 90 }) }) };
    expectValidationError(
      () => new EcsRunner(stack, 'Second', minimalProps({ state: logs90 })),
      'state.bucket.accessLogs.retentionDays',
    );
    expect(resourcesUnder(stack, 'Second')).toEqual([]);
  });

  test("another role path than the stack's other registration", () => {
    // GIVEN a registering runner with the default role path
    const stack = newStack();
    const apiTokenSecret = token(stack);
    new EcsRunner(stack, 'First', minimalProps({ registration: { apiTokenSecret } }));
    // WHEN a second registering runner has its own path THEN it is refused, and nothing of it is built
    expectValidationError(
      () => new EcsRunner(stack, 'Second', minimalProps({ registration: { apiTokenSecret }, rolePath: '/platform/' })),
      'rolePath',
    );
    expect(resourcesUnder(stack, 'Second')).toEqual([]);
  });
});

describe('what CloudFormation or CDK would refuse is the library error', () => {
  test.each([
    [
      'no resource',
      new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'] }),
      /must specify at least one resource/,
    ],
    [
      'a principal',
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: ['*'],
        principals: [new iam.AccountRootPrincipal()],
      }),
      /cannot specify any IAM principals/,
    ],
  ])('a task role statement with %s (F4)', (_, statement, reason) => {
    // GIVEN a statement no identity policy may hold WHEN the runner is built THEN it is refused
    const stack = newStack();
    const error = expectValidationError(
      () => new EcsRunner(stack, 'Runner', minimalProps({ taskRoleStatements: [statement] })),
      'taskRoleStatements[0]',
    );
    expect(error.message).toMatch(reason);
  });

  test('the same managed policy twice on the task role, however it is written (F8)', () => {
    // GIVEN ReadOnlyAccess by name and by ARN with the partition as a pseudo parameter
    const stack = newStack();
    const byName = iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess');
    const byArn = iam.ManagedPolicy.fromManagedPolicyArn(
      stack,
      'P',
      `arn:${stack.partition}:iam::aws:policy/ReadOnlyAccess`,
    );
    // WHEN / THEN the second is refused (the role's ManagedPolicyArns must be unique)
    const error = expectValidationError(
      () => new EcsRunner(stack, 'Runner', minimalProps({ taskRoleManagedPolicies: [byName, byArn] })),
      'taskRoleManagedPolicies[1]',
    );
    expect(error.message).toMatch(/taskRoleManagedPolicies\[0\] is the same policy/);
  });

  test('two different managed policies are accepted', () => {
    const stack = newStack();
    const policies = ['ReadOnlyAccess', 'AmazonS3ReadOnlyAccess'].map((n) =>
      iam.ManagedPolicy.fromAwsManagedPolicyName(n),
    );
    new EcsRunner(stack, 'Runner', minimalProps({ taskRoleManagedPolicies: policies }));
    expect(Template.fromStack(stack).toJSON()).toBeDefined();
  });

  test('natGateways as a token (F11)', () => {
    // GIVEN a number parameter: the VPC's NAT gateways are decided at synth, a token would make none
    const stack = newStack();
    const count = new CfnParameter(stack, 'Nat', { type: 'Number', default: 2 }).valueAsNumber;
    // WHEN / THEN
    expectValidationError(
      () => new EcsRunner(stack, 'Runner', minimalProps({ network: RunnerNetwork.createVpc({ natGateways: count }) })),
      'network.natGateways',
    );
    expect(resourcesUnder(stack, 'Runner')).toEqual([]);
  });
});

describe('tokens the runner cannot check are never dropped silently', () => {
  test('requiredTagKeys as a list token warns (F10)', () => {
    // GIVEN keys known at deploy time only
    const stack = newStack();
    const keys = new CfnParameter(stack, 'Keys', { type: 'CommaDelimitedList', default: 'Owner' }).valueAsList;
    new EcsRunner(stack, 'Runner', minimalProps({ requiredTagKeys: keys }));
    // THEN the synth says they are not checked
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Runner',
      Match.stringLikeRegexp('requiredTagKeys holds keys known only at deploy time'),
    );
  });

  test('a string token in the body warns that its value goes into the JSON unescaped (F9)', () => {
    // GIVEN a description and a variable from parameters
    const stack = newStack();
    const description = new CfnParameter(stack, 'Description', { default: 'say "hi"' }).valueAsString;
    const value = Lazy.string({ produce: () => 'v' });
    new EcsRunner(stack, 'Runner', minimalProps({ description, environment: { A: 'plain', B: value } }));
    // THEN one warning names both
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Runner',
      Match.stringLikeRegexp(
        '^description, environment.B are known only at deploy time and go into the RunnerCreateBody JSON unescaped',
      ),
    );
  });

  test('concrete values give neither warning', () => {
    const stack = newStack();
    new EcsRunner(
      stack,
      'Runner',
      minimalProps({ description: 'say "hi"', requiredTagKeys: ['ManagedBy'], environment: { A: 'a' } }),
    );
    const warnings = Annotations.fromStack(stack)
      .findWarning('*', Match.anyValue())
      .map((w) => String(w.entry.data));
    expect(warnings.filter((w) => /unescaped|requiredTagKeys/.test(w))).toEqual([]);
  });
});

test('addMonitoring(null) from a plain JavaScript caller is no options (F5)', () => {
  // GIVEN a runner WHEN monitoring is added with null THEN it is built with the defaults
  const stack = newStack();
  const runner = new EcsRunner(stack, 'Runner', minimalProps());
  runner.addMonitoring(null as any);
  Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 1);
});

test.each([
  [
    'StateBucket.create',
    () => ({ state: { bucket: StateBucket.create('days' as any) } }),
    'state.bucket: StateBucket.create(options)',
  ],
  [
    'RunnerNetwork.createVpc',
    () => ({ network: RunnerNetwork.createVpc(2 as any) }),
    'network: RunnerNetwork.createVpc(options)',
  ],
])('%s given something that is not an options object is refused, not ignored', (_, change, property) => {
  // GIVEN a plain JavaScript caller's value for the options WHEN the runner is built THEN the library error names the call
  const stack = newStack();
  const error = expectValidationError(() => new EcsRunner(stack, 'Runner', minimalProps(change())), property);
  expect(error.message).toMatch(/Options/);
  expect(resourcesUnder(stack, 'Runner')).toEqual([]);
});
