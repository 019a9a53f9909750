/**
 * No module-level mutable state in src/: state lives in the construct tree (see src/singletons.ts),
 * so two apps, or two test cases, never see each other's constructs. Flagged at the top level of a
 * module: `let`/`var` declarations, and `new Map/Set/WeakMap/WeakSet` unless typed ReadonlyMap or
 * ReadonlySet (a constant table). Excluded: the CLI's run-time code (src/cli/**, one process per
 * run) and generated files.
 */
import * as ts from 'typescript';
import { SRC, readSource, tsFilesUnder } from './source-files';

const MUTABLE_COLLECTIONS: ReadonlySet<string> = new Set(['Map', 'Set', 'WeakMap', 'WeakSet']);
const READONLY_TYPES: ReadonlySet<string> = new Set(['ReadonlyMap', 'ReadonlySet']);

/** The module-level mutable state of one file's text, as `line: text` findings. */
function moduleLevelState(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const findings: string[] = [];
  const report = (node: ts.Node, why: string) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    findings.push(`${fileName}:${line}: ${why}: ${node.getText().split('\n')[0]}`);
  };
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const list = statement.declarationList;
    if ((list.flags & ts.NodeFlags.Const) === 0) {
      report(statement, 'module-level let/var');
      continue;
    }
    for (const declaration of list.declarations) {
      const init = declaration.initializer;
      if (init === undefined || !ts.isNewExpression(init) || !ts.isIdentifier(init.expression)) continue;
      if (!MUTABLE_COLLECTIONS.has(init.expression.text)) continue;
      const type = declaration.type;
      const readonlyTyped =
        type !== undefined && ts.isTypeReferenceNode(type) && READONLY_TYPES.has(type.typeName.getText(source));
      if (!readonlyTyped) report(declaration, `module-level new ${init.expression.text}`);
    }
  }
  return findings;
}

/** The files the rule covers: hand-written src/ outside the CLI. */
function coveredFiles(): string[] {
  return tsFilesUnder(SRC).filter((file) => !file.startsWith('cli/') && !file.endsWith('.generated.ts'));
}

describe('module-level mutable state', () => {
  test('the check flags let, var and mutable collections at module level, and nothing else', () => {
    // GIVEN a module with each kind of module-level state, and legal look-alikes
    const fixture = [
      'let counter = 0;',
      'var legacy = 1;',
      'export let exported: string | undefined;',
      'const seen = new WeakSet<object>();',
      'const byRoot = new WeakMap<object, string>();',
      'export const cache = new Map<string, number>();',
      'const names = new Set(["a"]);',
      // legal: constants, readonly-typed tables, state inside functions and classes
      'const LIMIT = 5;',
      'const ACTIONS: ReadonlySet<string> = new Set(["ssm:DescribeParameters"]);',
      'const TABLE: ReadonlyMap<string, number> = new Map([["a", 1]]);',
      'function f() { let local = 0; const m = new Map(); return [local, m]; }',
      'class Record { public readonly claimed = new Map<string, string>(); }',
    ].join('\n');
    // WHEN checked
    const findings = moduleLevelState('fixture.ts', fixture);
    // THEN exactly the seven lines of state are reported, by line
    expect(findings.map((f) => f.split(':')[1])).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  test('the check covers the construct code of src/ (and skips the CLI and generated files)', () => {
    const files = coveredFiles();
    expect(files).toEqual(
      expect.arrayContaining(['ecs-runner.ts', 'monitoring/runner-monitoring.ts', 'runner-ids.ts', 'singletons.ts']),
    );
    expect(files.some((file) => file.startsWith('cli/') || file.endsWith('.generated.ts'))).toBe(false);
  });

  test('src/ has no module-level mutable state', () => {
    const findings = coveredFiles().flatMap((file) => moduleLevelState(file, readSource(file)));
    expect(findings).toEqual([]);
  });
});
