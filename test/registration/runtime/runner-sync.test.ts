/**
 * ruleSpec: the one normalisation of a rule's environment type and project, used for the rules
 * the registration creates and for the rules an undo gives back.
 */
import { ruleKey, ruleSpec } from '../../../src/registration/runtime/runner-sync';

describe('ruleSpec', () => {
  test("leaves out '' and absent ids: both mean every environment type or project", () => {
    // GIVEN rules as declared and as the API returns them (empty strings for unset fields)
    // WHEN / THEN
    expect(ruleSpec({ env_type_id: '', project_id: 'shop' })).toStrictEqual({ project_id: 'shop' });
    expect(ruleSpec({ env_type_id: 'development', project_id: '' })).toStrictEqual({ env_type_id: 'development' });
    expect(ruleSpec({})).toStrictEqual({});
    expect(ruleSpec({ env_type_id: 'development', project_id: 'shop' })).toStrictEqual({
      env_type_id: 'development',
      project_id: 'shop',
    });
  });

  test('keeps what identifies a rule, and nothing else', () => {
    // GIVEN a rule read from the API, with its id and runner
    const rule = { id: 'rule-1', runner_id: 'r1', env_type_id: 'development', project_id: '' };
    // THEN the spec has its pair only, and is the same rule for ownership
    expect(ruleSpec(rule)).toStrictEqual({ env_type_id: 'development' });
    expect(ruleKey(ruleSpec(rule))).toBe(ruleKey(rule));
  });
});
