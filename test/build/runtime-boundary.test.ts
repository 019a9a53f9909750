/**
 * Run-time code (what runs in a Lambda function or in the CLI: the API client, the runner
 * reconciliation, the handlers) lives apart from construct code, as aws-cdk-lib keeps its
 * provider runtimes: it is excluded from jsii (package.json `jsii.excludeTypescript`) and bundled
 * by esbuild. Construct code, which jsii compiles, never imports it: not even a type, so what a
 * jsii consumer loads and what the bundles contain stay independent.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXCLUDED: string[] = manifest.jsii.excludeTypescript;

/** A jsii `excludeTypescript` glob as a regular expression over repository-relative paths. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const excludedPatterns = EXCLUDED.map(globToRegExp);
const isRuntime = (file: string): boolean => excludedPatterns.some((p) => p.test(file));

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir))
    .sort()
    .flatMap((name) => {
      const rel = `${dir}/${name}`;
      if (statSync(path.join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
      return rel.endsWith('.ts') ? [rel] : [];
    });
}

interface Import {
  readonly from: string;
  /** The imported file (repository-relative), for relative specifiers that resolve to one. */
  readonly to: string;
  readonly typeOnly: boolean;
}

/** The relative imports and re-exports of a TypeScript source, resolved to files of `files`. */
function importsOf(file: string, text: string, files: ReadonlySet<string>): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier.text));
    const to = [`${base}.ts`, `${base}/index.ts`, base].find((c) => files.has(c));
    if (to === undefined) {
      // Data outside the sources (package.json) is no module of either kind.
      if (!base.startsWith('src/') || base.endsWith('.json')) return;
      throw new Error(`${file}: cannot resolve import "${specifier.text}"`);
    }
    out.push({ from: file, to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.StringLiteral, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every import of construct (jsii-compiled) code that reaches run-time code. */
function boundaryViolations(sources: ReadonlyMap<string, string>): Import[] {
  const files = new Set(sources.keys());
  return [...sources]
    .filter(([file]) => !isRuntime(file))
    .flatMap(([file, text]) => importsOf(file, text, files))
    .filter((i) => isRuntime(i.to));
}

const SRC = new Map(sourceFiles('src').map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')]));

describe('run-time code and construct code', () => {
  test('the run-time layout is excluded from jsii: the registration runtime, handlers and the CLI', () => {
    // GIVEN the files under src/
    // THEN the registration's run-time modules and the CLI are excluded, its construct modules are not
    for (const f of [
      'src/registration/runtime/api-client.ts',
      'src/registration/runtime/transport.ts',
      'src/registration/runtime/runner-diff.ts',
      'src/registration/runtime/runner-sync.ts',
      'src/registration/runtime/registration.lambda.ts',
      'src/cli/po-ecs-runner.ts',
    ]) {
      expect(SRC.has(f)).toBe(true);
      expect({ f, runtime: isRuntime(f) }).toEqual({ f, runtime: true });
    }
    for (const f of [
      'src/index.ts',
      'src/ecs-runner.ts',
      'src/registration/runner-registration.ts',
      'src/registration/runner-create-body.ts',
      'src/registration/api-defaults.ts',
    ]) {
      expect({ f, runtime: isRuntime(f) }).toEqual({ f, runtime: false });
    }
    // AND no run-time module is left beside the construct code (a new one belongs in runtime/)
    const stray = [...SRC.keys()].filter(
      (f) => /(api-client|runner-sync|runner-diff|transport)\.ts$/.test(f) && !isRuntime(f),
    );
    expect(stray).toEqual([]);
  });

  test('no construct module imports a run-time module, not even a type', () => {
    // GIVEN the import graph of src/
    const files = new Set(SRC.keys());
    const edges = [...SRC].flatMap(([f, text]) => importsOf(f, text, files));
    // (the graph is real: construct code imports the shared body module, run-time code imports construct-free modules)
    expect(edges).toContainEqual({
      from: 'src/ecs-runner.ts',
      to: 'src/registration/runner-create-body.ts',
      typeOnly: false,
    });
    expect(edges.some((e) => e.from === 'src/registration/runtime/registration.lambda.ts')).toBe(true);
    // THEN no edge goes from jsii-compiled code into run-time code
    expect(boundaryViolations(SRC)).toEqual([]);
  });

  test('the check finds an import of run-time code, a type-only one included', () => {
    // GIVEN construct code that imports the API client, once for a value and once for a type
    const sources = new Map(SRC);
    sources.set(
      'src/registration/runner-registration.ts',
      "import { OrchestratorClient } from './runtime/api-client';\nexport const c = OrchestratorClient;\n",
    );
    sources.set(
      'src/registration/runner-create-body.ts',
      "import type { Runner } from './runtime/api-client';\nexport type R = Runner;\n",
    );
    // THEN both are reported
    expect(boundaryViolations(sources)).toEqual([
      {
        from: 'src/registration/runner-create-body.ts',
        to: 'src/registration/runtime/api-client.ts',
        typeOnly: true,
      },
      {
        from: 'src/registration/runner-registration.ts',
        to: 'src/registration/runtime/api-client.ts',
        typeOnly: false,
      },
    ]);
  });

  test('the handler bundle is built from the run-time handler, which the construct finds as an asset', () => {
    // GIVEN the bundles scripts/bundle.mjs builds
    const bundle = readFileSync(path.join(ROOT, 'scripts', 'bundle.mjs'), 'utf8');
    const entries = [...bundle.matchAll(/entry: '([^']+)'/g)].map((m) => m[1]);
    // THEN each entry exists and is run-time code, the registration handler among them
    expect(entries).toContain('src/registration/runtime/registration.lambda.ts');
    for (const e of entries) {
      expect(existsSync(path.join(ROOT, e))).toBe(true);
      expect({ e, runtime: isRuntime(e) }).toEqual({ e, runtime: true });
    }
  });
});
