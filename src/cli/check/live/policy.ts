/**
 * A small, strict evaluator for the policies IAM's simulator cannot take from a role's point of
 * view: the task-manager role's trust policy (its caller is a web identity, which
 * `iam:SimulatePrincipalPolicy` cannot impersonate) and resource policies (the simulator takes a
 * `ResourcePolicy` only with an IAM *user* as `CallerArn`, never a role).
 *
 * Strict: an operator or element it does not know makes the statement undecidable, and the
 * caller reports "could not check" rather than guess.
 */

/** A request as a policy sees it. */
export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  /** The caller, as the policy's `Principal` element names it: `{ AWS: <role ARN> }`, `{ Federated: <provider ARN> }`. */
  readonly principal: { readonly type: 'AWS' | 'Federated' | 'Service'; readonly id: string };
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

/** What a policy says about a request. */
export interface PolicyDecision {
  /** `allow`: a statement allows and none denies; `deny`: one denies; `none`: nothing matches. */
  readonly effect: 'allow' | 'deny' | 'none';
  /** Sid (or index) of the deciding statement. */
  readonly statement?: string;
  /** For a resource policy: an Allow matched only through the account principal (`<account>:root`), which delegates to IAM policies. */
  readonly viaAccount?: boolean;
}

/** An element the evaluator does not decide (e.g. a Numeric condition or NotPrincipal). */
export class UndecidablePolicyError extends Error {}

type Json = any;

const asArray = <T>(x: T | readonly T[] | undefined): readonly T[] =>
  x === undefined ? [] : Array.isArray(x) ? (x as readonly T[]) : [x as T];

/** `*` and `?` glob, anchored. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    ignoreCase ? 'is' : 's',
  );
  return re.test(value);
}

/** Evaluates a policy document (object or JSON string) for a request. */
export function evaluatePolicy(document: Json, request: PolicyRequest, account?: string): PolicyDecision {
  const doc = typeof document === 'string' ? JSON.parse(document) : document;
  let allow: PolicyDecision | undefined;
  for (const [i, st] of asArray<Json>(doc?.Statement).entries()) {
    const id = typeof st.Sid === 'string' && st.Sid !== '' ? st.Sid : `statement ${i + 1}`;
    if (st.NotPrincipal !== undefined) throw new UndecidablePolicyError(`${id}: NotPrincipal is not evaluated`);
    if (st.NotAction !== undefined || st.NotResource !== undefined) {
      throw new UndecidablePolicyError(`${id}: NotAction/NotResource are not evaluated`);
    }
    const principal = matchPrincipal(st.Principal, request, account);
    if (principal === 'no') continue;
    if (!asArray<string>(st.Action).some((a) => globMatch(a, request.action, true))) continue;
    if (st.Resource !== undefined && !asArray<string>(st.Resource).some((r) => globMatch(r, request.resource)))
      continue;
    if (!conditionsHold(st.Condition ?? {}, request.context, id)) continue;
    if (st.Effect === 'Deny') return { effect: 'deny', statement: id };
    if (st.Effect === 'Allow' && (allow === undefined || allow.viaAccount)) {
      allow = { effect: 'allow', statement: id, viaAccount: principal === 'account' };
    }
  }
  return allow ?? { effect: 'none' };
}

/** `yes` (names the caller), `account` (names the caller's account), `no`; no Principal element (identity policy): `yes`. */
function matchPrincipal(principal: Json, request: PolicyRequest, account?: string): 'yes' | 'account' | 'no' {
  if (principal === undefined || principal === '*') return 'yes';
  for (const [type, ids] of Object.entries(principal as Record<string, string | string[]>)) {
    for (const id of asArray(ids)) {
      if (id === '*' && type === request.principal.type) return 'yes';
      if (type !== request.principal.type) continue;
      if (id === request.principal.id) return 'yes';
      if (
        type === 'AWS' &&
        account !== undefined &&
        (id === account || /^arn:[^:]+:iam::(\d{12}):root$/.exec(id)?.[1] === account)
      ) {
        return 'account';
      }
    }
  }
  return 'no';
}

const STRING_OPS: Record<string, (policy: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringEqualsIgnoreCase: (p, v) => p.toLowerCase() === v.toLowerCase(),
  StringLike: (p, v) => globMatch(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => globMatch(p, v),
  Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
};
const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

function conditionsHold(
  condition: Record<string, Record<string, Json>>,
  context: PolicyRequest['context'],
  id: string,
): boolean {
  for (const [rawOp, keys] of Object.entries(condition)) {
    const set = /^(ForAnyValue|ForAllValues):/.exec(rawOp)?.[1];
    let op = set ? rawOp.slice(set.length + 1) : rawOp;
    const ifExists = op.endsWith('IfExists');
    if (ifExists) op = op.slice(0, -'IfExists'.length);
    for (const [key, policyValues] of Object.entries(keys)) {
      const found = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase());
      const values = found ? asArray(found[1]) : undefined;
      const wanted = asArray<Json>(policyValues).map(String);
      if (op === 'Null') {
        if ((wanted[0] === 'true') !== (values === undefined)) return false;
        continue;
      }
      const negatedOf = NEGATED[op];
      const test = STRING_OPS[negatedOf ?? op];
      if (test === undefined) throw new UndecidablePolicyError(`${id}: condition operator ${rawOp} is not evaluated`);
      if (values === undefined) {
        // A missing key: positive operators fail, negated ones and ...IfExists hold.
        if (ifExists || negatedOf !== undefined || set === 'ForAllValues') continue;
        return false;
      }
      const matches = (v: string) => wanted.some((p) => test(p, v)) !== (negatedOf !== undefined);
      // ForAllValues: every value of the request; ForAnyValue: one of them; a single-valued
      // operator: a negated one holds when no value matches, a positive one when one does.
      const holds =
        set === 'ForAllValues'
          ? values.every(matches)
          : set === 'ForAnyValue' || negatedOf === undefined
            ? values.some(matches)
            : values.every(matches);
      if (!holds) return false;
    }
  }
  return true;
}
