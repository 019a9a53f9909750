/**
 * The published manifest runs nothing at install time, and ships what it names: `npm ci` in the
 * repository bundles nothing (`npm run synth` and `npm test` bundle), `npm pack` builds (prepack).
 */
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** The lifecycle scripts npm runs when the package is installed (from the registry, a tarball or git). */
const INSTALL_TIME = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare'];

describe('package.json', () => {
  test('has no script that runs when a user installs the package', () => {
    expect(Object.keys(manifest.scripts).filter((s) => INSTALL_TIME.includes(s))).toEqual([]);
  });

  test('builds before it is packed, and the README commands bundle what they need', () => {
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(manifest.scripts.build).toMatch(/^npm run bundle && npm run compile/);
    expect(manifest.scripts.synth).toMatch(/^node scripts\/bundle\.mjs && /);
    expect(manifest.scripts.test).toMatch(/^node scripts\/bundle\.mjs && jest/);
  });

  test('npm pack ships the entry points, the handler bundle and the CLI, and no sources or scripts', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'API.md']));
    expect(files.filter((f) => /^(src|test|scripts|examples|spec)\//.test(f))).toEqual([]);
    // What the manifest points at is covered by `files` (it exists once `npm run build` ran).
    const patterns: string[] = manifest.files;
    const covered = (f: string) =>
      patterns.some((p) =>
        new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*\*\//g, '§DIRS§')
            .replace(/\*\*/g, '§ANY§')
            .replace(/\*/g, '[^/]*')
            .replace(/§DIRS§/g, '(?:.*/)?')
            .replace(/§ANY§/g, '.*')}$`,
        ).test(f),
      );
    for (const f of [manifest.main, manifest.types, ...Object.values(manifest.bin as Record<string, string>)]) {
      expect([f, covered(f)]).toEqual([f, true]);
    }
    expect(covered('assets/registration-handler/index.js')).toBe(true);
    expect(covered('scripts/bundle.mjs')).toBe(false);
  }, 60_000);
});
