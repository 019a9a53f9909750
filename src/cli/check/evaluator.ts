/**
 * The check's IAM policy evaluator: AWS's documented evaluation logic for one account (explicit
 * deny wins; identity policies within the permissions boundary; resource-based policies of S3
 * buckets, KMS keys and role trust), with the condition operators IAM policies use. The offline
 * check (`--template`) decides every call with it; the live check (`--stack`) decides with it what
 * IAM's simulator cannot take from a role's point of view (trust, bucket and key policies).
 * An operator it does not know makes a statement undecidable ({@link UndecidablePolicyError}).
 *
 * Written here (Apache-2.0, no dependencies) so that the bundled CLI ships no third-party code.
 * The conformance tests cross-check every decision it makes against `@cloud-copilot/iam-simulate`
 * (a maintained evaluator; AGPL, so a devDependency only and never bundled): the two must agree
 * on every replayed call of every example.
 */

/** A statement as written in a policy document, with its intrinsics resolved. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny' | string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Principal?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Where a statement was written, for messages: `RunnerRolesTaskManagerPolicy571E0B7F`, statement 3, Sid ... */
export interface LocatedStatement {
  /** Logical id of the resource that holds the policy (or the ARN of a policy outside the template). */
  readonly source: string;
  /** What kind of policy it is. */
  readonly kind: 'identity' | 'boundary' | 'bucket' | 'key' | 'trust';
  /** Position in its policy document (0-based). */
  readonly index: number;
  readonly statement: Statement;
}

/** The requester, as a resource-based policy's Principal element sees it. */
export interface RequestPrincipal {
  /** `AWS` (a role session), `Federated` (a web identity token) or `Service`. */
  readonly type: 'AWS' | 'Federated' | 'Service';
  /** Role ARN, OIDC provider ARN, or service principal. */
  readonly id: string;
  /** Account of an AWS principal. */
  readonly account?: string;
}

export type ContextValues = Readonly<Record<string, string | readonly string[]>>;

export interface EvaluationRequest {
  readonly principal: RequestPrincipal;
  readonly action: string;
  readonly resource: string;
  readonly context: ContextValues;
  /** Identity policies of the principal (none for a web identity). */
  readonly identity: readonly LocatedStatement[];
  /**
   * The permissions boundary's statements, or undefined when the role has none. A boundary that is
   * not in the template is passed as `'unknown'` and treated as allowing (said in the notes).
   */
  readonly boundary?: readonly LocatedStatement[] | 'unknown';
  /** The resource-based policy that applies (bucket, key, trust policy), if any. */
  readonly resourcePolicy?: readonly LocatedStatement[];
  /**
   * How the resource policy combines with identity policies:
   * - `either` (S3, same account): identity allow or resource-policy allow;
   * - `key` (KMS): the key policy must allow, directly or by delegating to the account (then identity must allow too);
   * - `trust` (sts:AssumeRole*): the trust policy must allow; naming the account (not the role) also needs identity allow;
   * - `only` (web identity): the trust policy alone decides.
   */
  readonly resourcePolicyMode?: 'either' | 'key' | 'trust' | 'only';
}

export interface Evaluation {
  readonly decision: 'allowed' | 'denied';
  /**
   * In the `key` and `trust` modes: the resource-policy statements that allow the request only by
   * naming the principal's account, which delegates the decision to its IAM policies. Set whether
   * or not the identity policies then allow (the live check takes that part from IAM's simulator).
   */
  readonly delegatedBy?: readonly LocatedStatement[];
  /** The deny statement that decided, when explicitly denied. */
  readonly deniedBy?: LocatedStatement;
  /** The allow statements that granted it. */
  readonly allowedBy: readonly LocatedStatement[];
  /** For an implicit deny: why, in words (what is missing, and the nearest statement). */
  readonly reason: string;
}

/**
 * A policy the evaluator cannot decide: a statement that would apply to the request holds a
 * condition operator it does not know. The check reports "could not check" rather than guess.
 */
export class UndecidablePolicyError extends Error {}

const asArray = <T>(x: T | readonly T[] | undefined): T[] =>
  x === undefined ? [] : Array.isArray(x) ? [...(x as T[])] : [x as T];

