import { createHash } from 'crypto';
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The actions CloudWatch Logs needs on the key of an encrypted log group. */
export const LOGS_KEY_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  // Not `kms:Describe*` (AWS's sample policy has it): DescribeKey carries no encryption context,
  // so under the statement's `kms:EncryptionContext:aws:logs:arn` condition it is never granted.
];

/** What {@link allowLogsToUseKey} needs to know about the log groups a key encrypts. */
export interface LogGroupKeyUse {
  /** The key that encrypts the log groups. */
  readonly key: kms.IKey;
  /**
   * ARN of the log group, or an ARN pattern (with `*`) of the log groups, without `:*`. It is the
   * key policy's condition on the `aws:logs:arn` encryption context.
   */
  readonly logGroupArn: string;
  /** The beginning of the statement's Sid, letters and digits, e.g. `CloudWatchLogsForRunnerLogs`. */
  readonly sidPrefix: string;
  /** The property the key came from, for the warning (e.g. `encryptionKey`). */
  readonly property: string;
  /** What the log groups are, for the warning (e.g. `the runner's log groups`). */
  readonly what: string;
  /** The id of the warning, after `platform-orchestrator-ecs-runner:`. */
  readonly warningId: string;
}

/**
 * The one rule for every log group the library encrypts with a key it may not own: CloudWatch Logs
 * must be allowed to use the key for exactly those log groups (encryption-context condition), or it
 * refuses to create them.
 *
 * - A `kms.Key` of the same stack gets the statement in its key policy.
 * - Any other key (imported with `fromKeyArn`/`fromLookup`, or a key of another stack, whose policy
 *   this stack cannot change without a cross-stack cycle) gets a synth warning on `scope` that
 *   prints the exact statement its owner must add.
 *
 * The Sid is the prefix and a hash of the stack name and the log group ARN, so runners (and stacks)
 * sharing one key never add two statements with one Sid.
 *
 * @returns the statement, whether it was added or only printed
 */
export function allowLogsToUseKey(scope: Construct, use: LogGroupKeyUse): iam.PolicyStatement {
  const stack = Stack.of(scope);
  const pattern = Token.isUnresolved(use.logGroupArn) ? stack.resolve(use.logGroupArn) : use.logGroupArn;
  const hash = createHash('sha256')
    .update(`${stack.stackName}\n${JSON.stringify(pattern)}`)
    .digest('hex')
    .slice(0, 8)
    .toUpperCase();
  const statement = new iam.PolicyStatement({
    sid: `${use.sidPrefix}${hash}`,
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: LOGS_KEY_ACTIONS,
    // In a key policy, "*" is the key itself.
    resources: ['*'],
    conditions: {
      [use.logGroupArn.includes('*') ? 'ArnLike' : 'ArnEquals']: {
        'kms:EncryptionContext:aws:logs:arn': use.logGroupArn,
      },
    },
  });
  if (addToKeyPolicy(scope, use.key, [statement]).length > 0) {
    // What the key's owner adds before the stack exists: the stack's UUID in a log group name is
    // not known yet, so it is a wildcard there.
    const arn = String(readable(stack.resolve(use.logGroupArn), pseudoParameters(stack)));
    const printed = {
      ...(stack.resolve(statement.toStatementJson()) as Record<string, unknown>),
      Condition: { [arn.includes('*') ? 'ArnLike' : 'ArnEquals']: { 'kms:EncryptionContext:aws:logs:arn': arn } },
    };
    Annotations.of(scope).addWarningV2(
      `platform-orchestrator-ecs-runner:${use.warningId}`,
      `The key policy of ${use.property} cannot be changed here (an imported key, or a key of another stack): its owner must add this statement, or CloudWatch Logs refuses to create ${use.what}: ${JSON.stringify(printed)}`,
    );
  }
  return statement;
}

/**
 * The one rule for every statement the library puts on a key's policy: a `kms.Key` of the stack
 * of `scope` gets them; any other key (imported with `fromKeyArn`/`fromLookup`, or a key of another
 * stack, whose policy this stack cannot change without a cross-stack cycle) gets none.
 *
 * @returns the statements that were not added, for the caller's warning that prints them
 */
export function addToKeyPolicy(
  scope: Construct,
  key: kms.IKey,
  statements: iam.PolicyStatement[],
): iam.PolicyStatement[] {
  const sameStack = key instanceof kms.Key && Stack.of(key) === Stack.of(scope);
  return sameStack ? statements.filter((s) => !key.addToResourcePolicy(s, true).statementAdded) : statements;
}

/** The pseudo parameters known at synth: the stack's account and region, and the region's partition. */
export function pseudoParameters(stack: Stack): Record<string, string> {
  const known: Record<string, string> = {};
  if (!Token.isUnresolved(stack.account)) known['AWS::AccountId'] = stack.account;
  if (!Token.isUnresolved(stack.region)) {
    known['AWS::Region'] = stack.region;
    known['AWS::Partition'] = stack.region.startsWith('cn-')
      ? 'aws-cn'
      : stack.region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws';
  }
  return known;
}

/**
 * A resolved CloudFormation value as the text a key owner can paste: joins concatenated, known
 * pseudo parameters filled in, the stack's UUID (unknown before the stack exists) as `*`, and what
 * only CloudFormation knows shown as `${Pseudo}` (e.g. `${AWS::AccountId}`) or `${Resource.Attr}`.
 */
export function readable(value: unknown, known: Record<string, string> = {}): unknown {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x === null || typeof x !== 'object') return x;
    const obj = x as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const v = obj[k];
      if (k === 'Fn::Join' && Array.isArray(v)) return (v[1] as unknown[]).map((p) => String(walk(p))).join(v[0]);
      if (k === 'Ref') return known[String(v)] ?? `\${${v}}`;
      if (k === 'Fn::GetAtt' && Array.isArray(v)) return `\${${v.join('.')}}`;
      if (k === 'Fn::Select' && JSON.stringify(v).includes('AWS::StackId')) return '*';
      if (k.startsWith('Fn::')) return `\${${JSON.stringify(v)}}`;
    }
    return Object.fromEntries(keys.map((k) => [k, walk(obj[k])]));
  };
  return walk(value);
}
