/**
 * The conformance rules can fail: each mutation of a runner's template (PassRole dropped, RunTask's
 * ecs:cluster condition dropped, the trust's `sub` widened) makes exactly the calls it breaks fail,
 * compared with the same template unmutated.
 */
import { evaluateOffline } from '../../src/cli/check';
import { MUTATIONS } from './mutations';
import { synthesizeExample } from './templates';

const failing = (template: any) =>
  new Set(evaluateOffline(template).flatMap((r) => r.results.filter((x) => !x.ok).map((x) => x.call.id)));

describe.each(['basic', 'complete-production'])('examples/%s', (example) => {
  const [stack] = synthesizeExample(example);
  const baseline = failing(stack.template);

  test.each(MUTATIONS.map((m) => [m.name, m] as const))('%s: the suite reports it', (_name, mutation) => {
    // GIVEN the example's template with the mutation
    const mutated = structuredClone(stack.template);
    mutation.apply(mutated);
    // WHEN the contract is replayed
    const now = failing(mutated);
    // THEN exactly the calls the mutation breaks fail in addition to the baseline
    const added = [...now].filter((id) => !baseline.has(id)).sort();
    expect(added).toEqual([...mutation.failingCalls].sort());
  });
});