/** IAM's wildcard match: `*` any run of characters, `?` one character; optionally case-insensitive. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match (no regex: patterns are user data).
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star !== -1) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function substituteVariables(pattern: string, context: ContextValues): string {
  return pattern.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    const value = context[name];
    return typeof value === 'string' ? value : whole;
  });
}

function actionMatches(patterns: string[], action: string): boolean {
  return patterns.some((p) => wildcardMatch(p, action, true));
}

function resourceMatches(patterns: string[], resource: string, context: ContextValues): boolean {
  return patterns.some((p) => p === '*' || wildcardMatch(substituteVariables(p, context), resource));
}

/** ARN matching: ArnLike compares each of the six colon-separated parts with wildcards. */
function arnLike(pattern: string, value: string): boolean {
  const p = pattern.split(':');
  const v = value.split(':');
  if (p.length < 6 || v.length < 6) return wildcardMatch(pattern, value);
  const pHead = p.slice(0, 5);
  const vHead = v.slice(0, 5);
  return (
    pHead.every((part, i) => wildcardMatch(part, vHead[i])) && wildcardMatch(p.slice(5).join(':'), v.slice(5).join(':'))
  );
}

type Comparator = (policyValue: string, requestValue: string) => boolean;

const COMPARATORS: Record<string, { compare: Comparator; negated: boolean }> = {
  StringEquals: { compare: (p, r) => p === r, negated: false },
  StringNotEquals: { compare: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { compare: (p, r) => wildcardMatch(p, r), negated: false },
  StringNotLike: { compare: (p, r) => wildcardMatch(p, r), negated: true },
  ArnEquals: { compare: (p, r) => arnLike(p, r), negated: false },
  ArnLike: { compare: (p, r) => arnLike(p, r), negated: false },
  ArnNotEquals: { compare: (p, r) => arnLike(p, r), negated: true },
  ArnNotLike: { compare: (p, r) => arnLike(p, r), negated: true },
  NumericEquals: { compare: (p, r) => Number(r) === Number(p), negated: false },
  NumericNotEquals: { compare: (p, r) => Number(r) === Number(p), negated: true },
  NumericLessThan: { compare: (p, r) => Number(r) < Number(p), negated: false },
  NumericLessThanEquals: { compare: (p, r) => Number(r) <= Number(p), negated: false },
  NumericGreaterThan: { compare: (p, r) => Number(r) > Number(p), negated: false },
  NumericGreaterThanEquals: { compare: (p, r) => Number(r) >= Number(p), negated: false },
  Bool: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  DateEquals: { compare: (p, r) => Date.parse(r) === Date.parse(p), negated: false },
  DateLessThan: { compare: (p, r) => Date.parse(r) < Date.parse(p), negated: false },
  DateGreaterThan: { compare: (p, r) => Date.parse(r) > Date.parse(p), negated: false },
};

/** Why one condition of a statement failed, or undefined when it holds. */
export function conditionFailure(
  operator: string,
  key: string,
  policyValues: string[],
  context: ContextValues,
): string | undefined {
  let op = operator;
  let setOp: 'ForAnyValue' | 'ForAllValues' | undefined;
  const colon = op.indexOf(':');
  if (colon !== -1) {
    setOp = op.slice(0, colon) as 'ForAnyValue' | 'ForAllValues';
    op = op.slice(colon + 1);
  }
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const present = Object.keys(context).find((k) => k.toLowerCase() === key.toLowerCase());
  const raw = present === undefined ? undefined : context[present];
  const describeRequest = raw === undefined ? 'the request has no such key' : `the request has ${JSON.stringify(raw)}`;
  const fail = () => `${operator} ${key} ${JSON.stringify(policyValues)}: ${describeRequest}`;

  if (op === 'Null') {
    const wantsAbsent = policyValues.some((v) => v.toLowerCase() === 'true');
    return (raw === undefined) === wantsAbsent ? undefined : fail();
  }
  const comparator = COMPARATORS[op];
  if (!comparator) return `unsupported condition operator ${operator}`;
  if (raw === undefined) {
    if (ifExists) return undefined;
    if (setOp === 'ForAllValues') return undefined;
    if (setOp === 'ForAnyValue') return fail();
    return comparator.negated ? undefined : fail();
  }
  const values = asArray<string>(raw as string | string[]);
  const matchesOne = (v: string) =>
    policyValues.some((p) => comparator.compare(substituteVariables(String(p), context), String(v)));
  let holds: boolean;
  if (setOp === 'ForAllValues') {
    holds = values.every((v) => (comparator.negated ? !matchesOne(v) : matchesOne(v)));
  } else if (setOp === 'ForAnyValue') {
    holds = values.some((v) => (comparator.negated ? !matchesOne(v) : matchesOne(v)));
  } else {
    // A single-valued key (a multivalued one without a set operator is compared value by value).
    holds = comparator.negated ? !values.some(matchesOne) : values.some(matchesOne);
  }
  return holds ? undefined : fail();
}

/** The condition operators the evaluator decides (with an optional set operator and `IfExists`). */
export function isKnownOperator(operator: string): boolean {
  const op = operator.slice(operator.indexOf(':') + 1).replace(/IfExists$/, '');
  const set = operator.includes(':') ? operator.slice(0, operator.indexOf(':')) : undefined;
  return (set === undefined || set === 'ForAnyValue' || set === 'ForAllValues') && (op === 'Null' || op in COMPARATORS);
}

function conditionFailures(statement: Statement, context: ContextValues): string[] {
  const out: string[] = [];
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys ?? {})) {
      const failure = conditionFailure(operator, key, asArray(values as string | string[]).map(String), context);
      if (failure) out.push(failure);
    }
  }
  return out;
}

