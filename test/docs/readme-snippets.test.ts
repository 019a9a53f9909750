/**
 * The TypeScript examples of the docs compile against the current API, and the complete ones run.
 *
 * Every ```ts / ```typescript block of README.md, docs/*.md and examples/*\/README.md is type-checked
 * with the TypeScript compiler API, with tsconfig.dev.json's compiler options (so
 * 'platform-orchestrator-ecs-runner' is src/index.ts), in one in-memory Program: each snippet is
 * its own module file. A failure names the document, the line in it and the diagnostic.
 *
 * Snippets are fragments: they use `stack`, `runner` or `vpc` from earlier text, and often leave out
 * imports. Instead of editing snippets, each gets a preamble made from PREAMBLE below, keyed by the
 * free identifiers the snippet uses (names it declares or imports itself are never added):
 *
 * - a name exported by the library is imported from 'platform-orchestrator-ecs-runner';
 * - a name of CDK_CORE is imported from 'aws-cdk-lib', a name of CDK_MODULES as that module's namespace;
 * - `app`, `stack`, `vpc` and `runner` are the fixtures of FIXTURES (with what they need in turn).
 *
 * Two options of tsconfig.dev.json are turned off: `noUnusedLocals` and `noUnusedParameters`. A
 * snippet declares values for the reader's next step (`const runner = ...` in the quick start), so
 * an unused local is the point of the example, not a mistake.
 *
 * A snippet that creates its own `App` (`const app = new App()`) is a complete app: it is also
 * transpiled, run and synthesized, and must yield a runner stack with its RunnerCreateBody output.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import type { App } from 'aws-cdk-lib';
import { ensureBundled } from '../support/bundles';

const ROOT = path.join(__dirname, '..', '..');
const LIBRARY = 'platform-orchestrator-ecs-runner';
const TSCONFIG = path.join(ROOT, 'tsconfig.dev.json');
/** Where the in-memory snippet files live (never written): inside the project, for module resolution. */
const VIRTUAL_DIR = path.join(ROOT, 'test', 'docs', '__snippets__');
const CDK_DIR = path.dirname(require.resolve('aws-cdk-lib/package.json'));

/** Named exports of 'aws-cdk-lib' a snippet may use without importing them. */
const CDK_CORE = ['App', 'Aws', 'CfnOutput', 'Duration', 'Fn', 'RemovalPolicy', 'Size', 'Stack', 'Tags'];
/** Namespaces a snippet may use without importing them, as the CDK docs name them. */
const CDK_MODULES: Record<string, string> = {
  cloudwatch: 'aws-cdk-lib/aws-cloudwatch',
  ec2: 'aws-cdk-lib/aws-ec2',
  ecs: 'aws-cdk-lib/aws-ecs',
  iam: 'aws-cdk-lib/aws-iam',
  kms: 'aws-cdk-lib/aws-kms',
  logs: 'aws-cdk-lib/aws-logs',
  s3: 'aws-cdk-lib/aws-s3',
  secretsmanager: 'aws-cdk-lib/aws-secretsmanager',
  sns: 'aws-cdk-lib/aws-sns',
  ssm: 'aws-cdk-lib/aws-ssm',
};
/** Values the README's text introduces before a fragment uses them, in declaration order. */
const FIXTURES: { name: string; code: string; needs: string[] }[] = [
  { name: 'app', code: 'const app = new App();', needs: ['App'] },
  {
    name: 'stack',
    code: "const stack = new Stack(app, 'EcsRunner', { env: { account: '123456789012', region: 'eu-central-1' } });",
    needs: ['Stack', 'app'],
  },
  {
    name: 'vpc',
    code: [
      "const vpc = new ec2.Vpc(stack, 'Vpc', {",
      '  maxAzs: 2,',
      '  subnetConfiguration: [',
      "    { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },",
      "    { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },",
      "    { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },",
      '  ],',
      '});',
    ].join('\n'),
    needs: ['ec2', 'stack'],
  },
  {
    name: 'runner',
    code: "const runner = new EcsRunner(stack, 'Runner', { orgId: 'my-org', network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']) });",
    needs: ['EcsRunner', 'RunnerNetwork', 'stack'],
  },
];

export interface Snippet {
  /** Document, relative to the repository root. */
  readonly doc: string;
  /** 1-based line of the snippet's first code line in the document. */
  readonly line: number;
  readonly code: string;
}

