/**
 * Generators of configurations (model.ts), adversarial by construction: every leaf is a
 * well-formed value, a token of every kind that fits it, an imported resource of this or another
 * account, region or partition, or (in the hostile profile) a malformed value or a value of a
 * wrong JavaScript type, as a caller without a compiler would pass it.
 *
 * Two profiles share every generator:
 * - `plausible`: nothing malformed on purpose. Tokens, imports from elsewhere, two runners
 *   sharing resources, nested stacks and stages, monitoring twice: most configurations
 *   synthesize (the expensive outcome).
 * - `hostile`: each configuration has at least one malformed or wrongly typed leaf, and most are
 *   refused in the constructor (the cheap outcome).
 */
import * as fc from 'fast-check';
import {
  AccessLogsSpec,
  Configuration,
  Container,
  EncryptionSpec,
  EnvSpec,
  Kind,
  MONITORING_OPTIONS,
  MonitoringCall,
  MonitoringOption,
  NetworkSpec,
  RegistrationSpec,
  Res,
  RunnerSpec,
  StateBucketSpec,
  StateSpec,
  TokenKind,
  TopProp,
  Val,
  Where,
} from './model';
import { securityGroupId, subnetId } from './to-props';

/**
 * The findings whose inputs FC_INCLUDE puts back into the generators (`FC_INCLUDE=F2,F10`), to
 * check a fix or see a finding's counterexample; every exclusion below names its finding.
 */
const INCLUDED = new Set((process.env.FC_INCLUDE ?? '').split(',').filter((f) => f !== ''));
export const excluded = (finding: string): boolean => !INCLUDED.has(finding);

export interface Profile {
  readonly name: 'plausible' | 'hostile';
  /** Weight of a malformed or wrongly typed value at a leaf (a well-formed one has 12, a token 3). */
  readonly bad: number;
  /** Chance in 100 of each optional prop being set. */
  readonly presence: number;
}

export const PLAUSIBLE: Profile = { name: 'plausible', bad: 0, presence: 20 };
export const HOSTILE: Profile = { name: 'hostile', bad: 2, presence: 25 };

const lit = (v: unknown): Val => ({ lit: v });
const res = (r: Res): Val => ({ res: r });

/** Values of a wrong JavaScript type for a prop of `kind`. */
const WRONG_TYPE: Record<Kind, readonly unknown[]> = {
  string: [null, 0, 42, true, ['x'], {}],
  boolean: ['true', 'false', 1, 0, null, {}],
  number: ['1024', Number.NaN, null, true, [1], {}],
  'string[]': ['subnet-0123456789abcdef0', [1], [null], null, {}, [['x']]],
  'record<string>': [null, 'A=b', ['A'], { A: 1 }, { A: null }, { A: ['x'] }],
  'record<object>': [null, 'x', ['x'], { A: 'arn:aws:ssm:eu-central-1:123456789012:parameter/x' }, { A: null }],
  construct: [null, {}, 'name', [], 1, { node: {} }],
  constructs: [null, {}, [{}], 'x', [null], [1]],
};

/** Strings that break patterns: empty, blank, too long, unicode, control characters, broken tokens. */
const HOSTILE_STRINGS = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '-',
    '_',
    'UPPER',
    'a b',
    '../..',
    '${Token[X',
    '\u0000',
    'ÄÖÜ',
    'a'.repeat(300),
    'x:y',
    '*',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Numbers outside every range the library takes. */
const HOSTILE_NUMBERS = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 1e9, Number.MAX_SAFE_INTEGER + 2, Number.POSITIVE_INFINITY, -0),
  fc.integer(),
  fc.double({ noNaN: true }),
);

/**
 * A leaf: well-formed (`valid`), a token of each kind whose value is one of `tokenOf`, or
 * (hostile) a malformed value (`malformed`) or one of a wrong type for `kind`.
 */
function leaf(
  p: Profile,
  kind: Kind,
  valid: fc.Arbitrary<Val>,
  opts: { tokenOf?: fc.Arbitrary<unknown>; anyOf?: fc.Arbitrary<unknown>; malformed?: fc.Arbitrary<unknown> } = {},
): fc.Arbitrary<Val> {
  const bad: fc.Arbitrary<Val>[] = [fc.constantFrom(...WRONG_TYPE[kind]).map((v) => marked(lit(v)))];
  if (opts.malformed) bad.push(opts.malformed.map((v) => marked(lit(v))));
  // Lazy.any: an IResolvable, of no prop's type (the library must refuse it, or pass it through).
  const anyOf = opts.anyOf ?? opts.tokenOf;
  if (anyOf) bad.push(anyOf.map((of) => marked({ tok: 'lazyAny', of })));
  const choices: fc.WeightedArbitrary<Val>[] = [{ weight: 12, arbitrary: valid }];
  if (opts.tokenOf) {
    choices.push({
      weight: 3,
      arbitrary: fc.record({ tok: fc.constantFrom<TokenKind>('param', 'fn', 'lazy'), of: opts.tokenOf }),
    });
  }
  if (p.bad > 0) choices.push({ weight: p.bad, arbitrary: fc.oneof(...bad) });
  // Cross-shrinking: a counterexample shrinks towards a well-formed value where it can.
  return fc.oneof({ withCrossShrink: true }, ...choices);
}

