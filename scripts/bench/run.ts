/** Runs one CDK app as its own `node` process and measures it. */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'fs';
import * as path from 'path';
import type { ProbeResult } from './apps/probe';
import { compiledPath } from './compile';
import { APP_DIR } from './paths';

/**
 * The context the CDK CLI (aws-cdk) adds to every `cdk synth` by default (path and asset
 * metadata, version reporting, bundling of every stack), so a measured process does what
 * `cdk synth` makes it do.
 */
export const CLI_DEFAULT_CONTEXT: Record<string, unknown> = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
};

export interface RunOptions {
  /** The cloud assembly directory (emptied first). */
  readonly outdir: string;
  /** CDK's built-in CloudFormation validation, on by default in aws-cdk-lib (CDK_VALIDATION). */
  readonly validation: boolean;
  /** Record spawns, connections, lookups and bundler loads (untimed runs only). */
  readonly guard?: boolean;
  /** Context (e.g. the example's cdk.json context), passed with the CLI's defaults in CDK_CONTEXT_JSON as the CLI does. */
  readonly context?: Record<string, unknown>;
  /** Further environment variables. */
  readonly env?: Record<string, string>;
  /** Options for `node` itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: string[];
  /** Return a failed run instead of throwing. */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly ok: boolean;
  /** Wall time of the whole process, start to exit. */
  readonly wallMs: number;
  /** CPU time of the process, all threads. */
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly probe?: ProbeResult;
  readonly stderr: string;
}

/** Environment of a measured process: this one's, without anything that changes how CDK or Node runs. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('CDK_') || k === 'NODE_OPTIONS' || k.startsWith('TSX')) continue;
    env[k] = v;
  }
  return env;
}

export function runApp(appJs: string, opts: RunOptions): RunResult {
  rmSync(opts.outdir, { recursive: true, force: true });
  mkdirSync(opts.outdir, { recursive: true });
  const probeOut = path.join(opts.outdir, '..', `${path.basename(opts.outdir)}.probe.json`);
  rmSync(probeOut, { force: true });
  const env = {
    ...cleanEnv(),
    CDK_OUTDIR: opts.outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ ...CLI_DEFAULT_CONTEXT, ...(opts.context ?? {}) }),
    BENCH_PROBE_OUT: probeOut,
    ...(opts.validation ? {} : { CDK_VALIDATION: 'false' }),
    ...(opts.guard ? { BENCH_GUARD: '1' } : {}),
    ...(opts.env ?? {}),
  };
  const probe = compiledPath('scripts/bench/apps/probe.ts');
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), '-r', probe, appJs], {
    cwd: APP_DIR,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const stderr = child.stderr?.toString() ?? '';
  const ok = child.status === 0 && existsSync(probeOut);
  if (!ok && !opts.allowFailure) {
    throw new Error(`${path.relative(APP_DIR, appJs)} failed (exit ${child.status}):\n${stderr.slice(-4000)}`);
  }
  const result: ProbeResult | undefined = existsSync(probeOut) ? JSON.parse(readFileSync(probeOut, 'utf8')) : undefined;
  return { ok, wallMs, cpuMs: result?.cpuMs ?? NaN, maxRssMb: result?.maxRssMb ?? NaN, probe: result, stderr };
}
