/**
 * The live check's evaluator for the policies IAM's simulator cannot take from a role (trust
 * policies of web identities, bucket and key policies): IAM's documented semantics for the
 * operators the runner's policies use, and "undecidable" for anything else.
 */
import { UndecidablePolicyError, evaluatePolicy } from '../../../src/cli/check/live/policy';

const ROLE = 'arn:aws:iam::123456789012:role/runner-task';
const request = (context: Record<string, string | string[]> = {}, action = 's3:GetObject') => ({
  action,
  resource: 'arn:aws:s3:::state/env.tfstate',
  principal: { type: 'AWS' as const, id: ROLE },
  context,
});
const statement = (extra: Record<string, unknown>) => ({
  Statement: [{ Sid: 'S', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::state/*', ...extra }],
});

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
    ['ArnNotEquals', ROLE, { k: ROLE }, false],
    ['ArnLike', 'arn:aws:iam::*:role/runner-*', { k: ROLE }, true],
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
    const d = evaluatePolicy(
      statement({ Condition: { [op]: { k: value } } }),
      request(context as Record<string, string>),
    );
    expect(d.effect).toBe(holds ? 'deny' : 'none');
  });

  test('condition keys are case-insensitive, values are not', () => {
    const policy = statement({ Condition: { StringEquals: { 'AWS:PrincipalArn': ROLE } } });
    expect(evaluatePolicy(policy, request({ 'aws:principalarn': ROLE })).effect).toBe('deny');
    expect(evaluatePolicy(policy, request({ 'aws:principalarn': ROLE.toUpperCase() })).effect).toBe('none');
  });
});

describe('statements', () => {
  test('a deny wins over an allow; an allow through the account principal is marked', () => {
    const policy = {
      Statement: [
        {
          Sid: 'Account',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:root' },
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
      ],
    };
    expect(evaluatePolicy(policy, request({ 'aws:SecureTransport': 'true' }), '123456789012')).toEqual({
      effect: 'allow',
      statement: 'Account',
      viaAccount: true,
    });
    expect(evaluatePolicy(policy, request({ 'aws:SecureTransport': 'false' }), '123456789012').effect).toBe('deny');
    // Another account's root does not name the caller.
    expect(evaluatePolicy(policy, request({ 'aws:SecureTransport': 'true' }), '210987654321').effect).toBe('none');
  });

  test('actions match case-insensitively with wildcards; resources must match', () => {
    expect(evaluatePolicy(statement({}), request({}, 'S3:PutObject')).effect).toBe('deny');
    expect(evaluatePolicy(statement({ Resource: 'arn:aws:s3:::other/*' }), request()).effect).toBe('none');
  });

  test('a web identity matches only its Federated provider', () => {
    const trust = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.example' },
          Action: 'sts:AssumeRoleWithWebIdentity',
        },
      ],
    };
    const web = (id: string) => ({
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: ROLE,
      principal: { type: 'Federated' as const, id },
      context: {},
    });
    expect(evaluatePolicy(trust, web('arn:aws:iam::123456789012:oidc-provider/oidc.example')).effect).toBe('allow');
    expect(evaluatePolicy(trust, web('arn:aws:iam::123456789012:oidc-provider/other.example')).effect).toBe('none');
  });

  test('what it does not evaluate is undecidable, not guessed', () => {
    expect(() =>
      evaluatePolicy(statement({ Condition: { NumericLessThan: { 's3:max-keys': '10' } } }), request()),
    ).toThrow(UndecidablePolicyError);
    expect(() =>
      evaluatePolicy(
        { Statement: [{ Effect: 'Deny', NotPrincipal: { AWS: ROLE }, Action: '*', Resource: '*' }] },
        request(),
      ),
    ).toThrow(/NotPrincipal is not evaluated/);
  });
});