/**
 * Whether a statement's conditions hold: `false` when a condition it decides fails, else
 * {@link UndecidablePolicyError} when one of them has an operator it does not know.
 */
function conditionsHold(located: LocatedStatement, context: ContextValues): boolean {
  const unknown = Object.keys(located.statement.Condition ?? {}).filter((op) => !isKnownOperator(op));
  const known: Statement = {
    ...located.statement,
    Condition: Object.fromEntries(
      Object.entries(located.statement.Condition ?? {}).filter(([op]) => isKnownOperator(op)),
    ),
  };
  if (conditionFailures(known, context).length > 0) return false;
  if (unknown.length > 0) {
    throw new UndecidablePolicyError(
      `${describeStatement(located)}: condition operator ${unknown.join(', ')} is not evaluated`,
    );
  }
  return true;
}

function principalEntries(principal: unknown): Array<{ type: string; id: string }> {
  if (principal === '*') return [{ type: 'AWS', id: '*' }];
  if (principal === undefined || principal === null || typeof principal !== 'object') return [];
  return Object.entries(principal as Record<string, unknown>).flatMap(([type, ids]) =>
    asArray(ids as string | string[]).map((id) => ({ type, id: String(id) })),
  );
}

/** How a Principal element names the requester: `exact` (its ARN), `account` (its account), or not at all. */
function principalMatch(element: unknown, who: RequestPrincipal): 'exact' | 'account' | 'wildcard' | undefined {
  let best: 'exact' | 'account' | 'wildcard' | undefined;
  for (const { type, id } of principalEntries(element)) {
    if (id === '*' && (type === 'AWS' || element === '*')) {
      best ??= 'wildcard';
      continue;
    }
    if (type !== who.type) continue;
    if (who.type !== 'AWS') {
      if (id === who.id) return 'exact';
      continue;
    }
    if (id === who.id) return 'exact';
    const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(id)?.[1] ?? (/^\d{12}$/.test(id) ? id : undefined);
    if (root !== undefined && root === who.account) best = 'account';
  }
  return best;
}

interface Match {
  readonly statement: LocatedStatement;
  readonly principal?: 'exact' | 'account' | 'wildcard';
}

/** Statements of `policy` that apply to the request (action, resource, principal and conditions). */
function applicable(policy: readonly LocatedStatement[], req: EvaluationRequest, withPrincipal: boolean): Match[] {
  const out: Match[] = [];
  for (const located of policy) {
    const s = located.statement;
    if (s.Action !== undefined && !actionMatches(asArray(s.Action), req.action)) continue;
    if (s.NotAction !== undefined && actionMatches(asArray(s.NotAction), req.action)) continue;
    if (s.Resource !== undefined && !resourceMatches(asArray(s.Resource), req.resource, req.context)) continue;
    if (s.NotResource !== undefined && resourceMatches(asArray(s.NotResource), req.resource, req.context)) continue;
    let principal: Match['principal'];
    if (withPrincipal) {
      if (s.NotPrincipal !== undefined) {
        if (principalMatch(s.NotPrincipal, req.principal) !== undefined) continue;
        principal = 'wildcard';
      } else {
        principal = principalMatch(s.Principal, req.principal);
        if (principal === undefined) continue;
      }
    }
    if (!conditionsHold(located, req.context)) continue;
    out.push({ statement: located, principal });
  }
  return out;
}

/** Names a statement for people: `RunnerRolesTaskPolicy7B20CDAF statement 2 (Sid ReadWriteState)`. */
export function describeStatement(s: LocatedStatement): string {
  const kind = {
    identity: 'policy',
    boundary: 'permissions boundary',
    bucket: 'bucket policy',
    key: 'key policy',
    trust: 'trust policy',
  }[s.kind];
  return `${kind} ${s.source} statement ${s.index + 1}${s.statement.Sid ? ` (Sid ${s.statement.Sid})` : ''}`;
}

