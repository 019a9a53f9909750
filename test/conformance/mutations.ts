/**
 * Mutations of a synthesized template that break what a runner must guarantee, for proving that
 * the conformance rules (the suite and `po-ecs-runner check --template`) catch each one.
 */
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function policyDocuments(template: any): any[] {
  const docs: any[] = [];
  for (const r of Object.values<any>(template.Resources ?? {})) {
    if (r.Type === 'AWS::IAM::Role') docs.push(...asArray<any>(r.Properties?.Policies).map((p) => p.PolicyDocument));
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties?.PolicyDocument);
  }
  return docs.filter(Boolean);
}

export interface Mutation {
  readonly name: string;
  /** Changes the template in place; throws when there was nothing to change. */
  readonly apply: (template: any) => void;
  /** The calls that must newly fail. */
  readonly failingCalls: string[];
}

export const MUTATIONS: Mutation[] = [
  {
    name: 'drop PassRole',
    apply: (template) => {
      let dropped = 0;
      for (const doc of policyDocuments(template)) {
        const before = doc.Statement.length;
        doc.Statement = doc.Statement.filter((s: any) => !asArray(s.Action).includes('iam:PassRole'));
        dropped += before - doc.Statement.length;
      }
      if (dropped === 0) throw new Error('no iam:PassRole statement to drop');
    },
    failingCalls: ['task-manager:iam:PassRole:execution', 'task-manager:iam:PassRole:task'],
  },
  {
    name: 'drop the ecs:cluster condition of RunTask',
    apply: (template) => {
      let dropped = 0;
      for (const doc of policyDocuments(template)) {
        for (const s of doc.Statement) {
          if (!asArray(s.Action).includes('ecs:RunTask')) continue;
          for (const [operator, keys] of Object.entries<any>(s.Condition ?? {})) {
            if ('ecs:cluster' in keys) {
              delete keys['ecs:cluster'];
              dropped++;
              if (Object.keys(keys).length === 0) delete s.Condition[operator];
            }
          }
          if (s.Condition && Object.keys(s.Condition).length === 0) delete s.Condition;
        }
      }
      if (dropped === 0) throw new Error('no ecs:cluster condition on RunTask to drop');
    },
    failingCalls: ['attack:RunTask-other-cluster'],
  },
  {
    name: 'widen the trust sub to every runner of the org',
    apply: (template) => {
      let widened = 0;
      for (const r of Object.values<any>(template.Resources ?? {})) {
        if (r.Type !== 'AWS::IAM::Role') continue;
        for (const s of asArray<any>(r.Properties?.AssumeRolePolicyDocument?.Statement)) {
          const equals = s.Condition?.StringEquals;
          const subKey = Object.keys(equals ?? {}).find((k) => k.endsWith(':sub'));
          if (subKey === undefined) continue;
          const org = String(equals[subKey]).split('+')[0];
          delete equals[subKey];
          s.Condition.StringLike = { ...(s.Condition.StringLike ?? {}), [subKey]: `${org}+*` };
          widened++;
        }
      }
      if (widened === 0) throw new Error('no web-identity trust with a sub condition');
    },
    failingCalls: ['attack:token-other-runner'],
  },
];