/** The ```ts and ```typescript blocks of a Markdown text (CommonMark fences, ``` or ~~~, any indent). */
export function extractSnippets(doc: string, text: string): Snippet[] {
  const lines = text.split(/\r?\n/);
  const snippets: Snippet[] = [];
  let open: { indent: number; fence: string; lang: string; start: number; body: string[] } | undefined;
  lines.forEach((line, i) => {
    if (open === undefined) {
      const m = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
      if (m) open = { indent: m[1].length, fence: m[2], lang: m[3].toLowerCase(), start: i + 2, body: [] };
      return;
    }
    const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line);
    if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
      if (open.lang === 'ts' || open.lang === 'typescript') {
        snippets.push({ doc, line: open.start, code: open.body.join('\n') });
      }
      open = undefined;
      return;
    }
    // Content lines lose at most the opening fence's indentation (fences in list items).
    const strip = Math.min(open.indent, /^ */.exec(line)![0].length);
    open.body.push(line.slice(strip));
  });
  if (open !== undefined) throw new Error(`${doc}:${open.start - 1}: code fence ${open.fence} is never closed`);
  return snippets;
}

/** The documents whose snippets are checked. */
export function documents(): string[] {
  const docsDir = path.join(ROOT, 'docs');
  const examplesDir = path.join(ROOT, 'examples');
  return [
    'README.md',
    ...readdirSync(docsDir)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
    ...readdirSync(examplesDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join(examplesDir, e.name, 'README.md')))
      .map((e) => `examples/${e.name}/README.md`)
      .sort(),
  ];
}

/** Names a snippet declares or imports at its top level, and the identifiers it refers to. */
export function scopeOf(code: string): { declared: Set<string>; used: Set<string> } {
  const sf = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const declared = new Set<string>();
  const addBinding = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) declared.add(name.text);
    else name.elements.forEach((e) => ts.isBindingElement(e) && addBinding(e.name));
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && st.importClause) {
      const { name, namedBindings } = st.importClause;
      if (name) declared.add(name.text);
      if (namedBindings && ts.isNamespaceImport(namedBindings)) declared.add(namedBindings.name.text);
      if (namedBindings && ts.isNamedImports(namedBindings))
        namedBindings.elements.forEach((e) => declared.add(e.name.text));
    } else if (ts.isImportEqualsDeclaration(st)) {
      declared.add(st.name.text);
    } else if (ts.isVariableStatement(st)) {
      st.declarationList.declarations.forEach((d) => addBinding(d.name));
    } else if (
      (ts.isFunctionDeclaration(st) ||
        ts.isClassDeclaration(st) ||
        ts.isInterfaceDeclaration(st) ||
        ts.isTypeAliasDeclaration(st) ||
        ts.isEnumDeclaration(st)) &&
      st.name
    ) {
      declared.add(st.name.text);
    }
  }
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const p = node.parent;
      const isMemberName =
        (ts.isPropertyAccessExpression(p) && p.name === node) ||
        (ts.isPropertyAssignment(p) && p.name === node) ||
        (ts.isQualifiedName(p) && p.right === node) ||
        ((ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) && p.propertyName === node);
      if (!isMemberName) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { declared, used };
}

