/**
 * Makes sure the esbuild bundles (assets/registration-handler/index.js, bin/po-ecs-runner.js)
 * are at least as new as their sources, running `node scripts/bundle.mjs` when they are not.
 * A lock file serialises test files that run in parallel workers.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { closeSync, existsSync, openSync, readdirSync, statSync, unlinkSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const HANDLER_BUNDLE = path.join(ROOT, 'assets', 'registration-handler', 'index.js');
export const CLI_BUNDLE = path.join(ROOT, 'bin', 'po-ecs-runner.js');

const SOURCES = [
  path.join(ROOT, 'src', 'registration'),
  path.join(ROOT, 'src', 'cli'),
  path.join(ROOT, 'scripts', 'bundle.mjs'),
];

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

function stale(): boolean {
  const outputs = [HANDLER_BUNDLE, CLI_BUNDLE];
  if (!outputs.every(existsSync)) return true;
  const built = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  return SOURCES.some((s) => newest(s) > built);
}

export function ensureBundled(): void {
  if (!stale()) return;
  const lock = path.join(
    tmpdir(),
    `po-ecs-runner-bundle-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`,
  );
  const deadline = Date.now() + 60_000;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // A lock left by a crashed run is ignored after two minutes.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) unlinkSync(lock);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (stale())
      execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], {
        cwd: ROOT,
        stdio: 'pipe',
        env: { ...process.env, CI_QUIET: '1' },
      });
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
