/**
 * Runners per stack: one stack with 1, 10 and 50 runners of a profile, each synthesized as its
 * own process; resources, outputs and template bytes of the stack, the marginal cost of a runner,
 * and how many runners fit under CloudFormation's limits, verified by synthesizing that many with
 * CDK's own 500-resource check on.
 */
import * as path from 'path';
import { readAssembly, StackTemplate } from './assembly';
import { compiledPath } from './compile';
import { countResources } from './cost-model';
import { OUT_DIR } from './paths';
import { runApp } from './run';
import { median } from './stats';

/** CloudFormation quotas (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). */
export const CFN_LIMITS = { resources: 500, templateBytes: 1_000_000, outputs: 200 } as const;

export const SCALE_COUNTS = [1, 10, 50] as const;

export interface ScalePoint {
  readonly runners: number;
  readonly resources: number;
  readonly outputs: number;
  readonly bytes: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly byType: Record<string, number>;
  readonly template: StackTemplate;
}

export interface ScaleFit {
  /** Resources every runner adds. */
  readonly resourcesPerRunner: number;
  /** Resources the stack has once, whatever the number of runners. */
  readonly sharedResources: number;
  readonly outputsPerRunner: number;
  readonly sharedOutputs: number;
  /** Template bytes every runner adds (least squares over the measured points). */
  readonly bytesPerRunner: number;
  readonly sharedBytes: number;
  /** Whether every measured point lies on the resource line (shared pieces really are shared). */
  readonly linear: boolean;
  /** Resource types that grow with the runners, and by how much per runner. */
  readonly perRunnerByType: Record<string, number>;
  /** Resource types present once per stack. */
  readonly sharedByType: Record<string, number>;
  readonly maxByResources: number;
  readonly maxByBytes: number;
  readonly maxByOutputs: number;
  readonly maxRunners: number;
  /** The binding limit. */
  readonly limitedBy: 'resources' | 'template bytes' | 'outputs';
}

export interface ScaleVerification {
  readonly runners: number;
  readonly ok: boolean;
  readonly resources?: number;
  readonly bytes?: number;
  readonly error?: string;
}

export interface ScaleResult {
  readonly profile: 'basic' | 'production';
  readonly points: ScalePoint[];
  readonly fit: ScaleFit;
  /** Synth of `maxRunners` (must succeed) and `maxRunners + 1` (must fail or exceed a limit), CDK's check on. */
  readonly atMax: ScaleVerification;
  readonly pastMax: ScaleVerification;
}

function theStack(outdir: string): StackTemplate {
  const { stacks } = readAssembly(outdir);
  if (stacks.length !== 1) throw new Error(`expected one stack in ${outdir}, found ${stacks.length}`);
  return stacks[0];
}

function synthScale(profile: string, runners: number, raiseLimit: boolean, allowFailure = false) {
  const outdir = path.join(OUT_DIR, `scale-${profile}-${runners}${raiseLimit ? '' : '-cdkcheck'}`);
  const run = runApp(compiledPath('scripts/bench/apps/scale-app.ts'), {
    outdir,
    validation: false,
    allowFailure,
    env: { BENCH_PROFILE: profile, BENCH_RUNNERS: String(runners), BENCH_RAISE_LIMIT: raiseLimit ? '1' : '0' },
  });
  return { run, outdir };
}

/** Least-squares slope and intercept of y over x. */
function line(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** The largest n with shared + perRunner * n <= limit. */
function fits(limit: number, shared: number, perRunner: number): number {
  return perRunner <= 0 ? Infinity : Math.floor((limit - shared) / perRunner + 1e-9);
}

export function fitScale(points: readonly ScalePoint[]): ScaleFit {
  const [first, second] = points;
  const span = second.runners - first.runners;
  const resourcesPerRunner = (second.resources - first.resources) / span;
  const sharedResources = first.resources - resourcesPerRunner * first.runners;
  const outputsPerRunner = (second.outputs - first.outputs) / span;
  const sharedOutputs = first.outputs - outputsPerRunner * first.runners;
  const bytes = line(
    points.map((p) => p.runners),
    points.map((p) => p.bytes),
  );
  const linear = points.every((p) => p.resources === sharedResources + resourcesPerRunner * p.runners);
  const perRunnerByType: Record<string, number> = {};
  const sharedByType: Record<string, number> = {};
  for (const type of new Set([...Object.keys(first.byType), ...Object.keys(second.byType)])) {
    const per = ((second.byType[type] ?? 0) - (first.byType[type] ?? 0)) / span;
    const shared = (first.byType[type] ?? 0) - per * first.runners;
    if (per > 0) perRunnerByType[type] = per;
    if (shared > 0) sharedByType[type] = shared;
  }
  const maxByResources = fits(CFN_LIMITS.resources, sharedResources, resourcesPerRunner);
  const maxByBytes = fits(CFN_LIMITS.templateBytes, bytes.intercept, bytes.slope);
  const maxByOutputs = fits(CFN_LIMITS.outputs, sharedOutputs, outputsPerRunner);
  const maxRunners = Math.min(maxByResources, maxByBytes, maxByOutputs);
  return {
    resourcesPerRunner,
    sharedResources,
    outputsPerRunner,
    sharedOutputs,
    bytesPerRunner: bytes.slope,
    sharedBytes: bytes.intercept,
    linear,
    perRunnerByType,
    sharedByType,
    maxByResources,
    maxByBytes,
    maxByOutputs,
    maxRunners,
    limitedBy: maxRunners === maxByResources ? 'resources' : maxRunners === maxByBytes ? 'template bytes' : 'outputs',
  };
}

function verify(profile: string, runners: number): ScaleVerification {
  const { run, outdir } = synthScale(profile, runners, false, true);
  if (!run.ok) {
    const reason = /Number of resources in stack '[^']*': \d+ is greater than allowed maximum of \d+/.exec(
      run.stderr,
    )?.[0];
    return { runners, ok: false, error: reason ?? run.stderr.trim().split('\n').slice(-1)[0] };
  }
  const stack = theStack(outdir);
  const within =
    stack.resources <= CFN_LIMITS.resources &&
    stack.bytes <= CFN_LIMITS.templateBytes &&
    stack.outputs <= CFN_LIMITS.outputs;
  return { runners, ok: within, resources: stack.resources, bytes: stack.bytes };
}

export function measureScale(profile: 'basic' | 'production', repeats: number): ScaleResult {
  const points: ScalePoint[] = [];
  for (const runners of SCALE_COUNTS) {
    const runs = [];
    let outdir = '';
    for (let i = 0; i < repeats; i++) {
      const r = synthScale(profile, runners, true);
      runs.push(r.run);
      outdir = r.outdir;
    }
    const template = theStack(outdir);
    points.push({
      runners,
      resources: template.resources,
      outputs: template.outputs,
      bytes: template.bytes,
      wallMs: median(runs.map((r) => r.wallMs)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      byType: countResources([template.template]),
      template,
    });
  }
  const fit = fitScale(points);
  return { profile, points, fit, atMax: verify(profile, fit.maxRunners), pastMax: verify(profile, fit.maxRunners + 1) };
}