/** fc.oneof of the choices with a positive weight (the plausible profile has no malformed ones). */
function weighted<T>(...choices: Array<fc.WeightedArbitrary<T>>): fc.Arbitrary<T> {
  return fc.oneof(...choices.filter((c) => c.weight > 0));
}

/** A copy of `v` marked as malformed or wrongly typed on purpose (model.ts: `bad`). */
function marked(v: Val): Val {
  return { ...v, bad: true };
}

/** Whether a configuration has a marked leaf anywhere (the hostile profile wants at least one). */
export function hasBadLeaf(x: unknown): boolean {
  if (x === null || typeof x !== 'object') return false;
  if ((x as { bad?: unknown }).bad === true) return true;
  return Object.values(x).some(hasBadLeaf);
}

const litOf = <T>(arb: fc.Arbitrary<T>) => arb.map(lit);
/**
 * A string prop. EXCLUDED, finding F9 (test/property/FINDINGS.md): a string token whose deploy-time
 * value JSON must escape (`"`, `\`, control characters) breaks the RunnerCreateBody output, which
 * inserts it unescaped; tokens here have values JSON need not escape.
 */
const string = (p: Profile, valid: fc.Arbitrary<string>, malformed: fc.Arbitrary<unknown> = HOSTILE_STRINGS) =>
  leaf(p, 'string', litOf(valid), {
    tokenOf: excluded('F9') ? valid.filter((s) => JSON.stringify(s) === `"${s}"`) : valid,
    malformed,
  });
const number = (p: Profile, min: number, max: number) =>
  leaf(p, 'number', litOf(fc.integer({ min, max })), { tokenOf: fc.integer({ min, max }), malformed: HOSTILE_NUMBERS });
/** A natGateways token is refused (F11, fixed): the count decides the VPC's resources at synth. */
const natGateways = (p: Profile) =>
  leaf(p, 'number', litOf(fc.integer({ min: 1, max: 2 })), {
    tokenOf: fc.integer({ min: 1, max: 2 }),
    malformed: HOSTILE_NUMBERS,
  });
const boolean = (p: Profile) => leaf(p, 'boolean', litOf(fc.boolean()));

/** A list prop: a literal list, a list token of well-formed items, or a list of leaves (element tokens). */
function stringList(
  p: Profile,
  item: fc.Arbitrary<string>,
  n: { min: number; max: number },
  malformedItem: fc.Arbitrary<unknown> = HOSTILE_STRINGS,
  tokens: { list: boolean; elements: boolean } = { list: true, elements: true },
): fc.Arbitrary<Val> {
  const items = fc.array(item, { minLength: n.min, maxLength: n.max });
  const valid = fc.oneof(
    { weight: 3, arbitrary: litOf(items) },
    {
      weight: 1,
      arbitrary: fc
        .array(
          leaf(p, 'string', litOf(item), { tokenOf: tokens.elements ? item : undefined, malformed: malformedItem }),
          {
            minLength: n.min,
            maxLength: n.max,
          },
        )
        .map((list) => ({ list })),
    },
  );
  const malformed = fc.oneof(
    fc.array(item, { minLength: n.max + 1, maxLength: n.max + 3 }),
    fc.array(malformedItem, { minLength: 1, maxLength: 2 }),
    ...(n.min > 0 ? [fc.constant([])] : []),
  );
  return leaf(p, 'string[]', valid, {
    tokenOf: tokens.list ? items.filter((l) => l.length > 0) : undefined,
    malformed,
  });
}

/** A list of resources, or wrongly typed values. */
function resources(p: Profile, each: fc.Arbitrary<Val>, n: { min: number; max: number }): fc.Arbitrary<Val> {
  return leaf(
    p,
    'constructs',
    fc.array(each, { minLength: n.min, maxLength: n.max }).map((list) => ({ list })),
  );
}

const resource = (p: Profile, valid: fc.Arbitrary<Val>, malformed?: fc.Arbitrary<Val>) =>
  p.bad > 0 && malformed
    ? fc.oneof(
        { weight: 12, arbitrary: leaf(p, 'construct', valid) },
        { weight: p.bad, arbitrary: malformed.map(marked) },
      )
    : leaf(p, 'construct', valid);

