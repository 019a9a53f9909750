/**
 * The registration handler bundle: its size, and how long a fresh Node.js process takes to load
 * it (the cold-start share the bundle is responsible for), with and without the AWS SDK client
 * it requires (the Lambda runtime provides the SDK; here it resolves from node_modules).
 */
import { spawnSync } from 'child_process';
import { readFileSync, statSync } from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { HANDLER_BUNDLE, ROOT } from './paths';
import { median } from './stats';

export const SDK_MODULE = '@aws-sdk/client-secrets-manager';

export interface HandlerResult {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Modules the bundle requires at run time (left to the Lambda runtime). */
  readonly externalRequires: string[];
  readonly runs: number;
  /** Median wall time of a fresh `node -e ""` process, for scale. */
  readonly processMs: number;
  /** Median time to require the bundle in a fresh process, the SDK client it requires included. */
  readonly withSdkMs: number;
  /** The same with every `@aws-sdk/*` module replaced by an empty one: the bundle's own share. */
  readonly withoutSdkMs: number;
  /** Median time to require the SDK client alone in a fresh process. */
  readonly sdkOnlyMs: number;
  readonly sdkVersion: string;
}

/** Replaces every `@aws-sdk/*` module with `{}` (the handler creates its client only when it reads the secret). */
const STUB_SDK =
  "const M=require('module');const l=M._load;M._load=function(r,...a){return r.startsWith('@aws-sdk/')?{}:l.call(this,r,...a)};";

/** Runs `node -e` with code that prints a number of milliseconds; returns it. */
function timed(code: string): number {
  const child = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.status !== 0) throw new Error(`node -e ${code} failed: ${child.stderr.toString()}`);
  return Number(child.stdout.toString().trim());
}

/** Code that requires `request` in a fresh process and prints how long the require took. */
function requireTime(request: string, prelude = ''): string {
  return `${prelude}const t=process.hrtime.bigint();require(${JSON.stringify(request)});console.log(Number(process.hrtime.bigint()-t)/1e6)`;
}

function processTime(): number {
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export function measureHandler(runs: number): HandlerResult {
  const file = path.join(ROOT, HANDLER_BUNDLE);
  const source = readFileSync(file);
  const externalRequires = [...new Set([...source.toString().matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))]
    .filter((m) => !m.startsWith('node:') && !/^[a-z_]+$/.test(m))
    .sort();
  const commands = {
    withSdk: requireTime(file),
    withoutSdk: requireTime(file, STUB_SDK),
    sdkOnly: requireTime(SDK_MODULE),
  };
  const samples: Record<keyof typeof commands, number[]> = { withSdk: [], withoutSdk: [], sdkOnly: [] };
  const wholeProcess: number[] = [];
  for (const code of Object.values(commands)) timed(code); // warm-up: disk cache
  for (let i = 0; i < runs; i++) {
    for (const [name, code] of Object.entries(commands) as [keyof typeof commands, string][]) {
      samples[name].push(timed(code));
    }
    wholeProcess.push(processTime());
  }
  return {
    bytes: statSync(file).size,
    gzipBytes: gzipSync(source, { level: 9 }).length,
    externalRequires,
    runs,
    processMs: median(wholeProcess),
    withSdkMs: median(samples.withSdk),
    withoutSdkMs: median(samples.withoutSdk),
    sdkOnlyMs: median(samples.sdkOnly),
    sdkVersion: JSON.parse(readFileSync(require.resolve(`${SDK_MODULE}/package.json`, { paths: [ROOT] }), 'utf8'))
      .version,
  };
}
