import { CfnResource, TagManager, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { EcsRunnerValidationError } from './errors';

/*
 * Synth-time validation of user input. Every check passes unresolved tokens through:
 * their value is only known at deploy time. Patterns marked "API" are copied from the
 * orchestrator's OpenAPI description; the others are AWS's documented limits.
 */

/** API: RunnerCreateBody.id */
export const RUNNER_ID_PATTERN = /^[a-z][a-z0-9_-]+$/;
/** API: ServerlessEcsRunnerJob.region and AwsTemporaryAuth.sts_region */
export const REGION_PATTERN = /^[a-z]{2}-[a-z]+-\d$/;
/** API: S3StorageConfiguration.bucket */
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
/** API: S3StorageConfiguration.path_prefix */
export const PATH_PREFIX_PATTERN = /^[a-zA-Z0-9._-]+(?:\/[a-zA-Z0-9._-]+)*\/?$/;
/** API: ServerlessEcsRunnerJob.image */
export const IMAGE_PATTERN = /^[a-zA-Z0-9._:/-]+(?:@[a-z0-9]+:[a-fA-F0-9]+)?$/;
/** API: ServerlessEcsRunnerJob.secrets values */
export const SECRET_ARN_PATTERN =
  /^arn:aws:((secretsmanager:[^:]+:[^:]+:secret:[^:]+-[a-zA-Z0-9]{6})|(ssm:[^:]+:[^:]+:parameter\/.+))$/;
/** Humanitec organization ids: lowercase letters, digits and dashes. */
export const ORG_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An OIDC issuer: a host name with an optional path, without scheme. */
export const ISSUER_PATTERN =
  /^(?=.{1,253}(?:\/|$))[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+(?::\d{1,5})?(?:\/[A-Za-z0-9._~-]+)*$/;
export const OIDC_PROVIDER_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/(.+)$/;
export const SUBNET_ID_PATTERN = /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
export const SECURITY_GROUP_ID_PATTERN = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** ECS task definition family: up to 255 letters, numbers, hyphens and underscores. */
export const FAMILY_PREFIX_PATTERN = /^[a-zA-Z0-9_-]{1,200}$/;
/** POSIX-ish environment variable names, as ECS and Terraform accept them. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** STS RoleSessionName, intersected with the API's 3 to 64 characters. */
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{3,64}$/;
/** AWS tag keys and values: letters, digits, spaces and + - = . _ : / @ */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const ENV_VALUE_MAX = 1024;

/** True when the value is (or contains) a CDK token that is only known at deploy time. */
export function unresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}

export function checkPattern(property: string, value: string | undefined, pattern: RegExp, accepted: string): void {
  if (value === undefined || unresolved(value)) return;
  if (!pattern.test(value)) {
    throw new EcsRunnerValidationError(property, value, accepted);
  }
}

export function checkLength(property: string, value: string | undefined, min: number, max: number): void {
  if (value === undefined || unresolved(value)) return;
  if (value.length < min || value.length > max) {
    throw new EcsRunnerValidationError(property, value, `${min} to ${max} characters`);
  }
}

export function checkCount(property: string, items: readonly unknown[] | undefined, min: number, max: number): void {
  if (items === undefined || unresolved(items)) return;
  if (items.length < min || items.length > max) {
    throw new EcsRunnerValidationError(property, items, `${min} to ${max} item(s)`);
  }
}

export function checkIntegerRange(property: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || unresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EcsRunnerValidationError(property, value, `a whole number from ${min} to ${max}`);
  }
}

