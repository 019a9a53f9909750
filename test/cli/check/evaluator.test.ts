/**
 * The offline engine's IAM evaluator on hand cases, each with the answer AWS documents, and each
 * also put to `@cloud-copilot/iam-simulate`: the two must agree, so the evaluator is trusted on
 * the operators and policy combinations the runner's policies use.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import {
  EvaluationRequest,
  LocatedStatement,
  Statement,
  UndecidablePolicyError,
  evaluate,
} from '../../../src/cli/check/evaluator';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/job`;
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/job/session`;
const located = (kind: LocatedStatement['kind'], statements: Statement[]): LocatedStatement[] =>
  statements.map((statement, index) => ({ source: kind, kind, index, statement }));

interface Case {
  readonly name: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly identity: Statement[];
  readonly boundary?: Statement[];
  readonly resourcePolicy?: Statement[];
  readonly mode?: EvaluationRequest['resourcePolicyMode'];
  readonly expected: 'allowed' | 'denied';
}

const bucket = 'arn:aws:s3:::state';
const key = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const taskDef = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/humanitec_env_a:1`;
const cluster = `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/runner`;

const CASES: Case[] = [
  {
    name: 'wildcard resource and case-insensitive action',
    action: 'ecs:RunTask',
    resource: taskDef,
    identity: [{ Effect: 'Allow', Action: 'ECS:runtask', Resource: 'arn:aws:ecs:*:*:task-definition/humanitec_*' }],
    expected: 'allowed',
  },
  {
    name: 'ArnEquals on ecs:cluster, other cluster',
    action: 'ecs:RunTask',
    resource: taskDef,
    context: { 'ecs:cluster': `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/other` },
    identity: [
      { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': cluster } } },
    ],
    expected: 'denied',
  },
  {
    name: 'NumericLessThanEqualsIfExists with the key absent',
    action: 'ecs:RunTask',
    resource: taskDef,
    context: { 'ecs:cluster': cluster },
    identity: [
      {
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: '*',
        Condition: { NumericLessThanEqualsIfExists: { 'ecs:task-cpu': '2048' } },
      },
    ],
    expected: 'allowed',
  },
  {
    name: 'NumericLessThanEquals with the key absent',
    action: 'ecs:RunTask',
    resource: taskDef,
    context: { 'ecs:cluster': cluster },
    identity: [
      {
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: '*',
        Condition: { NumericLessThanEquals: { 'ecs:task-cpu': '2048' } },
      },
    ],
    expected: 'denied',
  },
  {
    name: 'NumericLessThanEqualsIfExists with a larger value',
    action: 'ecs:RunTask',
    resource: taskDef,
    context: { 'ecs:cluster': cluster, 'ecs:task-cpu': '16384' },
    identity: [
      {
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: '*',
        Condition: { NumericLessThanEqualsIfExists: { 'ecs:task-cpu': '2048' } },
      },
    ],
    expected: 'denied',
  },
  {
    name: 'StringNotEquals with the key absent matches (a deny applies)',
    action: 's3:PutObject',
    resource: `${bucket}/x`,
    identity: [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: 's3:PutObject',
        Resource: '*',
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
    ],
    expected: 'denied',
  },
  {
    name: 'ForAllValues:StringEquals on aws:TagKeys, one key not allowed',
    action: 'ecs:RegisterTaskDefinition',
    resource: taskDef,
    context: { 'aws:TagKeys': ['ManagedBy', 'Other'] },
    identity: [
      {
        Effect: 'Allow',
        Action: 'ecs:RegisterTaskDefinition',
        Resource: '*',
        Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['ManagedBy', 'PlatformOrchestratorOrgId'] } },
      },
    ],
    expected: 'denied',
  },
  {
    name: 'NotAction deny leaves other actions alone',
    action: 's3:GetObject',
    resource: `${bucket}/x`,
    identity: [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` },
      { Effect: 'Deny', NotAction: 's3:Get*', Resource: '*' },
    ],
    expected: 'allowed',
  },
  {
    name: 'permissions boundary without the action',
    action: 's3:GetObject',
    resource: `${bucket}/x`,
    identity: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    boundary: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }],
    expected: 'denied',
  },
  {
    name: 'bucket policy deny without TLS',
    action: 's3:PutObject',
    resource: `${bucket}/x`,
    context: { 'aws:SecureTransport': 'false' },
    identity: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucket}/*` }],
    resourcePolicy: [
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [bucket, `${bucket}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
    expected: 'denied',
  },
  {
    name: 'bucket policy ArnNotEquals aws:PrincipalArn spares the named role',
    action: 's3:GetObject',
    resource: `${bucket}/x`,
    context: { 'aws:PrincipalArn': ROLE },
    identity: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/*` }],
    resourcePolicy: [
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Resource: `${bucket}/*`,
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': ROLE } },
      },
    ],
    expected: 'allowed',
  },
  {
    name: 'key policy delegating to the account, identity with kms:ViaService',
    action: 'kms:Decrypt',
    resource: key,
    context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' },
    identity: [
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: key,
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      },
    ],
    resourcePolicy: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    ],
    mode: 'key',
    expected: 'allowed',
  },
  {
    name: 'key policy delegating to the account, used outside S3',
    action: 'kms:Decrypt',
    resource: key,
    identity: [
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: key,
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
      },
    ],
    resourcePolicy: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    ],
    mode: 'key',
    expected: 'denied',
  },
  {
    name: 'key policy without the account: identity alone does not grant',
    action: 'kms:Decrypt',
    resource: key,
    identity: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: key }],
    resourcePolicy: [{ Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:*', Resource: '*' }],
    mode: 'key',
    expected: 'denied',
  },
  {
    name: 'trust policy naming the role grants AssumeRole without an identity policy',
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${ACCOUNT}:role/task`,
    identity: [],
    resourcePolicy: [{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sts:AssumeRole' }],
    mode: 'trust',
    expected: 'allowed',
  },
  {
    name: 'trust policy naming the account needs an identity policy too',
    action: 'sts:AssumeRole',
    resource: `arn:aws:iam::${ACCOUNT}:role/task`,
    identity: [],
    resourcePolicy: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
    mode: 'trust',
    expected: 'denied',
  },
  {
    name: 'PassRole with iam:PassedToService for another service',
    action: 'iam:PassRole',
    resource: `arn:aws:iam::${ACCOUNT}:role/task`,
    context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    identity: [
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: `arn:aws:iam::${ACCOUNT}:role/task`,
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ],
    expected: 'denied',
  },
];

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const context = { 'aws:PrincipalArn': ROLE, ...(c.context ?? {}) };

  test(`the evaluator: ${c.expected}`, () => {
    const result = evaluate({
      principal: { type: 'AWS', id: ROLE, account: ACCOUNT },
      action: c.action,
      resource: c.resource,
      context,
      identity: located('identity', c.identity),
      boundary: c.boundary ? located('boundary', c.boundary) : undefined,
      resourcePolicy: c.resourcePolicy
        ? located(c.mode === 'key' ? 'key' : c.mode === 'trust' ? 'trust' : 'bucket', c.resourcePolicy)
        : undefined,
      resourcePolicyMode: c.mode,
    });
    expect(result.decision).toBe(c.expected);
    if (result.decision === 'denied') expect(result.reason).not.toBe('');
  });

  test(`iam-simulate: ${c.expected}`, async () => {
    const result = await runSimulation(
      {
        request: {
          principal: SESSION,
          action: c.action,
          resource: { resource: c.resource, accountId: ACCOUNT },
          contextVariables: context,
        },
        identityPolicies: [{ name: 'identity', policy: { Version: '2012-10-17', Statement: c.identity } }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: c.resourcePolicy ? { Version: '2012-10-17', Statement: c.resourcePolicy } : undefined,
        permissionBoundaryPolicies: c.boundary
          ? [{ name: 'boundary', policy: { Version: '2012-10-17', Statement: c.boundary } }]
          : undefined,
      },
      {},
    );
    expect(result.resultType).not.toBe('error');
    expect(result.resultType !== 'error' && result.overallResult === 'Allowed' ? 'allowed' : 'denied').toBe(c.expected);
  });
});

test('a denial names the nearest statement and the condition that fails', () => {
  const result = evaluate({
    principal: { type: 'AWS', id: ROLE, account: ACCOUNT },
    action: 'ecs:RunTask',
    resource: taskDef,
    context: { 'ecs:cluster': `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/other` },
    identity: located('identity', [
      {
        Sid: 'RunOnRunnerCluster',
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': cluster } },
      },
    ]),
  });
  expect(result.reason).toContain('Sid RunOnRunnerCluster');
  expect(result.reason).toContain('ArnEquals ecs:cluster');
  expect(result.reason).toContain('cluster/other');
});

/**
 * Resource-based policies as the live check (`check --stack`) puts them to the evaluator: a
 * bucket or key policy for a role's call (its identity policies are IAM's simulator's part) and a
 * trust policy for a web identity. These cases were the live check's own evaluator's tests.
 */
