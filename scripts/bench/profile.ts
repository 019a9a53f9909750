/**
 * Where a synth's CPU time goes: phases (loading, building the construct tree, synthesizing)
 * and a V8 CPU profile of one run, its samples attributed to module loading, garbage collection,
 * the library, each aws-cdk-lib submodule and other packages.
 */
import { readdirSync, readFileSync, rmSync } from 'fs';
import * as path from 'path';
import { compiledPath } from './compile';
import { OUT_DIR } from './paths';
import { runApp } from './run';
import { median } from './stats';

/** Milliseconds per phase, medians. */
export type Phases = Record<string, number>;

/** Milliseconds of CPU samples per category. */
export type ProfileCategories = Record<string, number>;

export function measurePhases(
  exampleJs: string | undefined,
  context: Record<string, unknown>,
  runs: number,
  validation: boolean,
): Phases {
  const samples: Record<string, number[]> = {};
  const out = path.join(OUT_DIR, `phases-${exampleJs ? 'example' : 'empty'}.json`);
  for (let i = 0; i < runs; i++) {
    runApp(compiledPath('scripts/bench/apps/phases-app.ts'), {
      outdir: path.join(OUT_DIR, `phases-${exampleJs ? 'example' : 'empty'}`),
      validation,
      context,
      env: { BENCH_PHASES_OUT: out, ...(exampleJs ? { BENCH_EXAMPLE_JS: exampleJs } : {}) },
    });
    for (const [name, value] of Object.entries<number>(JSON.parse(readFileSync(out, 'utf8')))) {
      (samples[name] ??= []).push(value);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

function category(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return 'V8 and idle';
  if (url.startsWith('node:internal/modules/')) return 'module loading (resolve, read, compile)';
  if (url === '' || url.startsWith('node:')) return 'Node.js internals (fs, path, ...)';
  if (/[\\/]\.bench[\\/]app[\\/]src[\\/]/.test(url)) return 'platform-orchestrator-ecs-runner';
  if (/[\\/]\.bench[\\/]app[\\/]/.test(url)) return 'the app';
  const m = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?:([^\\/]+)[\\/])?/.exec(url);
  if (!m) return 'other';
  if (m[1] !== 'aws-cdk-lib') return m[1];
  if (m[2]?.startsWith('aws-') || m[2] === 'custom-resources' || m[2] === 'region-info') return `aws-cdk-lib/${m[2]}`;
  return 'aws-cdk-lib/core (constructs, tokens, synthesis)';
}

/** One run of the app under `--cpu-prof`; self time of its samples by category. */
export function profileApp(appJs: string, context: Record<string, unknown>, name: string): ProfileCategories {
  const dir = path.join(OUT_DIR, `cpuprofile-${name}`);
  rmSync(dir, { recursive: true, force: true });
  runApp(appJs, {
    outdir: path.join(OUT_DIR, `profile-${name}`),
    validation: false,
    context,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile in ${dir}`);
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const nodes = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
  const totals: ProfileCategories = {};
  profile.samples.forEach((id: number, i: number) => {
    const frame = nodes.get(id).callFrame;
    const key = category(frame.url, frame.functionName);
    totals[key] = (totals[key] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return totals;
}