/** The nearest allow statement (same action), and what of it does not match: for a "missing statement" message. */
function nearestMiss(policies: readonly LocatedStatement[], req: EvaluationRequest, withPrincipal: boolean): string {
  const candidates = policies.filter(
    (l) =>
      l.statement.Effect === 'Allow' &&
      (l.statement.Action === undefined || actionMatches(asArray(l.statement.Action), req.action)),
  );
  if (candidates.length === 0) return `no statement allows ${req.action} on ${req.resource}`;
  const misses = candidates.map((l) => {
    const s = l.statement;
    const why: string[] = [];
    if (s.Resource !== undefined && !resourceMatches(asArray(s.Resource), req.resource, req.context)) {
      why.push(`its resource ${JSON.stringify(s.Resource)} does not match ${req.resource}`);
    }
    if (withPrincipal && principalMatch(s.Principal, req.principal) === undefined) {
      why.push(`its principal does not name ${req.principal.id}`);
    }
    why.push(...conditionFailures(s, req.context).map((f) => `condition ${f}`));
    return { l, why };
  });
  misses.sort((a, b) => a.why.length - b.why.length);
  const best = misses[0];
  return `no statement allows ${req.action} on ${req.resource}; nearest: ${describeStatement(best.l)}: ${best.why.join('; ')}`;
}

/** Decides one request. */
export function evaluate(req: EvaluationRequest): Evaluation {
  const identity = req.identity;
  const boundary = req.boundary;
  const resourcePolicy = req.resourcePolicy ?? [];
  const mode = req.resourcePolicyMode ?? 'either';

  // 1. An explicit deny anywhere decides.
  const denies = [
    ...applicable(
      identity.filter((l) => l.statement.Effect === 'Deny'),
      req,
      false,
    ),
    ...(boundary !== undefined && boundary !== 'unknown'
      ? applicable(
          boundary.filter((l) => l.statement.Effect === 'Deny'),
          req,
          false,
        )
      : []),
    ...applicable(
      resourcePolicy.filter((l) => l.statement.Effect === 'Deny'),
      req,
      true,
    ),
  ];
  if (denies.length > 0) {
    return {
      decision: 'denied',
      deniedBy: denies[0].statement,
      allowedBy: [],
      reason: `explicitly denied by ${describeStatement(denies[0].statement)}`,
    };
  }

  const identityAllows = applicable(
    identity.filter((l) => l.statement.Effect === 'Allow'),
    req,
    false,
  ).map((m) => m.statement);
  const boundaryAllows =
    boundary === undefined || boundary === 'unknown'
      ? true
      : applicable(
          boundary.filter((l) => l.statement.Effect === 'Allow'),
          req,
          false,
        ).length > 0;
  const resourceAllows = applicable(
    resourcePolicy.filter((l) => l.statement.Effect === 'Allow'),
    req,
    true,
  );
  const identityGrants = identityAllows.length > 0 && boundaryAllows;
  const missingIdentity = (): string =>
    identityAllows.length === 0
      ? nearestMiss(identity, req, false)
      : `the permissions boundary does not allow ${req.action} on ${req.resource}`;

  switch (mode) {
    case 'only': {
      if (resourceAllows.length > 0) return allowed(resourceAllows.map((m) => m.statement));
      return implicit(nearestMiss(resourcePolicy, req, true));
    }
    case 'trust':
    case 'key': {
      const direct = resourceAllows.filter((m) => m.principal === 'exact' || m.principal === 'wildcard');
      const delegated = resourceAllows.filter((m) => m.principal === 'account');
      if (direct.length > 0) return allowed(direct.map((m) => m.statement));
      if (delegated.length > 0) {
        const delegatedBy = delegated.map((m) => m.statement);
        if (identityGrants) return { ...allowed([...delegatedBy, ...identityAllows]), delegatedBy };
        return {
          ...implicit(
            `${describeStatement(delegated[0].statement)} delegates to the account's IAM policies, and ${missingIdentity()}`,
          ),
          delegatedBy,
        };
      }
      return implicit(nearestMiss(resourcePolicy, req, true));
    }
    default: {
      if (identityGrants) return allowed(identityAllows);
      const exact = resourceAllows.filter((m) => m.principal !== 'account');
      if (exact.length > 0) return allowed(exact.map((m) => m.statement));
      return implicit(missingIdentity());
    }
  }
}

function allowed(by: LocatedStatement[]): Evaluation {
  return { decision: 'allowed', allowedBy: by, reason: `allowed by ${by.map(describeStatement).join(' and ')}` };
}

function implicit(reason: string): Evaluation {
  return { decision: 'denied', allowedBy: [], reason };
}
