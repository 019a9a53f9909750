import { Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { pseudoParameters, readable } from '../encryption/key-policy';
import { EcsRunnerValidationError } from '../errors';
import * as v from '../validation';

const ACCEPTED =
  'an ecs.Secret of a whole Secrets Manager secret known by its complete ARN (with the 6-character suffix: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretCompleteArn(...)), or a secret of this app) or of an SSM parameter (ecs.Secret.fromSsmParameter(...))';

/**
 * Job secrets, as ECS users write them (`ecs.Secret`), checked against what the orchestrator's API
 * accepts for `job.secrets`: a Secrets Manager secret ARN with its 6-character suffix, or an SSM
 * parameter ARN (`^arn:aws:((secretsmanager:...:secret:<name>-AbCdEf)|(ssm:...:parameter/...))$`).
 *
 * - A secret known only by name (`Secret.fromSecretNameV2`, `fromSecretName`) has no suffix: its ARN
 *   is partial, which ECS could resolve but the API refuses at registration.
 * - A JSON field or version selection (`fromSecretsManager(secret, 'field')`, `fromSecretsManagerVersion`)
 *   makes `valueFrom` `<arn>:<field>:<stage>:<version>`, which the API's pattern refuses too.
 *
 * An ARN that is a CloudFormation reference (a secret or parameter of this app) is checked once the
 * pseudo parameters are filled in, when nothing else in it is a reference.
 */
export function checkJobSecrets(stack: Stack, secrets: Record<string, ecs.Secret> | undefined): void {
  if (secrets === undefined) return;
  if (Token.isUnresolved(secrets)) {
    throw new EcsRunnerValidationError(
      'secrets',
      'a token',
      `an object with concrete variable names: the registration body lists each secret, and the execution role is granted each one. Each value is ${ACCEPTED}`,
    );
  }
  for (const [name, secret] of Object.entries(secrets)) {
    v.checkPattern(
      'secrets key',
      name,
      v.ENV_NAME_PATTERN,
      'a variable name of letters, digits and "_" that does not start with a digit',
    );
    v.checkJobVariableName('secrets', name, true);
    if (secret === null || typeof secret !== 'object' || typeof (secret as ecs.Secret).arn !== 'string') {
      throw new EcsRunnerValidationError(`secrets.${name}`, secret, ACCEPTED);
    }
    if (secret.hasField === true) {
      throw new EcsRunnerValidationError(
        `secrets.${name}`,
        shown(stack, secret.arn),
        `a whole secret: the orchestrator API accepts no JSON field, version stage or version id in a job secret's ARN (store the value in a secret of its own, or read the JSON in the job). ${ACCEPTED}`,
      );
    }
    const arn = concreteShape(stack, secret.arn);
    if (arn === undefined) continue;
    if (/^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+$/.test(arn) && !v.SECRET_ARN_PATTERN.test(arn)) {
      throw new EcsRunnerValidationError(
        `secrets.${name}`,
        shown(stack, secret.arn),
        `a secret known by its complete ARN, with the 6-character suffix the API requires: a secret known only by its name (Secret.fromSecretNameV2) has none; use secretsmanager.Secret.fromSecretCompleteArn(scope, id, 'arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf')`,
      );
    }
    v.checkPattern(`secrets.${name}`, arn, v.SECRET_ARN_PATTERN, ACCEPTED);
  }
}

/**
 * The ARN's text with the stack's pseudo parameters, or sample ones, filled in, to check its shape;
 * undefined when another reference (a resource of the app) is part of it.
 */
function concreteShape(stack: Stack, arn: string): string | undefined {
  if (!Token.isUnresolved(arn)) return arn;
  const resolved = stack.resolve(arn);
  // A token that resolves to a plain value (Lazy) is the caller's: unresolved tokens pass unchecked.
  if (typeof resolved !== 'object' || resolved === null) return undefined;
  const samples = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-central-1', 'AWS::AccountId': '123456789012' };
  const text = readable(resolved, { ...samples, ...pseudoParameters(stack) });
  return typeof text === 'string' && !text.includes('${') ? text : undefined;
}

function shown(stack: Stack, arn: string): unknown {
  return Token.isUnresolved(arn) ? readable(stack.resolve(arn), pseudoParameters(stack)) : arn;
}

/** The `job.secrets` of the registration body: variable name to `valueFrom`. */
export function jobSecretArns(secrets: Record<string, ecs.Secret>): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).map(([name, secret]) => [name, secret.arn]));
}

/**
 * Lets the execution role read the job secrets as ECS does for its own task definitions:
 * `secret.grantRead(role)`, which includes the secret's KMS key when the secret knows it.
 *
 * `ssm.StringParameter.grantRead` also grants `ssm:DescribeParameters`, which has no resource type
 * in the IAM service authorization reference: on a parameter ARN it never applies, so it is left
 * out rather than written as a statement that grants nothing.
 */
export function grantJobSecrets(secrets: Record<string, ecs.Secret>, executionRole: iam.IRole): void {
  const grantee = new ActionFilteringPrincipal(executionRole, NO_RESOURCE_TYPE_ACTIONS);
  for (const secret of Object.values(secrets)) secret.grantRead(grantee);
}

/** Actions a `grantRead` adds on a resource ARN that the reference gives no resource type. */
const NO_RESOURCE_TYPE_ACTIONS: ReadonlySet<string> = new Set(['ssm:DescribeParameters']);

/** The role, as a grantee whose identity-policy statements lose the given actions. */
class ActionFilteringPrincipal implements iam.IPrincipal {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;

  constructor(
    private readonly role: iam.IRole,
    private readonly dropped: ReadonlySet<string>,
  ) {
    this.assumeRoleAction = role.assumeRoleAction;
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.role.policyFragment;
  }

  public get principalAccount(): string | undefined {
    return this.role.principalAccount;
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const actions = statement.actions.filter((a) => !this.dropped.has(a));
    if (actions.length === statement.actions.length) return this.role.addToPrincipalPolicy(statement);
    return this.role.addToPrincipalPolicy(statement.copy({ actions }));
  }
}