describe('resource policies alone (the live check)', () => {
  const RUNNER_ROLE = `arn:aws:iam::${ACCOUNT}:role/runner-task`;
  const OBJECT = 'arn:aws:s3:::state/env.tfstate';
  const byResourcePolicy = (
    statements: Statement[],
    context: Record<string, string | string[]> = {},
    options: { action?: string; account?: string; mode?: EvaluationRequest['resourcePolicyMode']; role?: string } = {},
  ) =>
    evaluate({
      principal: { type: 'AWS', id: options.role ?? RUNNER_ROLE, account: options.account ?? ACCOUNT },
      action: options.action ?? 's3:GetObject',
      resource: OBJECT,
      context,
      identity: [],
      resourcePolicy: located(options.mode === 'key' ? 'key' : 'bucket', statements),
      resourcePolicyMode: options.mode ?? 'either',
    });
  const deny = (extra: Partial<Statement>): Statement[] => [
    { Sid: 'S', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::state/*', ...extra },
  ];

  describe('condition operators', () => {
    test.each([
      // operator, policy value, context, holds
      ['StringEquals', 'a', { k: 'a' }, true],
      ['StringEquals', 'a', { k: 'A' }, false],
      ['StringEquals', 'a', {}, false], // a missing key does not match
      ['StringEqualsIgnoreCase', 'a', { k: 'A' }, true],
      ['StringLike', 'org+*', { k: 'org+runner' }, true],
      ['StringLike', 'org+?', { k: 'org+ab' }, false],
      ['StringNotEquals', 'a', { k: 'b' }, true],
      ['StringNotEquals', 'a', {}, true], // negated operators hold for a missing key
      ['StringNotEquals', 'a', { k: 'a' }, false],
      ['ArnNotEquals', RUNNER_ROLE, { k: RUNNER_ROLE }, false],
      ['ArnLike', 'arn:aws:iam::*:role/runner-*', { k: RUNNER_ROLE }, true],
      ['StringEqualsIfExists', 'a', {}, true],
      ['StringEqualsIfExists', 'a', { k: 'b' }, false],
      ['Bool', 'false', { k: 'true' }, false],
      ['Bool', 'true', { k: 'TRUE' }, true],
      ['Null', 'true', {}, true],
      ['Null', 'true', { k: 'x' }, false],
      ['ForAnyValue:StringEquals', ['a', 'b'], { k: ['c', 'b'] }, true],
      ['ForAllValues:StringEquals', ['a', 'b'], { k: ['a', 'c'] }, false],
      ['ForAllValues:StringEquals', ['a', 'b'], {}, true],
      ['ForAllValues:StringNotEquals', ['a'], { k: ['b', 'c'] }, true],
      ['ForAllValues:StringNotEquals', ['a'], { k: ['a', 'c'] }, false],
      ['ForAnyValue:StringNotEquals', ['a'], { k: ['a', 'c'] }, true],
      ['StringNotEquals', ['a', 'b'], { k: ['c', 'b'] }, false],
    ])('%s %j with %j: %s', (op, value, context, holds) => {
      const d = byResourcePolicy(deny({ Condition: { [op]: { k: value } } }), context as Record<string, string>);
      expect(d.deniedBy !== undefined).toBe(holds);
      expect(d.allowedBy).toEqual([]);
    });

    test('condition keys are case-insensitive, values are not', () => {
      const policy = deny({ Condition: { StringEquals: { 'AWS:PrincipalArn': RUNNER_ROLE } } });
      expect(byResourcePolicy(policy, { 'aws:principalarn': RUNNER_ROLE }).deniedBy).toBeDefined();
      expect(byResourcePolicy(policy, { 'aws:principalarn': RUNNER_ROLE.toUpperCase() }).deniedBy).toBeUndefined();
    });
  });

  describe('statements', () => {
    const accountAndTls: Statement[] = [
      {
        Sid: 'Account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 's3:GetObject',
        Resource: '*',
      },
      {
        Sid: 'Tls',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ];

    test('a deny wins over an allow; an allow through the account principal delegates to IAM policies', () => {
      const allowed = byResourcePolicy(accountAndTls, { 'aws:SecureTransport': 'true' }, { mode: 'key' });
      expect(allowed.deniedBy).toBeUndefined();
      expect(allowed.allowedBy).toEqual([]);
      expect(allowed.delegatedBy?.map((s) => s.statement.Sid)).toEqual(['Account']);
      expect(
        byResourcePolicy(accountAndTls, { 'aws:SecureTransport': 'false' }, { mode: 'key' }).deniedBy?.statement.Sid,
      ).toBe('Tls');
      // Another account's root does not name the caller.
      const other = byResourcePolicy(
        accountAndTls,
        { 'aws:SecureTransport': 'true' },
        { mode: 'key', account: '210987654321' },
      );
      expect(other.deniedBy).toBeUndefined();
      expect(other.delegatedBy).toBeUndefined();
      expect(other.allowedBy).toEqual([]);
    });

    test('a key policy naming the role allows it by itself, not through delegation', () => {
      const d = byResourcePolicy(
        [{ Sid: 'Role', Effect: 'Allow', Principal: { AWS: RUNNER_ROLE }, Action: 's3:GetObject', Resource: '*' }],
        {},
        { mode: 'key' },
      );
      expect(d.decision).toBe('allowed');
      expect(d.delegatedBy).toBeUndefined();
      expect(d.allowedBy.map((s) => s.statement.Sid)).toEqual(['Role']);
    });

    test('actions match case-insensitively with wildcards; resources must match', () => {
      expect(byResourcePolicy(deny({}), {}, { action: 'S3:PutObject' }).deniedBy).toBeDefined();
      expect(byResourcePolicy(deny({ Resource: 'arn:aws:s3:::other/*' })).deniedBy).toBeUndefined();
    });

    test('a web identity matches only its Federated provider', () => {
      const trust = located('trust', [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example` },
          Action: 'sts:AssumeRoleWithWebIdentity',
        },
      ]);
      const web = (id: string) =>
        evaluate({
          action: 'sts:AssumeRoleWithWebIdentity',
          resource: RUNNER_ROLE,
          principal: { type: 'Federated', id },
          context: {},
          identity: [],
          resourcePolicy: trust,
          resourcePolicyMode: 'only',
        }).decision;
      expect(web(`arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example`)).toBe('allowed');
      expect(web(`arn:aws:iam::${ACCOUNT}:oidc-provider/other.example`)).toBe('denied');
    });

    test('NotPrincipal and Numeric conditions are decided', () => {
      const notRole = [{ Effect: 'Deny', NotPrincipal: { AWS: RUNNER_ROLE }, Action: '*', Resource: '*' }];
      expect(byResourcePolicy(notRole).deniedBy).toBeUndefined();
      expect(byResourcePolicy(notRole, {}, { role: `arn:aws:iam::${ACCOUNT}:role/other` }).deniedBy).toBeDefined();
      const fewKeys = deny({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } });
      expect(byResourcePolicy(fewKeys, { 's3:max-keys': '5' }).deniedBy).toBeDefined();
      expect(byResourcePolicy(fewKeys, { 's3:max-keys': '50' }).deniedBy).toBeUndefined();
      expect(byResourcePolicy(fewKeys, {}).deniedBy).toBeUndefined();
    });

    test('what it does not evaluate is undecidable, not guessed', () => {
      // GIVEN a deny whose operator the evaluator does not know
      const unknown = deny({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
      // THEN the decision is refused, naming the statement and the operator
      expect(() => byResourcePolicy(unknown, { 'aws:SourceIp': '10.1.2.3' })).toThrow(UndecidablePolicyError);
      expect(() => byResourcePolicy(unknown)).toThrow(
        /bucket policy bucket statement 1 \(Sid S\): condition operator IpAddress is not evaluated/,
      );
      expect(() =>
        byResourcePolicy(deny({ Condition: { 'ForEveryValue:StringEquals': { k: 'a' } } }), { k: 'a' }),
      ).toThrow(UndecidablePolicyError);
      // but a statement that a known condition already rules out is decided
      const ruledOut = deny({
        Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Bool: { 'aws:SecureTransport': 'false' } },
      });
      expect(byResourcePolicy(ruledOut, { 'aws:SecureTransport': 'true' }).deniedBy).toBeUndefined();
    });
  });
});
