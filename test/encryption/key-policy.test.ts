/**
 * One rule for every log group the library encrypts with the runner's key (`encryption`: exec, registration,
 * monitoring events, VPC flow logs): a `kms.Key` of the stack gets a CloudWatch Logs statement that
 * covers exactly that log group; any other key gets a warning with the statement to add. Checked on
 * the template, for every encrypted log group found there (so a new one cannot be forgotten).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { EcsRunner, EcsRunnerProps, RunnerEncryption, RunnerNetwork } from 'platform-orchestrator-ecs-runner';
import { render } from '../support/cfn';

const ENV = { account: '123456789012', region: 'eu-central-1' };
const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const STACK_ID =
  'arn:aws:cloudformation:eu-central-1:123456789012:stack/TestStack/0f1e2d3c-aaaa-bbbb-cccc-123456789abc';

/** A runner that has every log group the library can encrypt. */
function everyLogGroup(stack: Stack, id: string, runnerId: string, key: kms.IKey, extra: Partial<EcsRunnerProps> = {}) {
  const runner = new EcsRunner(stack, id, {
    orgId: 'my-org',
    runnerId,
    encryption: RunnerEncryption.fromKey(key),
    registration: {
      apiTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        `${id}Token`,
        'arn:aws:secretsmanager:eu-central-1:123456789012:secret:po-token-AbCdEf',
      ),
    },
    ...extra,
  });
  runner.addMonitoring();
  return runner;
}

/** A CloudFormation value as deployed (sample account, region and stack id). */
function deployed(value: unknown, template: any): string {
  const withStackId = JSON.parse(JSON.stringify(value).split('{"Ref":"AWS::StackId"}').join(JSON.stringify(STACK_ID)));
  return render(withStackId, template);
}

const wildcard = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The encrypted log groups of a template, as deployed ARNs, with the key they use. */
function encryptedLogGroups(template: any): { id: string; arn: string; key: unknown }[] {
  return Object.entries(template.Resources as Record<string, any>)
    .filter(([, r]) => r.Type === 'AWS::Logs::LogGroup' && r.Properties.KmsKeyId !== undefined)
    .map(([id, r]) => ({
      id,
      arn: `arn:aws:logs:eu-central-1:123456789012:log-group:${deployed(r.Properties.LogGroupName, template)}`,
      key: r.Properties.KmsKeyId,
    }));
}

/** The CloudWatch Logs statements of a key policy, with their deployed ARN patterns. */
function logsStatements(statements: any[], template: any): { sid: string; pattern: string }[] {
  return statements
    .filter((s) => JSON.stringify(s.Principal ?? {}).includes('logs.eu-central-1.amazonaws.com'))
    .map((s) => {
      const condition = s.Condition.ArnLike ?? s.Condition.ArnEquals;
      return { sid: s.Sid, pattern: deployed(condition['kms:EncryptionContext:aws:logs:arn'], template) };
    });
}

describe('a key of the same stack', () => {
  test('gets a statement covering each log group it encrypts, with unique Sids for two runners', () => {
    // GIVEN two runners in one stack sharing one kms.Key, with every log group the library creates
    const stack = new Stack(new App(), 'TestStack', { env: ENV });
    const key = new kms.Key(stack, 'SharedKey');
    everyLogGroup(stack, 'A', 'runner-a', key, { network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']) });
    everyLogGroup(stack, 'B', 'runner-b', key, { network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']) });
    new EcsRunner(stack, 'WithVpc', {
      orgId: 'my-org',
      runnerId: 'runner-c',
      encryption: RunnerEncryption.fromKey(key),
    });

    // WHEN synthesized
    const template = Template.fromStack(stack).toJSON();
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    const statements = logsStatements(template.Resources[keyId].Properties.KeyPolicy.Statement, template);
    const groups = encryptedLogGroups(template);

    // THEN every encrypted log group (the stack's registration handler and framework, A's and B's
    // events, C's flow logs) uses the key and is covered by a statement; each statement covers only
    // log groups of one runner or stack
    expect(groups.length).toBe(5);
    for (const g of groups) {
      expect([g.id, g.key]).toEqual([g.id, { 'Fn::GetAtt': [keyId, 'Arn'] }]);
      const covering = statements.filter((s) => wildcard(s.pattern).test(g.arn));
      expect([g.id, g.arn, covering.length]).toEqual([g.id, g.arn, 1]);
    }
    expect(new Set(statements.map((s) => s.sid)).size).toBe(statements.length);
    for (const s of statements) expect(s.sid).toMatch(/^[A-Za-z0-9]+$/);
    // AND nothing asks the user to edit the key
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('key policy'))).toEqual([]);
  });
});

describe('an imported key', () => {
  test('gets no statement, and a warning prints each statement, readable, with a Sid unique across stacks', () => {
    // GIVEN one imported key used by runners in two stacks
    const app = new App();
    const warned: string[] = [];
    const stacks = ['StackOne', 'StackTwo'].map((name) => {
      const stack = new Stack(app, name, { env: ENV });
      const key = kms.Key.fromKeyArn(stack, 'Imported', KEY_ARN);
      everyLogGroup(stack, 'Runner', `runner-${name.toLowerCase()}`, key, {
        network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
      });
      return stack;
    });
    for (const stack of stacks) {
      // WHEN synthesized
      const template = Template.fromStack(stack).toJSON();
      const groups = encryptedLogGroups(template);
      const warnings = Annotations.fromStack(stack)
        .findWarning('*', Match.stringLikeRegexp('key policy of encryptionKey cannot be changed here'))
        .map((w) => String(w.entry.data));

      // THEN the log groups use the key
      for (const g of groups) expect(g.key).toBe(KEY_ARN);
      // AND each encrypted log group is covered by exactly one printed statement
      const printed = warnings
        .filter((w) => w.includes('kms:EncryptionContext:aws:logs:arn'))
        .map((w) => JSON.parse(w.slice(w.indexOf('{'), w.lastIndexOf('}') + 1)));
      for (const g of groups) {
        const covering = printed.filter((s) => {
          const arn = (s.Condition.ArnLike ?? s.Condition.ArnEquals)['kms:EncryptionContext:aws:logs:arn'];
          return wildcard(arn).test(g.arn);
        });
        expect([g.id, covering.length]).toEqual([g.id, 1]);
      }
      // AND the printed statements are what a key owner can paste: no CloudFormation functions
      for (const s of printed) {
        expect(JSON.stringify(s)).not.toMatch(/Fn::|"Ref"/);
        expect(s).toMatchObject({
          Effect: 'Allow',
          Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
          Resource: '*',
        });
        warned.push(s.Sid);
      }
    }
    expect(warned.length).toBe(4);
    expect(new Set(warned).size).toBe(warned.length);
  });
});