export function checkOneOf<T>(property: string, value: T | undefined, allowed: readonly T[]): void {
  if (value === undefined || unresolved(value)) return;
  if (!allowed.includes(value)) {
    throw new EcsRunnerValidationError(property, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
}

/** A log group retention: one of `logs.RetentionDays`, and finite (the library's log groups expire). */
export function checkLogRetention(property: string, value: logs.RetentionDays | undefined): void {
  const finite = Object.values(logs.RetentionDays).filter(
    (d): d is logs.RetentionDays => typeof d === 'number' && d !== logs.RetentionDays.INFINITE,
  );
  if (value !== undefined && !Token.isUnresolved(value) && !finite.includes(value)) {
    throw new EcsRunnerValidationError(property, value, 'a finite retention from 1 to 3653 days (logs.RetentionDays)');
  }
}

export function checkTags(property: string, tags: Record<string, string> | undefined): void {
  if (tags === undefined) return;
  if (unresolved(tags)) {
    throw new EcsRunnerValidationError(
      property,
      'a token',
      'an object with concrete keys (values may be tokens): each tag is applied with Tags.of() at synth time',
    );
  }
  const keys = Object.keys(tags);
  const seenKeys = new Map<string, string>();
  for (const key of keys) {
    if (unresolved(key)) continue;
    const folded = key.toLowerCase();
    const other = seenKeys.get(folded);
    if (other !== undefined) {
      throw new EcsRunnerValidationError(
        `${property} key`,
        key,
        `a key that differs from "${other}" in more than case: IAM treats tag keys case-insensitively and refuses both on a role`,
      );
    }
    seenKeys.set(folded, key);
  }
  if (keys.length > 40) {
    throw new EcsRunnerValidationError(
      property,
      keys,
      'at most 40 tags (AWS allows 50 per resource; 10 are left for the library and CloudFormation)',
    );
  }
  for (const key of keys) {
    const value = tags[key];
    if (!unresolved(key)) {
      if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) {
        throw new EcsRunnerValidationError(
          `${property} key`,
          key,
          '1 to 128 characters of letters, digits, spaces and + - = . _ : / @',
        );
      }
      if (key.toLowerCase().startsWith('aws:')) {
        throw new EcsRunnerValidationError(
          `${property} key`,
          key,
          'a key that does not start with the reserved prefix "aws:"',
        );
      }
    }
    if (typeof value !== 'string') {
      throw new EcsRunnerValidationError(`${property}.${key}`, value, 'a string');
    }
    // An empty value is legal on the runner's own resources; not on the monitoring's alarms,
    // which RunnerMonitoring checks once the tags are applied (emptyTagValueErrors).
    if (!unresolved(value) && (value.length > 256 || !TAG_CHARS.test(value))) {
      throw new EcsRunnerValidationError(
        `${property}.${key}`,
        value,
        '0 to 256 characters of letters, digits, spaces and + - = . _ : / @',
      );
    }
  }
}

/**
 * Resource types the library creates whose CloudFormation resource schema requires a tag value of
 * at least one character (`Tags[].Value` has `"minLength": 1`); CloudFormation validates a
 * resource's properties against its schema when the stack is deployed, so an empty value fails
 * the deployment there. For every other type the library creates an empty value is legal.
 *
 * Evidence: the resource schemas aws-cdk-lib validates templates with, offline (aws-cdk-lib
 * 2.276.0 bundles `@aws/cloudformation-validate` 1.14.0 and its 1,899 schemas): its
 * `SchemaValidator` reports `F3033 length 0 is below minimum 1` at `Properties.Tags.N.Value` for a
 * tag `{ Key: 'Team', Value: '' }` on these two types (and on `AWS::IAM::OIDCProvider`, which no
 * runner's or monitoring's `tags` reach: it is a stack singleton) and nothing for
 * AWS::SNS::Topic, AWS::Logs::LogGroup, AWS::Events::Rule, AWS::KMS::Key, AWS::IAM::Role,
 * AWS::S3::Bucket, AWS::ECS::Cluster, AWS::ECS::TaskDefinition, AWS::EC2::SecurityGroup,
 * AWS::SecretsManager::Secret or AWS::SSM::Parameter. The CloudFormation template reference says
 * the same ("AWS::CloudWatch::Alarm Tag" and "AWS::CloudWatch::Dashboard Tag": Value, Minimum 1;
 * "AWS::SNS::Topic Tag", "AWS::Events::Rule Tag", the AWS::Logs::LogGroup schema: Minimum 0),
 * though CloudWatch's own TagResource API accepts an empty value (Minimum length of 0).
 */
export const TAG_VALUE_REQUIRED_TYPES: readonly string[] = ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard'];

/**
 * The errors, one per tag key, for the resources among `constructs` whose type needs a non-empty
 * tag value ({@link TAG_VALUE_REQUIRED_TYPES}) and that carry an empty one. For a validation
 * (`node.addValidation`): tags are aspects, so the final tags of a resource, from `tags`,
 * `Tags.of()` anywhere above it or the resource itself, are only known when the app is
 * synthesized. Tokens pass.
 */
export function emptyTagValueErrors(constructs: readonly IConstruct[]): string[] {
  const firstResourceOf = new Map<string, CfnResource>();
  for (const c of constructs) {
    if (!CfnResource.isCfnResource(c) || !TAG_VALUE_REQUIRED_TYPES.includes(c.cfnResourceType)) continue;
    for (const [key, value] of Object.entries(TagManager.of(c)?.tagValues() ?? {})) {
      if (value === '' && !firstResourceOf.has(key)) firstResourceOf.set(key, c);
    }
  }
  return [...firstResourceOf.entries()].map(
    ([key, resource]) =>
      new EcsRunnerValidationError(
        `tags.${key}`,
        '',
        `a tag value of 1 to 256 characters on ${resource.node.path} (${resource.cfnResourceType}): CloudFormation refuses an empty tag value there (its resource schema's Tags[].Value has minLength 1). Give the tag a value, or keep it off that resource type (e.g. Tags.of(scope).add(key, value, { excludeResourceTypes: ['${resource.cfnResourceType}'] }))`,
      ).message,
  );
}

/** A runner id as the API accepts it (and short enough for names derived from it). */
export function checkRunnerId(property: string, value: string | undefined): void {
  checkPattern(property, value, RUNNER_ID_PATTERN, 'the API pattern ^[a-z][a-z0-9_-]+$, e.g. "prod-runner"');
  checkLength(property, value, 2, 63);
}

/** An orchestrator organization id. */
export function checkOrgId(property: string, value: string | undefined): void {
  checkPattern(
    property,
    value,
    ORG_ID_PATTERN,
    'lowercase letters, digits and dashes, 1 to 63 characters, e.g. "my-org"',
  );
}

/**
 * An IAM path for roles and policies. Narrower than IAM's own rule (printable ASCII): the
 * orchestrator API's role ARN patterns allow only `[a-zA-Z0-9+=,.@_/-]` after `role/`.
 */
export function checkRolePath(property: string, value: string | undefined): void {
  checkPattern(
    property,
    value,
    /^\/(?:[A-Za-z0-9+=,.@_/-]+\/)?$/,
    'a path that starts and ends with "/" of letters, digits and +=,.@_-/ (the orchestrator API\'s role ARN pattern), e.g. "/platform/runners/" (1 to 512 characters)',
  );
  checkLength(property, value, 1, 512);
}

/** Job environment variable names the orchestrator API refuses (reserved for the orchestrator). */
export const API_RESERVED_VARIABLES: readonly string[] = [
  'ORG_ID',
  'DEPLOYMENT_ID',
  'MODE',
  'TOKEN',
  'ENCRYPTING_KEY',
  'PLATFORM_ORCHESTRATOR_BASE_URL',
];
/** The variable the API accepts only as a secret. */
export const SECRET_ONLY_VARIABLE = 'RUNNER_GIT_SSH_KEYS';
/**
 * Variables the orchestrator's ECS driver sets in every job's task definition, before the job's
 * own environment, but which the API does not refuse: a job variable of the same name would
 * be a second definition of it in the container, and either one would silently lose.
 */
export const ORCHESTRATOR_SET_VARIABLES: readonly string[] = [
  'RUNNER_ID',
  'DEPLOYMENT_ENV_UUID',
  'ENCRYPTING_LOGS_KEY',
  'LOG_LEVEL',
  'RUNNER_GATEWAY_URL',
  'METADATA_KEY',
];

/**
 * A job variable name (of `environment` or `secrets`) that neither the API refuses nor collides
 * with a variable the orchestrator sets itself.
 */
export function checkJobVariableName(property: 'environment' | 'secrets', name: string, isSecret: boolean): void {
  if (unresolved(name)) return;
  if (API_RESERVED_VARIABLES.includes(name)) {
    throw new EcsRunnerValidationError(
      `${property} key`,
      name,
      `a name the orchestrator API does not reserve (not ${API_RESERVED_VARIABLES.join(', ')}): the API refuses the runner`,
    );
  }
  if (ORCHESTRATOR_SET_VARIABLES.includes(name)) {
    throw new EcsRunnerValidationError(
      `${property} key`,
      name,
      `a name the orchestrator does not set itself (not ${ORCHESTRATOR_SET_VARIABLES.join(', ')}): the job would get two definitions of it`,
    );
  }
  if (name === SECRET_ONLY_VARIABLE && !isSecret) {
    throw new EcsRunnerValidationError(
      `${property} key`,
      name,
      `${SECRET_ONLY_VARIABLE} in secrets (a Secrets Manager secret or SSM parameter ARN), not in environment: the API refuses it as a plain variable`,
    );
  }
}

/**
 * The state path prefix: the API's pattern, and no `.` or `..` segment, which the job's path join
 * (`<prefix>/<envUuid>.tfstate`) would rewrite, so the key it writes would not be the key IAM grants.
 * (The API's pattern already refuses leading and doubled slashes; a trailing slash is joined away.)
 */
export function checkStatePathPrefix(property: string, value: string | undefined): void {
  const accepted =
    'segments of letters, digits, ".", "_" or "-" separated by single "/", without a leading "/" and without "." or ".." segments, e.g. "runners/prod"';
  checkPattern(property, value, PATH_PREFIX_PATTERN, accepted);
  if (value === undefined || unresolved(value)) return;
  if (value.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new EcsRunnerValidationError(property, value, accepted);
  }
}

/** The kind of value a prop takes, for the runtime shape check of callers without a compiler. */
export type PropKind =
  | 'string'
  | 'boolean'
  | 'number'
  | 'string[]'
  | 'record<string>'
  | 'record<object>'
  | { readonly construct: string; readonly has: readonly string[] }
  | { readonly constructs: string; readonly has: readonly string[] }
  | { readonly object: string };

const KIND_TEXT: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean (true or false)',
  number: 'a number',
  'string[]': 'a list of strings',
  'record<string>': 'an object of string values',
  'record<object>': 'an object of name to value',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasMembers(value: unknown, members: readonly string[]): boolean {
  return isPlainObject(value) && members.every((m) => (value as Record<string, unknown>)[m] !== undefined);
}

/**
 * One runtime check of the props' shapes, for callers without a compiler (plain JavaScript, or a
 * jsii language's dynamic values): `null`, a string for a boolean, a list for a string or `{}` for
 * a construct is the library's error naming the prop, not a `TypeError` (or a wrong value in the
 * body) further down. Tokens pass: a string, number or list token has the right type already.
 * Constructs are recognised by their members (duck typing), so imported ones and copies of
 * aws-cdk-lib from another node_modules pass.
 */
export function checkShapes(props: Record<string, unknown>, table: Record<string, PropKind>, prefix = ''): void {
  for (const [name, kind] of Object.entries(table)) {
    const value = props[name];
    if (value === undefined) continue;
    if (!hasShape(value, kind)) {
      throw new EcsRunnerValidationError(`${prefix}${name}`, shapeOf(value), describeKind(kind));
    }
  }
}

function hasShape(value: unknown, kind: PropKind): boolean {
  if (typeof kind === 'object') {
    if ('construct' in kind) return hasMembers(value, kind.has);
    if ('constructs' in kind) return Array.isArray(value) && value.every((item) => hasMembers(item, kind.has));
    return isPlainObject(value);
  }
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && !Number.isNaN(value);
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'record<string>':
      // A token for the whole record is refused later, with its own reason.
      return isPlainObject(value) && (unresolved(value) || Object.values(value).every((v) => typeof v === 'string'));
    case 'record<object>':
      return isPlainObject(value);
  }
}

export function describeKind(kind: PropKind): string {
  if (typeof kind === 'string') return KIND_TEXT[kind];
  if ('construct' in kind) return `${kind.construct} (an object with ${kind.has.join(', ')})`;
  if ('constructs' in kind) return `a list of ${kind.constructs} (objects with ${kind.has.join(', ')})`;
  return kind.object;
}

/** What a wrongly typed value is, for the error message. */
function shapeOf(value: unknown): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value;
  if (typeof value === 'object')
    return `an object (${
      Object.keys(value as object)
        .slice(0, 5)
        .join(', ') || 'no keys'
    })`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return value;
  return `${String(value)} (${typeof value})`;
}
