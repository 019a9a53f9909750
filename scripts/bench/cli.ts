/**
 * The bundled CLI (bin/po-ecs-runner.js): its size, what it requires at run time, and the cold
 * start of `po-ecs-runner check --template` on the synthesized template of
 * examples/complete-production, as whole `node` processes (a fresh `node -e ""` alongside, for
 * scale). CPU time (user + system, read by a preloaded probe at exit) is less sensitive than wall
 * time to other processes on a shared machine.
 */
import { spawnSync } from 'child_process';
import { builtinModules } from 'module';
import { readFileSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { BENCH_DIR, ROOT } from './paths';
import { median } from './stats';

export const CLI_BUNDLE = 'bin/po-ecs-runner.js';

export interface CliResult {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Modules the bundle requires that Node.js does not provide (none: users install nothing else). */
  readonly externalRequires: string[];
  readonly runs: number;
  /** Calls the check replays for the template, and its exit code. */
  readonly calls: number;
  readonly exitCode: number;
  readonly checkWallMs: number;
  readonly checkMinWallMs: number;
  readonly checkCpuMs: number;
  /** A fresh `node -e ""` process, wall and CPU. */
  readonly processWallMs: number;
  readonly processCpuMs: number;
}

const PROBE = `process.on('exit',()=>{const u=process.cpuUsage();require('fs').writeFileSync(process.env.BENCH_CLI_PROBE,String((u.user+u.system)/1000))});`;

function run(args: string[], probeFile: string): { wallMs: number; cpuMs: number; status: number; stdout: string } {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-r', path.join(BENCH_DIR, 'cli-probe.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, BENCH_CLI_PROBE: probeFile },
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { wallMs, cpuMs: Number(readFileSync(probeFile, 'utf8')), status: child.status ?? -1, stdout: child.stdout };
}

/** Measures the CLI on `template` (a synthesized template file). */
export function measureCli(template: string, runs: number): CliResult {
  const file = path.join(ROOT, CLI_BUNDLE);
  const source = readFileSync(file);
  writeFileSync(path.join(BENCH_DIR, 'cli-probe.js'), PROBE);
  const probeFile = path.join(BENCH_DIR, 'cli-probe.out');
  const builtins = new Set(builtinModules);
  const externalRequires = [...new Set([...source.toString().matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]))]
    .filter((m) => !m.startsWith('node:') && !builtins.has(m))
    // Not a require: the text of an AWS SDK error message telling users how to add the CRT signer.
    .filter((m) => m !== '@aws-sdk/signature-v4-crt')
    .sort();
  const check = [file, 'check', '--template', template];
  const first = run(check, probeFile); // warm-up: disk cache
  const calls = first.stdout.split('\n').filter((l) => /^ {2}(ok|FAIL) /.test(l)).length;
  const checks: { wallMs: number; cpuMs: number }[] = [];
  const processes: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    checks.push(run(check, probeFile));
    processes.push(run(['-e', ''], probeFile));
  }
  return {
    bytes: statSync(file).size,
    gzipBytes: gzipSync(source, { level: 9 }).length,
    externalRequires,
    runs,
    calls,
    exitCode: first.status,
    checkWallMs: median(checks.map((c) => c.wallMs)),
    checkMinWallMs: Math.min(...checks.map((c) => c.wallMs)),
    checkCpuMs: median(checks.map((c) => c.cpuMs)),
    processWallMs: median(processes.map((c) => c.wallMs)),
    processCpuMs: median(processes.map((c) => c.cpuMs)),
  };
}
