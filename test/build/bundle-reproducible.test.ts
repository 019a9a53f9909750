/**
 * The same commit bundles the same bytes everywhere: esbuild's TypeScript settings are fixed in
 * scripts/bundle.mjs (tsconfigRaw), so a local, git-ignored tsconfig.json (jsii writes one) cannot
 * change the registration handler, and so its asset hash, or the CLI.
 */
import { execFileSync } from 'child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const OUTPUTS = ['assets/registration-handler/index.js', 'bin/po-ecs-runner.js'];

/** A tsconfig.json whose every setting would change esbuild's output if it were read. */
const HOSTILE_TSCONFIG = {
  compilerOptions: {
    target: 'ES5',
    useDefineForClassFields: false,
    alwaysStrict: false,
    strict: false,
    experimentalDecorators: true,
    verbatimModuleSyntax: true,
    importsNotUsedAsValues: 'preserve',
    jsx: 'react',
  },
};

/** Bundles a copy of the sources in a fresh directory (with `tsconfig`, when given, at its root). */
function bundleCopy(tsconfig: object | undefined, { raw }: { raw: boolean } = { raw: false }): Map<string, Buffer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'po-bundle-'));
  try {
    // What the bundled entry points may import: the sources, the manifest (the CLI's version), the API spec.
    for (const entry of ['src', 'spec', 'package.json']) {
      cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    mkdirSync(path.join(dir, 'scripts'));
    let script = readFileSync(path.join(ROOT, 'scripts', 'bundle.mjs'), 'utf8');
    // The control: the same script without its pinned settings must be affected by the file.
    if (raw) script = script.replace(/^\s*tsconfigRaw: TSCONFIG_RAW,\n/m, '');
    writeFileSync(path.join(dir, 'scripts', 'bundle.mjs'), script);
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    if (tsconfig) writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    execFileSync(process.execPath, [path.join(dir, 'scripts', 'bundle.mjs')], {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, CI_QUIET: '1' },
    });
    return new Map(OUTPUTS.map((o) => [o, readFileSync(path.join(dir, o))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the esbuild bundles', () => {
  test('are byte for byte the same with and without a hostile local tsconfig.json', () => {
    // GIVEN two checkouts of the same sources, one with a tsconfig.json at its root
    // WHEN both are bundled
    const clean = bundleCopy(undefined);
    const hostile = bundleCopy(HOSTILE_TSCONFIG);
    // THEN every output is identical
    for (const o of OUTPUTS) {
      expect(clean.get(o)!.length).toBeGreaterThan(1000);
      expect(hostile.get(o)!.equals(clean.get(o)!)).toBe(true);
    }
  }, 120_000);

  test('would differ without the pinned settings (the check can fail)', () => {
    const clean = bundleCopy(undefined, { raw: true });
    const hostile = bundleCopy(HOSTILE_TSCONFIG, { raw: true });
    expect(hostile.get(OUTPUTS[0])!.equals(clean.get(OUTPUTS[0])!)).toBe(false);
  }, 120_000);
});