/** An optional value: present with the profile's chance. */
const maybe = <T>(p: Profile, arb: fc.Arbitrary<T>, presence = p.presence): fc.Arbitrary<T | undefined> =>
  // Cross-shrinking: a counterexample shrinks to one without the value where it can.
  fc.oneof(
    { withCrossShrink: true },
    { weight: 100 - presence, arbitrary: fc.constant(undefined) },
    { weight: presence, arbitrary: arb },
  );

/** An object without the undefined entries. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const WHERE_HERE = fc.constantFrom<Where>('here', 'pseudo');
const WHERE_ANY = fc.constantFrom<Where>('here', 'pseudo', 'otherAccount', 'otherRegion', 'otherPartition');
const REGIONS = ['eu-central-1', 'us-east-1', 'ap-southeast-2', 'eu-west-1', 'us-west-2'];

const ORG_ID = fc.oneof(fc.constantFrom('my-org', 'acme'), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}[a-z0-9]$/));
const RUNNER_ID = fc.oneof(fc.constantFrom('runner-a', 'prod'), fc.stringMatching(/^[a-z][a-z0-9_-]{1,30}$/));
const ENV_NAME = fc.oneof(
  fc.constantFrom('A', 'DB_HOST', 'TF_VAR_x', 'constructor', 'toString', 'hasOwnProperty'),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
);
const ENV_NAME_MALFORMED = fc.constantFrom(
  '1A',
  'A-B',
  '',
  'ORG_ID',
  'TOKEN',
  'RUNNER_ID',
  'LOG_LEVEL',
  'RUNNER_GIT_SSH_KEYS',
  '__proto__',
  'a b',
);
const TAG_KEY = fc.oneof(
  fc.constantFrom('Owner', 'Team', 'CostCenter'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.:/=+@-]{0,20}$/),
);
const TAG_VALUE = fc.oneof(fc.constantFrom('', 'platform', 'a b'), fc.stringMatching(/^[A-Za-z0-9 _.:/=+@-]{0,30}$/));
const IMAGE = fc.constantFrom(
  'ghcr.io/acme/runner:1.2.3',
  '123456789012.dkr.ecr.eu-central-1.amazonaws.com/runner:1',
  '210987654321.dkr.ecr.us-west-2.amazonaws.com/team/runner:2',
  'humanitec/humanitec-runner@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
);
const ROLE_ARN = fc.constantFrom(
  'arn:aws:iam::210987654321:role/deploy',
  'arn:aws:iam::123456789012:role/platform/deploy',
  'arn:aws:iam::210987654321:role/a+b=c,d.e@f_g-h',
);
const SUBNET_ID = fc.nat(40).map(subnetId);
const SG_ID = fc.nat(40).map(securityGroupId);
const RETENTION = fc.constantFrom(1, 7, 30, 90, 365, 731, 3653);
const RULE_ID = fc.oneof(
  fc.constantFrom('development', 'prod', 'app'),
  fc.stringMatching(/^[a-z](-?[a-z0-9]{1,6}){1,3}$/),
);

function orchestrator(p: Profile): fc.Arbitrary<Val> {
  const issuer = string(
    p,
    fc.constantFrom('oidc.stellwerk.example.com', 'login.example.org/po', 'po.example.com:8443/oidc'),
    fc.constantFrom('https://oidc.example.com', 'UPPER.example.com', 'x', '', 'a.example.com/'),
  );
  const apiUrl = string(
    p,
    fc.constantFrom('https://po.example.com', 'https://login.example.org/api'),
    fc.constantFrom(
      'http://po.example.com',
      'not a url',
      'https://u:p@po.example.com',
      'https://po.example.com/?q=1',
      '',
    ),
  );
  const prefix = string(p, fc.constantFrom('acme_', 'po-', 'x'), fc.constantFrom('', 'a b', 'x'.repeat(201), 'ä'));
  return resource(
    p,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(res({ kind: 'orchestrator', how: 'humanitec' })) },
      {
        weight: 2,
        arbitrary: fc
          .record({ oidcIssuer: issuer, apiUrl })
          .map((o) => res({ kind: 'orchestrator', how: 'stellwerk', ...o })),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({ oidcIssuer: issuer, apiUrl, taskDefinitionFamilyPrefix: prefix })
          .map((o) => res({ kind: 'orchestrator', how: 'custom', ...o })),
      },
    ),
  );
}

const key = (p: Profile, where = WHERE_HERE) =>
  resource(
    p,
    fc.oneof(
      fc.constant(res({ kind: 'key', how: 'shared', where: 'here' })),
      fc.constant(res({ kind: 'key', how: 'new', where: 'here' })),
      where.map((w) => res({ kind: 'key', how: 'fromArn', where: w })),
      fc.constant(res({ kind: 'key', how: 'alias', where: 'here' })),
    ),
  );

/**
 * The name of an imported bucket: well-formed, a token, or (hostile) one CDK's own import accepts
 * but the API does not (a dotted name). Never of a wrong type: it is an argument of CDK's
 * `Bucket.fromBucketName`, not of the library.
 */
