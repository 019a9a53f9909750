/**
 * Turns the apps the benchmarks run into plain JavaScript once, so every measured process is
 * `node app.js` and no TypeScript compiler runs inside a timed synth.
 *
 * Each file is transpiled on its own (no bundling), keeping the repository's layout under
 * `.bench/app/`: the library loads module by module exactly as the published `lib/` does,
 * `aws-cdk-lib` and `constructs` resolve from the repository's node_modules, the library's
 * `__dirname`-relative handler asset resolves to a copy of `assets/`, and the package name
 * `platform-orchestrator-ecs-runner` resolves to the transpiled `src/index.js`. Nothing is
 * excluded from what an app requires at synth time.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { APP_DIR, ROOT } from './paths';

const SKIP_DIRS = new Set(['node_modules', 'cdk.out']);

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return SKIP_DIRS.has(name) ? [] : tsFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The JavaScript file of a repository TypeScript file, e.g. `examples/basic/app.ts`. */
export function compiledPath(repoRelativeTs: string): string {
  return path.join(APP_DIR, repoRelativeTs.replace(/\.ts$/, '.js'));
}

/**
 * Transpiles src/ (the construct library, not its Lambda handler or CLI, which are bundled
 * separately), examples/ and the benchmark's own apps into `.bench/app/`.
 */
export function compileApps(): void {
  rmSync(APP_DIR, { recursive: true, force: true });
  const entryPoints = [
    ...tsFiles(path.join(ROOT, 'src')).filter(
      (f) => !f.endsWith('.lambda.ts') && !f.includes(`${path.sep}cli${path.sep}`),
    ),
    ...tsFiles(path.join(ROOT, 'examples')),
    ...tsFiles(path.join(ROOT, 'scripts', 'bench', 'apps')),
    path.join(ROOT, 'scripts', 'bench', 'scale-profiles.ts'),
  ];
  buildSync({
    entryPoints,
    outdir: APP_DIR,
    outbase: ROOT,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    logLevel: 'warning',
  });
  const handler = path.join(ROOT, 'assets');
  if (!existsSync(path.join(handler, 'registration-handler', 'index.js'))) {
    throw new Error('assets/registration-handler/index.js is missing: run "npm run bundle" first');
  }
  cpSync(handler, path.join(APP_DIR, 'assets'), { recursive: true });
  const pkg = path.join(APP_DIR, 'node_modules', 'platform-orchestrator-ecs-runner');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'index.js'), "module.exports = require('../../src/index.js');\n");
}