/** The preamble for a snippet: imports and fixtures for the free names it uses, as documented above. */
export function preambleFor(code: string, libraryExports: ReadonlySet<string>): string {
  const { declared, used } = scopeOf(code);
  const needed = new Set([...used].filter((n) => !declared.has(n)));
  // Fixtures need other names in turn (runner -> stack -> app -> App), unless the snippet has them.
  for (let i = FIXTURES.length - 1; i >= 0; i--) {
    if (needed.has(FIXTURES[i].name)) FIXTURES[i].needs.filter((n) => !declared.has(n)).forEach((n) => needed.add(n));
  }
  const out: string[] = [];
  const core = CDK_CORE.filter((n) => needed.has(n));
  if (core.length > 0) out.push(`import { ${core.join(', ')} } from 'aws-cdk-lib';`);
  for (const [ns, mod] of Object.entries(CDK_MODULES)) if (needed.has(ns)) out.push(`import * as ${ns} from '${mod}';`);
  const lib = [...libraryExports].filter((n) => needed.has(n) && !CDK_CORE.includes(n)).sort();
  if (lib.length > 0) out.push(`import { ${lib.join(', ')} } from '${LIBRARY}';`);
  for (const f of FIXTURES) if (needed.has(f.name)) out.push(f.code);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

interface CheckedSnippet extends Snippet {
  readonly file: string;
  readonly preamble: string;
  readonly errors: string[];
}

/** The namespaces (`aws_s3`, `assertions`, ...) that aws-cdk-lib's entry point adds to its core. */
function cdkRootNamespaces(): Set<string> {
  const index = readFileSync(path.join(CDK_DIR, 'index.d.ts'), 'utf8');
  return new Set([...index.matchAll(/^export \* as (\w+) from/gm)].map((m) => m[1]));
}

/**
 * Whether every import of 'aws-cdk-lib' in the snippets is a named import of a core name. Then the
 * Program resolves 'aws-cdk-lib' to its core entry point: the same declarations, without the
 * ~1,600 declaration files of the 352 service namespaces, which halves the time to check.
 */
function coreSuffices(snippets: Snippet[]): boolean {
  const namespaces = cdkRootNamespaces();
  return snippets.every((s) =>
    ts.createSourceFile('snippet.ts', s.code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS).statements.every((st) => {
      if (ts.isImportEqualsDeclaration(st)) return false;
      if (!ts.isImportDeclaration(st) || (st.moduleSpecifier as ts.StringLiteral).text !== 'aws-cdk-lib') return true;
      const bindings = st.importClause?.namedBindings;
      if (st.importClause?.name || (bindings && !ts.isNamedImports(bindings))) return false;
      return (bindings?.elements ?? []).every((e) => !namespaces.has((e.propertyName ?? e.name).text));
    }),
  );
}

function compilerOptions(snippets: Snippet[]): ts.CompilerOptions {
  const config = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, TSCONFIG);
  const options = { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
  if (coreSuffices(snippets)) {
    const core = path.relative(options.baseUrl ?? ROOT, path.join(CDK_DIR, 'core', 'index.d.ts'));
    options.paths = { ...options.paths, 'aws-cdk-lib': [core] };
  }
  return options;
}

/** A compiler host that serves the snippet files from memory and caches every parsed file. */
function hostWith(options: ts.CompilerOptions, files: Map<string, string>): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  const cache = new Map<string, ts.SourceFile | undefined>();
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(path.resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => files.get(path.resolve(f)) ?? readFile.call(host, f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const text = files.get(path.resolve(f));
    if (text !== undefined) return ts.createSourceFile(f, text, languageVersion, true);
    if (!cache.has(f)) cache.set(f, getSourceFile.call(host, f, languageVersion, onError, shouldCreate));
    return cache.get(f);
  };
  return host;
}

/** Every exported name (values and types) of the library's entry point. */
function exportsOf(program: ts.Program, file: string): Set<string> {
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file);
  const symbol = sf && checker.getSymbolAtLocation(sf);
  if (!symbol) throw new Error(`cannot read the exports of ${file}`);
  return new Set(checker.getExportsOfModule(symbol).map((s) => s.getName()));
}

function format(s: Snippet & { preamble: string }, d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  if (!d.file || d.start === undefined) return `${s.doc}:${s.line}: TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const preambleLines = s.preamble === '' ? 0 : s.preamble.split('\n').length - 1;
  const source = d.file.text.split('\n')[line];
  if (line < preambleLines) {
    return `${s.doc}:${s.line}: in the test's preamble for this snippet, TS${d.code}: ${message}\n    ${source}`;
  }
  const docLine = s.line + line - preambleLines;
  return `${s.doc}:${docLine}:${character + 1}: TS${d.code}: ${message}\n    ${source}`;
}

/** Type-checks snippets in one Program; returns each with its formatted diagnostics. */
export function checkSnippets(snippets: Snippet[]): CheckedSnippet[] {
  const options = compilerOptions(snippets);
  const entry = path.join(ROOT, 'src', 'index.ts');
  const files = new Map<string, string>();
  const host = hostWith(options, files);
  // A first Program over the entry point lists the library's exports; the second reuses its files.
  const first = ts.createProgram({ rootNames: [entry], options, host });
  const libraryExports = exportsOf(first, entry);
  const checked = snippets.map((s) => {
    const file = path.join(VIRTUAL_DIR, `${s.doc.replace(/[^A-Za-z0-9]/g, '_')}_L${s.line}.ts`);
    const preamble = preambleFor(s.code, libraryExports);
    files.set(file, `${preamble}${s.code}\n`);
    return { ...s, file, preamble };
  });
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host, oldProgram: first });
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (global.length > 0) throw new Error(ts.formatDiagnostics(global, host));
  return checked.map((s) => {
    const sf = program.getSourceFile(s.file)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    return { ...s, errors: diagnostics.map((d) => format(s, d)) };
  });
}

/** Transpiles a snippet with its preamble and runs it; returns its top-level `app`. */
function runCompleteApp(s: CheckedSnippet): App {
  const source = `${s.preamble}${s.code}\nexport { app as __snippetApp };\n`;
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: s.file,
  });
  const mod = { exports: {} as Record<string, unknown> };
  // Jest's require: maps 'platform-orchestrator-ecs-runner' to src/index.ts like the rest of the tests.
  new Function('exports', 'require', 'module', outputText)(mod.exports, require, mod);
  return mod.exports.__snippetApp as App;
}

const SNIPPETS = documents().flatMap((doc) => extractSnippets(doc, readFileSync(path.join(ROOT, doc), 'utf8')));
const COMPLETE = SNIPPETS.filter((s) => scopeOf(s.code).declared.has('app'));
/**
 * A wrong snippet, checked in the same Program as the real ones (no second Program), to show that
 * a broken example fails, at its line: line 6 of this text has a misspelt prop.
 */