const bucketName = (p: Profile): fc.Arbitrary<Val> => {
  const valid = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$/);
  return weighted<Val>(
    { weight: 12, arbitrary: litOf(valid) },
    { weight: 3, arbitrary: fc.record({ tok: fc.constantFrom<TokenKind>('param', 'fn', 'lazy'), of: valid }) },
    { weight: p.bad, arbitrary: fc.constantFrom('a.b.c', 'state.example.com').map((n) => marked(lit(n))) },
  );
};

const bucket = (p: Profile, hows: Array<Extract<Res, { kind: 'bucket' }>['how']>, where = WHERE_HERE) =>
  resource(
    p,
    fc.oneof(
      ...hows.map((how) =>
        fc
          .record({ where, name: bucketName(p) })
          .map(({ where: w, name }) =>
            res({ kind: 'bucket', how, where: w, ...(how.startsWith('from') ? { name } : {}) }),
          ),
      ),
    ),
  );

function network(p: Profile): fc.Arbitrary<NetworkSpec> {
  const sharedSubnets = fc
    .array(fc.nat(3), { minLength: 1, maxLength: 2 })
    .map((ix) => ({ list: ix.map((index): Val => res({ kind: 'subnet', how: 'sharedPrivate', index })) }));
  const anySubnet = fc.record({
    how: fc.constantFrom<'sharedPrivate' | 'sharedPublic' | 'fromId' | 'fromAttributes'>(
      'sharedPrivate',
      'sharedPublic',
      'fromId',
      'fromAttributes',
    ),
    index: fc.nat(20),
  });
  const subnets = leaf(
    p,
    'constructs',
    fc.oneof(
      sharedSubnets,
      fc
        .array(anySubnet, { minLength: 1, maxLength: 3 })
        .map((l) => ({ list: l.map((s) => res({ kind: 'subnet', ...s })) })),
    ),
    {
      malformed: fc.constantFrom(
        [],
        Array.from({ length: 17 }, () => ({ subnetId: 'subnet-0123456789abcdef0' })),
      ),
    },
  );
  const vpc = resource(
    p,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(res({ kind: 'vpc', how: 'shared' })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...(['new', 'fromAttributes'] as const).map((how) => res({ kind: 'vpc', how }))),
      },
    ),
    fc.constantFrom(...(['publicOnly', 'isolatedOnly'] as const).map((how) => res({ kind: 'vpc', how }))),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<NetworkSpec>({ mode: 'default' }) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          natGateways: maybe(p, natGateways(p), 50),
          flowLogRetention: maybe(
            p,
            leaf(p, 'number', litOf(RETENTION), { tokenOf: RETENTION, malformed: fc.constantFrom(0, 2, 9999, 3650) }),
            70,
          ),
        })
        .map((o): NetworkSpec => ({ mode: 'createVpc', ...defined(o) })),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ vpc, subnets: maybe(p, subnets, 40) })
        .map((o): NetworkSpec => ({ mode: 'fromVpc', ...defined(o) })),
    },
    { weight: 3, arbitrary: subnets.map((s): NetworkSpec => ({ mode: 'fromSubnets', subnets: s })) },
    {
      weight: 6,
      arbitrary: stringList(
        p,
        SUBNET_ID,
        { min: 1, max: 16 },
        fc.constantFrom('subnet-123', 'subnet-XYZ0123456789abcd', 'sg-0123456789abcdef0', ''),
      ).map((subnetIds): NetworkSpec => ({ mode: 'fromSubnetIds', subnetIds })),
    },
  );
}

function encryption(p: Profile): fc.Arbitrary<EncryptionSpec> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant<EncryptionSpec>({ mode: 's3Managed' }) },
    { weight: 2, arbitrary: fc.constant<EncryptionSpec>({ mode: 'createKey' }) },
    { weight: 2, arbitrary: key(p, WHERE_ANY).map((k): EncryptionSpec => ({ mode: 'fromKey', key: k })) },
  );
}

