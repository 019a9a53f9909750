import { readFileSync } from 'fs';
import * as path from 'path';

export interface LocatedStatement {
  /** Logical id of the resource that holds the statement. */
  readonly resource: string;
  readonly type: string;
  readonly statement: any;
}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Every identity-policy statement of a template: role inline policies, AWS::IAM::Policy, managed policies. */
export function identityStatements(template: any): LocatedStatement[] {
  const out: LocatedStatement[] = [];
  for (const [id, r] of Object.entries(template.Resources ?? {}) as Array<[string, any]>) {
    const docs: any[] = [];
    if (r.Type === 'AWS::IAM::Role') docs.push(...asArray(r.Properties?.Policies).map((p: any) => p.PolicyDocument));
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties?.PolicyDocument);
    for (const doc of docs) {
      for (const statement of asArray(doc?.Statement)) out.push({ resource: id, type: r.Type, statement });
    }
  }
  return out;
}

/** Allowed statements with `Resource: "*"` (alone or in a list), action by action. */
export function wildcardActions(template: any): Array<{ resource: string; action: string }> {
  return identityStatements(template)
    .filter(({ statement }) => statement.Effect === 'Allow' && asArray(statement.Resource).includes('*'))
    .flatMap(({ resource, statement }) => asArray<string>(statement.Action).map((action) => ({ resource, action })));
}

/**
 * The actions docs/SECURITY.md lists in its table "Every Resource: "*" and why". A cell like
 * `ssmmessages:CreateControlChannel`, `CreateDataChannel` names several actions of one service.
 */
export function documentedWildcardActions(): Set<string> {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'SECURITY.md'), 'utf8');
  const start = doc.indexOf('## Every `Resource: "*"` and why');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end);
  const actions = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('|'))) {
    const cell = line.split('|')[2] ?? '';
    let service = '';
    for (const [, name] of cell.matchAll(/`([A-Za-z0-9:-]+)`/g)) {
      if (name.includes(':')) {
        service = name.split(':')[0];
        actions.add(name);
      } else if (service) {
        actions.add(`${service}:${name}`);
      }
    }
  }
  return actions;
}
