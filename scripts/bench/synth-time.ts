/**
 * Synth time of an example against an empty CDK app: both run as whole `node` processes,
 * alternated (empty, example, empty, example, ...) after one discarded warm-up pair, so load
 * from other processes on the machine and disk caches hit both alike.
 */
import * as path from 'path';
import { Assembly, readAssembly } from './assembly';
import { compiledPath } from './compile';
import { OUT_DIR } from './paths';
import { runApp, RunResult } from './run';
import { SCALE_PROFILES, ScaleProfile } from './scale-profiles';
import { median, min } from './stats';

export interface SynthTimeResult {
  /** CDK's built-in CloudFormation validation on (aws-cdk-lib's default) or off. */
  readonly validation: boolean;
  readonly empty: RunResult[];
  readonly example: RunResult[];
  readonly emptyWallMs: number;
  readonly exampleWallMs: number;
  readonly emptyCpuMs: number;
  readonly exampleCpuMs: number;
  readonly wallRatio: number;
  readonly cpuRatio: number;
  /** CPU time of the fastest run of each (contention from other processes only ever adds). */
  readonly emptyMinCpuMs: number;
  readonly exampleMinCpuMs: number;
}

export function measureSynthTime(
  exampleJs: string,
  context: Record<string, unknown>,
  runs: number,
  validation: boolean,
): SynthTimeResult {
  const emptyJs = compiledPath('scripts/bench/apps/empty-app.ts');
  const tag = validation ? 'validation' : 'novalidation';
  const opts = (name: string) => ({ outdir: path.join(OUT_DIR, `synth-${tag}-${name}`), validation, context });
  runApp(emptyJs, opts('empty'));
  runApp(exampleJs, opts('example'));
  const empty: RunResult[] = [];
  const example: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    empty.push(runApp(emptyJs, opts('empty')));
    example.push(runApp(exampleJs, opts('example')));
  }
  const emptyWallMs = median(empty.map((r) => r.wallMs));
  const exampleWallMs = median(example.map((r) => r.wallMs));
  const emptyCpuMs = median(empty.map((r) => r.cpuMs));
  const exampleCpuMs = median(example.map((r) => r.cpuMs));
  return {
    validation,
    empty,
    example,
    emptyWallMs,
    exampleWallMs,
    emptyCpuMs,
    exampleCpuMs,
    wallRatio: exampleWallMs / emptyWallMs,
    cpuRatio: exampleCpuMs / emptyCpuMs,
    emptyMinCpuMs: min(empty.map((r) => r.cpuMs)),
    exampleMinCpuMs: min(example.map((r) => r.cpuMs)),
  };
}

/** What one synth of an app does besides computing: processes, connections, bundlers, assets. */
export interface SynthSideEffects {
  readonly spawned: string[];
  readonly connections: string[];
  readonly lookups: string[];
  readonly bundlers: string[];
  /** Modules loaded, by package: [files, bytes]. */
  readonly modules: Record<string, [number, number]>;
  readonly assembly: Assembly;
}

/** One untimed synth with the guard on (and CDK's default validation), and the assembly it wrote. */
export function synthWithGuard(appJs: string, context: Record<string, unknown>, name: string): SynthSideEffects {
  const outdir = path.join(OUT_DIR, `guard-${name}`);
  const run = runApp(appJs, { outdir, validation: true, guard: true, context });
  return {
    spawned: run.probe!.spawned,
    connections: run.probe!.connections,
    lookups: run.probe!.lookups,
    bundlers: run.probe!.bundlers,
    modules: run.probe!.modules,
    assembly: readAssembly(outdir),
  };
}

/** Synth time of one runner of each profile of the scale app, interleaved with the empty app in rotating order. */
export interface FeatureCost {
  readonly profile: ScaleProfile;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** CPU time of the fastest run. */
  readonly minCpuMs: number;
  readonly resources: number;
}

export function measureFeatureCosts(runs: number): {
  emptyWallMs: number;
  emptyCpuMs: number;
  emptyMinCpuMs: number;
  profiles: FeatureCost[];
} {
  const emptyJs = compiledPath('scripts/bench/apps/empty-app.ts');
  const scaleJs = compiledPath('scripts/bench/apps/scale-app.ts');
  const outdir = (name: string) => path.join(OUT_DIR, `features-${name}`);
  const empty: RunResult[] = [];
  const samples = new Map<ScaleProfile, RunResult[]>(SCALE_PROFILES.map((p) => [p, []]));
  const apps: (ScaleProfile | 'empty')[] = ['empty', ...SCALE_PROFILES];
  for (let i = -1; i < runs; i++) {
    // Each round starts one app later, so no app always runs right after the same other one.
    const round = apps.map((_, k) => apps[(k + Math.max(i, 0)) % apps.length]);
    for (const name of round) {
      const r =
        name === 'empty'
          ? runApp(emptyJs, { outdir: outdir('empty'), validation: false })
          : runApp(scaleJs, {
              outdir: outdir(name),
              validation: false,
              env: { BENCH_PROFILE: name, BENCH_RUNNERS: '1' },
            });
      if (i < 0) continue;
      if (name === 'empty') empty.push(r);
      else samples.get(name)!.push(r);
    }
  }
  return {
    emptyWallMs: median(empty.map((r) => r.wallMs)),
    emptyCpuMs: median(empty.map((r) => r.cpuMs)),
    emptyMinCpuMs: min(empty.map((r) => r.cpuMs)),
    profiles: SCALE_PROFILES.map((profile) => ({
      profile,
      wallMs: median(samples.get(profile)!.map((r) => r.wallMs)),
      cpuMs: median(samples.get(profile)!.map((r) => r.cpuMs)),
      minCpuMs: min(samples.get(profile)!.map((r) => r.cpuMs)),
      resources: readAssembly(outdir(profile)).stacks[0].resources,
    })),
  };
}