function state(p: Profile): fc.Arbitrary<StateSpec> {
  const pathPrefix = string(
    p,
    fc
      .stringMatching(/^[a-z0-9_-]{1,10}(\/[a-z0-9._-]{1,10}){0,2}\/?$/)
      .filter((x) => !x.split('/').some((s) => s === '.' || s === '..')),
    fc.constantFrom('/lead', 'a//b', '../x', 'a/./b', '.', 'a b', 'x'.repeat(513)),
  );
  const accessLogs: fc.Arbitrary<AccessLogsSpec> = fc.oneof(
    {
      weight: 5,
      arbitrary: maybe(p, number(p, 1, 3650), 30).map((d): AccessLogsSpec =>
        defined({ mode: 'stackBucket', retentionDays: d }),
      ),
    },
    {
      weight: 2,
      arbitrary: bucket(p, ['new', 'fromName'], WHERE_ANY).map((b): AccessLogsSpec => ({
        mode: 'toBucket',
        bucket: b,
      })),
    },
    { weight: 2, arbitrary: fc.constant<AccessLogsSpec>({ mode: 'disabled' }) },
  );
  const replication = resource(
    p,
    fc
      .record({
        destinationBucket: bucket(p, ['fromAttributes'], fc.constantFrom<Where>('otherRegion', 'otherAccount')),
        destinationEncryptionKey: maybe(p, key(p, fc.constantFrom<Where>('otherRegion')), 60),
        storageClass: maybe(
          p,
          leaf(
            p,
            'construct',
            fc
              .constantFrom('INFREQUENT_ACCESS', 'GLACIER', 'INTELLIGENT_TIERING' as const)
              .map((name) => res({ kind: 'storageClass', name })),
          ),
          30,
        ),
      })
      .map((r) => res({ kind: 'replication', ...defined(r) })),
  );
  const transition = fc.integer({ min: 30, max: 400 });
  const created: fc.Arbitrary<StateBucketSpec> = fc
    .record({
      destroyOnRemoval: maybe(p, boolean(p), 15),
      restrictAccess: maybe(p, boolean(p)),
      administrators: maybe(
        p,
        resources(
          p,
          fc
            .record({ how: fc.constantFrom<'new' | 'fromArn'>('new', 'fromArn'), where: WHERE_ANY })
            .map((r) => res({ kind: 'role', ...r })),
          { min: 0, max: 2 },
        ),
        10,
      ),
      days: maybe(
        p,
        fc.record({
          t: transition,
          plus: fc.integer({ min: 1, max: 400 }),
        }),
      ),
      // Or each on its own (tokens, malformed values; an expiration not after the transition).
      transitionLeaf: maybe(p, number(p, 30, 36500), 10),
      expirationLeaf: maybe(p, number(p, 1, 36500), 10),
      abortIncompleteMultipartUploadDays: maybe(p, number(p, 1, 30)),
      accessLogs,
      replication: maybe(p, replication, 15),
    })
    .map(({ days, transitionLeaf, expirationLeaf, ...o }): StateBucketSpec => ({
      mode: 'create',
      ...defined({
        ...o,
        noncurrentVersionTransitionDays: days ? lit(days.t) : transitionLeaf,
        noncurrentVersionExpirationDays: days ? lit(days.t + days.plus) : expirationLeaf,
      }),
    }));
  const brought: fc.Arbitrary<StateBucketSpec> = bucket(
    p,
    ['shared', 'fromName', 'fromArn', 'fromAttributes'],
    WHERE_ANY,
  ).map((b) => ({ mode: 'fromBucket', bucket: b }));
  return fc
    .record({
      pathPrefix: maybe(p, pathPrefix),
      bucket: fc.oneof({ weight: 4, arbitrary: created }, { weight: 1, arbitrary: brought }),
    })
    .map((s) => defined(s));
}

function registration(p: Profile): fc.Arbitrary<RegistrationSpec> {
  const rule = leaf(
    p,
    'construct',
    fc
      .record({
        environmentType: maybe(p, string(p, RULE_ID, fc.constantFrom('Not_Valid', '-a', 'a--b', '')), 70),
        projectId: maybe(p, string(p, RULE_ID), 50),
      })
      .map((r) => ({ record: Object.entries(defined(r)) as Array<[string, Val]> })),
  );
  return fc
    .record({
      apiTokenSecret: resource(
        p,
        fc
          .record({
            how: fc.constantFrom<'completeArn' | 'nameV2' | 'new'>('completeArn', 'nameV2', 'new'),
            where: WHERE_ANY,
          })
          .map((r) => res({ kind: 'tokenSecret', ...r })),
      ),
      adoptExisting: maybe(p, boolean(p), 30),
      removalPolicy: maybe(
        p,
        leaf(
          p,
          'string',
          fc.constantFrom('DESTROY', 'RETAIN' as const).map((name) => res({ kind: 'removalPolicy', name })),
          // A token (of RemovalPolicy's value) is no removal policy the library can act on at synth.
          { tokenOf: fc.constantFrom('destroy', 'retain'), malformed: fc.constantFrom('bogus', 'Destroy') },
        ),
        30,
      ),
      rules: maybe(
        p,
        leaf(
          p,
          'constructs',
          fc.array(rule, { maxLength: 3 }).map((list) => ({ list })),
        ),
        40,
      ),
    })
    .map((r) => defined(r));
}

