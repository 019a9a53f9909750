/**
 * No import cycles in src/: every module can be read (and loaded) after the modules it imports.
 * Type-only imports count too: a cycle through `import type` still means two files that can only
 * be understood together (RunnerMonitoring importing the EcsRunner class was one).
 */
import * as path from 'path';
import * as ts from 'typescript';
import { SRC, readSource, tsFilesUnder } from './source-files';

/** Import graph: file -> files it imports (relative imports only; packages and files outside src/ are leaves). */
type Graph = ReadonlyMap<string, readonly string[]>;

/** The src/ file a relative specifier of `from` names, or undefined for a package import. */
function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  if (base.startsWith('../')) return undefined; // outside src/ (e.g. package.json): a leaf
  const found = [`${base}.ts`, `${base}/index.ts`, base].find((candidate) => files.has(candidate));
  if (found === undefined) throw new Error(`${from}: cannot resolve import "${specifier}"`);
  return found;
}

function importGraph(): Graph {
  const files = tsFilesUnder(SRC);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    // preProcessFile lists every import and re-export specifier, `import type` included.
    const { importedFiles } = ts.preProcessFile(readSource(file), true, true);
    const targets = importedFiles
      .map((imported) => resolveSpecifier(file, imported.fileName, known))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle found by depth-first search, each as the files along it (first file repeated at the end). */
function findCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

describe('import graph of src/', () => {
  test('the walker finds a cycle in a synthetic graph, and none in a graph without one', () => {
    // GIVEN a -> b -> c -> a, and d -> a (d is outside the cycle)
    const cyclic: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    // THEN the cycle is reported along its files
    expect(findCycles(cyclic)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    // and a diamond (two paths to one file) is no cycle
    const diamond: Graph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['d.ts']],
      ['c.ts', ['d.ts']],
      ['d.ts', []],
    ]);
    expect(findCycles(diamond)).toEqual([]);
  });

  test('the graph is read from real import statements, type-only imports and re-exports included', () => {
    const graph = importGraph();
    // index.ts re-exports (export * from / export { } from) count as edges
    expect(graph.get('index.ts')).toEqual(expect.arrayContaining(['ecs-runner.ts', 'monitoring/runner-monitoring.ts']));
    // a type-only import is an edge: RunnerMonitoring depends on the IEcsRunner interface
    expect(graph.get('monitoring/runner-monitoring.ts')).toContain('i-ecs-runner.ts');
    // and RunnerMonitoring no longer imports the EcsRunner module, so the old cycle is gone
    expect(graph.get('monitoring/runner-monitoring.ts')).not.toContain('ecs-runner.ts');
    expect(graph.get('ecs-runner.ts')).toContain('monitoring/runner-monitoring.ts');
  });

  test('src/ has no import cycles', () => {
    expect(findCycles(importGraph())).toEqual([]);
  });
});