const BROKEN = extractSnippets(
  'BROKEN.md',
  ['# Doc', '', '```ts', "new EcsRunner(stack, 'R', {", "  orgId: 'o',", '  networc: undefined,', '});', '```'].join(
    '\n',
  ),
);

const key = (s: Snippet) => `${s.doc}:${s.line}`;
let checked: Map<string, CheckedSnippet>;

beforeAll(() => {
  checked = new Map(checkSnippets([...SNIPPETS, ...BROKEN]).map((c) => [key(c), c]));
});

describe('the TypeScript snippets of the docs', () => {
  test('the README has snippets, and at least one complete app', () => {
    expect(SNIPPETS.filter((s) => s.doc === 'README.md').length).toBeGreaterThan(0);
    expect(COMPLETE.length).toBeGreaterThan(0);
  });

  test.each(SNIPPETS.map((s) => [key(s), s] as const))('%s compiles against the current API', (_, s) => {
    const { errors } = checked.get(key(s))!;
    if (errors.length > 0) throw new Error(`the snippet at ${key(s)} does not compile:\n${errors.join('\n')}`);
  });

  test.each(COMPLETE.map((s) => [key(s), s] as const))('%s is a complete app that synthesizes a runner', (_, s) => {
    ensureBundled();
    const app = runCompleteApp(checked.get(key(s))!);
    const stacks = app.synth().stacks;
    expect(stacks.length).toBeGreaterThan(0);
    for (const stack of stacks) {
      const resources = Object.values(stack.template.Resources as Record<string, { Type: string }>);
      expect(resources.map((r) => r.Type)).toContain('AWS::ECS::Cluster');
      expect(Object.keys(stack.template.Outputs ?? {}).some((k) => k.includes('RunnerCreateBody'))).toBe(true);
    }
  });
});

describe('the Quick start', () => {
  test('copied verbatim, synthesizes a runner without a warning or error a newcomer cannot act on', () => {
    // GIVEN the README's first complete app under "## Quick start", exactly as written
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
    const start = readme.indexOf('## Quick start') + 1;
    const end = readme.findIndex((l, i) => i >= start && l.startsWith('## '));
    const quickStart = COMPLETE.find((s) => s.doc === 'README.md' && s.line > start && s.line < end);
    expect(quickStart).toBeDefined();
    expect(checked.get(key(quickStart!))!.preamble).not.toMatch(/const (app|stack)/);
    ensureBundled();
    // WHEN it is synthesized
    const assembly = runCompleteApp(checked.get(key(quickStart!))!).synth();
    // THEN it has a runner, and CDK and the library say nothing: no warning, no error
    const messages = assembly.stacks.flatMap((st) =>
      st.messages.filter((m) => m.level !== 'info').map((m) => `${m.level} at ${m.id}: ${m.entry.data}`),
    );
    expect(messages).toEqual([]);
    expect(
      assembly.stacks.map((st) => Object.keys(st.template.Outputs ?? {}).some((k) => k.includes('RunnerCreateBody'))),
    ).toEqual([true]);
  });
});

describe('the snippet checker', () => {
  test('reports a wrong snippet with its document, line, column and diagnostic', () => {
    expect(checked.get('BROKEN.md:4')!.errors).toEqual([
      expect.stringMatching(/^BROKEN\.md:6:3: TS2561: .*'networc' does not exist in type 'EcsRunnerProps'/),
    ]);
  });

  test('adds only the preamble a snippet needs, never what it declares itself', () => {
    const exportsOfLib = new Set(['EcsRunner', 'RunnerVpcEndpoints']);
    const own =
      "import { EcsRunner } from 'platform-orchestrator-ecs-runner';\nconst runner = new EcsRunner(stack, 'R', { orgId: 'o', vpc });";
    const preamble = preambleFor(own, exportsOfLib);
    expect(preamble.split('\n')[0]).toBe("import { App, Stack } from 'aws-cdk-lib';");
    expect(preamble).not.toMatch(/const runner|from 'platform-orchestrator-ecs-runner'/);
    expect(preamble).toMatch(/import \* as ec2[\s\S]*const app[\s\S]*const stack[\s\S]*const vpc/);
    expect(preambleFor('const x = 1;', exportsOfLib)).toBe('');
  });

  test('extracts ts and typescript blocks only, at their first code line', () => {
    const text = [
      '```sh',
      'x',
      '```',
      '- item',
      '  ```typescript',
      '  const a = 1;',
      '  ```',
      '~~~ts',
      'b',
      '~~~',
    ].join('\n');
    expect(extractSnippets('X.md', text)).toEqual([
      { doc: 'X.md', line: 6, code: 'const a = 1;' },
      { doc: 'X.md', line: 9, code: 'b' },
    ]);
  });
});