function monitoring(p: Profile): fc.Arbitrary<MonitoringCall[]> {
  const email = fc.constantFrom('ops@example.com', 'a.b+c@example.org');
  const options: Record<MonitoringOption, fc.Arbitrary<Val>> = {
    topic: resource(
      p,
      fc
        .record({ how: fc.constantFrom<'new' | 'fromArn'>('new', 'fromArn'), where: WHERE_ANY })
        .map((r) => res({ kind: 'topic', ...r })),
    ),
    encryptionKey: key(p, WHERE_ANY),
    // A list token of alarmEmails is the library's error (F1, fixed); element tokens are addresses.
    alarmEmails: stringList(p, email, { min: 0, max: 3 }, fc.constantFrom('not-an-email', '', 'a@', '@b'), {
      list: true,
      elements: true,
    }),
    stateBucketSizeThresholdBytes: number(p, 1, 2 ** 40),
    failedJobsThreshold: number(p, 1, 100),
    dashboard: boolean(p),
    dashboardName: string(
      p,
      fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
      fc.constantFrom('a b', 'x'.repeat(300), 'ä', ''),
    ),
    eventsLogRetention: leaf(p, 'number', litOf(RETENTION), {
      tokenOf: RETENTION,
      malformed: fc.constantFrom(0, 2, 9999),
    }),
  };
  const call: fc.Arbitrary<MonitoringCall> = weighted<MonitoringCall>(
    {
      weight: 12,
      arbitrary: fc
        .record(Object.fromEntries(MONITORING_OPTIONS.map((o) => [o, maybe(p, options[o], 25)])))
        .map((o) => ({ options: defined(o) })),
    },
    { weight: p.bad, arbitrary: fc.constantFrom(null, 'x', 1, []).map((v) => ({ argument: marked(lit(v)) })) },
  );
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant<MonitoringCall[]>([]) },
    { weight: 3, arbitrary: fc.array(call, { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(call, { minLength: 2, maxLength: 2 }) },
  );
}

function top(p: Profile): fc.Arbitrary<Partial<Record<TopProp, Val>>> {
  const jobSecret = resource(
    p,
    fc.oneof(
      WHERE_ANY.filter((w) => w !== 'otherPartition').map((where) =>
        res({ kind: 'jobSecret', how: 'completeArn', where }),
      ),
      fc
        .constantFrom<Where>('here', 'pseudo', 'otherAccount')
        .map((where) => res({ kind: 'jobSecret', how: 'ssm', where })),
      fc.constantFrom(
        res({ kind: 'jobSecret', how: 'new', where: 'here' }),
        res({ kind: 'jobSecret', how: 'ssmNew', where: 'here' }),
      ),
    ),
    fc.oneof(
      fc.constantFrom(
        res({ kind: 'jobSecret', how: 'nameV2', where: 'here' }),
        res({ kind: 'jobSecret', how: 'field', where: 'here' }),
      ),
      fc.constant(res({ kind: 'jobSecret', how: 'completeArn', where: 'otherPartition' })),
    ),
  );
  const record = (kind: Kind, name: fc.Arbitrary<string>, value: fc.Arbitrary<Val>, max: number) =>
    leaf(
      p,
      kind,
      fc.array(fc.tuple(name, value), { maxLength: max }).map((entries) => ({ record: dedupe(entries) })),
      {
        // A token for the whole record (Lazy.any): its keys are not known at synth.
        anyOf: fc.constant({ A: 'b' }),
      },
    );
  const statement = fc
    .constantFrom('bucketRead', 'wildcard', 'deny', 'condition' as const)
    .map((how) => res({ kind: 'statement', how }));
  const badStatement = fc
    .constantFrom('noResource', 'principal' as const)
    .map((how) => res({ kind: 'statement', how }));
  const arbs: Record<TopProp, fc.Arbitrary<Val>> = {
    orgId: string(p, ORG_ID, fc.constantFrom('', 'My_Org', '-org', 'a'.repeat(64), 'org-')),
    runnerId: string(p, RUNNER_ID, fc.constantFrom('', 'a', 'Runner', '1abc', 'a'.repeat(64), 'a b')),
    runnerIdPrefix: string(
      p,
      fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/),
      fc.constantFrom('', 'Pre', '9x', 'a'.repeat(41)),
    ),
    description: string(
      p,
      fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 50 })),
      fc.constant('d'.repeat(1001)),
    ),
    orchestrator: orchestrator(p),
    oidcProviderArn: leaf(
      p,
      'string',
      fc
        .record({
          where: WHERE_ANY,
          issuer: fc.constantFrom<'orchestrator' | 'other'>('orchestrator', 'orchestrator', 'other'),
        })
        .map((r) => res({ kind: 'oidcProviderArn', ...r })),
      {
        tokenOf: fc.constant('arn:aws:iam::123456789012:oidc-provider/oidc.humanitec.dev'),
        malformed: fc.constantFrom(
          'arn:aws:iam::123:oidc-provider/x',
          'oidc.humanitec.dev',
          'arn:aws:iam::123456789012:role/x',
        ),
      },
    ),
    securityGroups: resources(
      p,
      fc
        .constantFrom<'shared' | 'new' | 'fromId'>('shared', 'new', 'fromId')
        .map((how) => res({ kind: 'securityGroup', how, where: 'here' })),
      { min: 0, max: 3 },
    ),
    securityGroupIds: stringList(
      p,
      SG_ID,
      { min: 0, max: 5 },
      fc.constantFrom('sg-123', 'subnet-0123456789abcdef0', 'SG-0123456789abcdef0'),
    ),
    assignPublicIp: boolean(p),
    cluster: resource(
      p,
      fc.oneof(
        fc.constantFrom(
          res({ kind: 'cluster', how: 'shared', where: 'here' }),
          res({ kind: 'cluster', how: 'new', where: 'here' }),
        ),
        fc
          .record({ how: fc.constantFrom<'fromArn' | 'fromAttributes'>('fromArn', 'fromAttributes'), where: WHERE_ANY })
          .map((r) => res({ kind: 'cluster', ...r })),
      ),
    ),
    containerInsights: string(
      p,
      fc.constantFrom('enhanced', 'enabled'),
      fc.constantFrom('bogus', 'ENABLED', 'disabled', ''),
    ),
    environment: record(
      'record<string>',
      weighted({ weight: 5, arbitrary: ENV_NAME }, { weight: p.bad, arbitrary: ENV_NAME_MALFORMED }),
      string(
        p,
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('v'.repeat(1024))),
        fc.constant('v'.repeat(1025)),
      ),
      4,
    ),
    secrets: record(
      'record<object>',
      weighted<string>(
        { weight: 5, arbitrary: fc.oneof(ENV_NAME, fc.constant('RUNNER_GIT_SSH_KEYS')) },
        { weight: p.bad, arbitrary: ENV_NAME_MALFORMED },
      ),
      jobSecret,
      3,
    ),
    secretsEncryptionKeys: resources(p, key(p, WHERE_ANY), { min: 0, max: 2 }),
    image: string(p, IMAGE, fc.constantFrom('has space', 'a'.repeat(256), 'UPPER@sha256:xyz', '')),
    sessionName: string(
      p,
      fc.stringMatching(/^[\w+=,.@-]{3,64}$/),
      fc.constantFrom('ab', 'a'.repeat(65), 'with space', 'a/b'),
    ),
    maxTaskCpu: number(p, 512, 16384),
    maxTaskMemoryMiB: number(p, 1024, 122880),
    stsRegion: string(p, fc.constantFrom(...REGIONS), fc.constantFrom('EU', 'us-gov-west-1', 'x', 'eu-central-1a')),
    taskRoleStatements: weighted<Val>(
      { weight: 12, arbitrary: resources(p, statement, { min: 0, max: 3 }) },
      // Statements no identity policy may hold (no resource, a principal).
      { weight: p.bad, arbitrary: badStatement.map((st) => marked({ list: [st] })) },
    ),
    taskRoleManagedPolicies: resources(
      p,
      fc
        .record({ how: fc.constantFrom<'aws' | 'new' | 'fromArn'>('aws', 'new', 'fromArn'), where: WHERE_ANY })
        .map((r) => res({ kind: 'managedPolicy', ...r })),
      { min: 0, max: 2 },
    ),
    assumableRoleArns: stringList(
      p,
      ROLE_ARN,
      { min: 0, max: 3 },
      fc.constantFrom('arn:aws:iam::123:role/x', 'role/x', 'arn:aws:iam::123456789012:user/x'),
    ),
    permissionsBoundary: resource(
      p,
      fc
        .record({ how: fc.constantFrom<'aws' | 'new' | 'fromArn'>('aws', 'new', 'fromArn'), where: WHERE_ANY })
        .map((r) => res({ kind: 'managedPolicy', ...r })),
    ),
    rolePath: string(
      p,
      fc.constantFrom('/', '/platform/', '/platform/runners/'),
      fc.constantFrom('x', '/x', '//', '/a b/', '', `/${'p'.repeat(512)}/`),
    ),
    tags: record(
      'record<string>',
      weighted(
        { weight: 5, arbitrary: TAG_KEY },
        { weight: p.bad, arbitrary: fc.constantFrom('aws:x', 'AWS:y', '', 'k!', 'k'.repeat(129), 'owner', 'OWNER') },
      ),
      string(p, TAG_VALUE, fc.constantFrom('v!', 'v'.repeat(257), 'a\nb')),
      5,
    ),
    // EXCLUDED, finding F10: a token (of the list or a key) in requiredTagKeys is dropped unchecked.
    requiredTagKeys: stringList(
      p,
      fc.constantFrom('Owner', 'Team', 'CostCenter'),
      { min: 0, max: 2 },
      fc.constantFrom('', 'k'.repeat(129)),
      { list: !excluded('F10'), elements: !excluded('F10') },
    ),
  };
  const entries = Object.entries(arbs).map(([name, arb]) => [name, name === 'orgId' ? arb : maybe(p, arb)] as const);
  return fc.record(Object.fromEntries(entries)).map((t) => defined(t) as Partial<Record<TopProp, Val>>);
}

/** Keys once each (the last value wins, as in an object literal). */
function dedupe(entries: Array<[string, Val]>): Array<[string, Val]> {
  return [...new Map(entries).entries()];
}

function runner(p: Profile): fc.Arbitrary<RunnerSpec> {
  return fc
    .record({
      top: top(p),
      network: network(p),
      encryption: encryption(p),
      state: state(p),
      registration: maybe(p, registration(p), 25),
      monitoring: monitoring(p),
    })
    .map((r) => defined(r) as RunnerSpec)
    .filter((r) => !EXCLUSIONS.some((e) => excluded(e.finding) && e.excludes(r)));
}

/** Kinds of values the generators do not give a prop while its finding is excluded (the coverage check). */
export const EXCLUDED_COVERAGE: Readonly<Record<string, string>> = {
  'requiredTagKeys: token:param': 'F10',
  'requiredTagKeys: token:fn': 'F10',
  'requiredTagKeys: token:lazy': 'F10',
};

/**
 * Inputs left out because a known defect makes them fail every time. Each names its finding in
 * test/property/FINDINGS.md: delete the exclusion with the fix. F2, F4, F5 and F8 are fixed; F9 and
 * F10 are left out in their leaf generators.
 */
const EXCLUSIONS: ReadonlyArray<{ readonly finding: string; readonly excludes: (r: RunnerSpec) => boolean }> = [
  {
    // F6 (fixed for values): an empty tag value that reaches the monitoring's alarms is refused at
    // synth. A token passes unchecked, as every token does; CloudFormation's validation then warns
    // about the harness's parameter default '' (W1030), which is a deploy-time value, not the library's.
    finding: 'F6',
    excludes: (r) => {
      const tags = r.top.tags;
      return (
        r.monitoring.length > 0 &&
        tags !== undefined &&
        'record' in tags &&
        tags.record.some(([, v]) => 'tok' in v && v.of === '')
      );
    },
  },
];

const ENV: fc.Arbitrary<EnvSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...REGIONS)
      .map((region): EnvSpec => ({ kind: 'concrete', account: '123456789012', region })),
  },
  { weight: 2, arbitrary: fc.constant<EnvSpec>({ kind: 'agnostic' }) },
  { weight: 1, arbitrary: fc.constant<EnvSpec>({ kind: 'accountOnly', account: '123456789012' }) },
  { weight: 1, arbitrary: fc.constantFrom(...REGIONS).map((region): EnvSpec => ({ kind: 'regionOnly', region })) },
  // Other partitions: the orchestrator API takes arn:aws: role ARNs only.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('cn-north-1', 'us-gov-west-1')
      .map((region): EnvSpec => ({ kind: 'concrete', account: '123456789012', region })),
  },
);

export function configuration(p: Profile): fc.Arbitrary<Configuration> {
  const arb = fc.record({
    env: ENV,
    container: fc.constantFrom<Container>('app', 'app', 'app', 'stage', 'nested'),
    // One runner, or two in one stack (sharing its shared resources).
    runners: fc.array(runner(p), { minLength: 1, maxLength: 2 }),
  });
  const kept = arb.filter((c) => !CONFIGURATION_EXCLUSIONS.some((e) => excluded(e.finding) && e.excludes(c)));
  return p.bad > 0 ? kept.filter(hasBadLeaf) : kept;
}

/** Exclusions (as EXCLUSIONS) of combinations of runners: none open (the F2 pairs are fixed). */
const CONFIGURATION_EXCLUSIONS: ReadonlyArray<{
  readonly finding: string;
  readonly excludes: (c: Configuration) => boolean;
}> = [];
