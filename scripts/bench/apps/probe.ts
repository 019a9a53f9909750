/**
 * Preloaded (`node -r probe.js`) into every measured synth process, the empty app's and the
 * example's alike. At exit it writes to BENCH_PROBE_OUT the process's CPU time (all threads) and
 * peak memory. With BENCH_GUARD=1 (a separate, untimed run) it also records every child
 * process, outbound connection, DNS lookup and bundler load, to show that synth spawns,
 * downloads and bundles nothing.
 */
import { statSync, writeFileSync } from 'fs';

export interface ProbeResult {
  cpuMs: number;
  maxRssMb: number;
  spawned: string[];
  connections: string[];
  lookups: string[];
  bundlers: string[];
  /** With the guard: modules loaded, by package (aws-cdk-lib by submodule): [files, bytes]. */
  modules: Record<string, [number, number]>;
}

const result: ProbeResult = {
  cpuMs: 0,
  maxRssMb: 0,
  spawned: [],
  connections: [],
  lookups: [],
  bundlers: [],
  modules: {},
};

function wrap(target: any, name: string, record: (args: any[]) => void): void {
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function (this: unknown, ...args: any[]) {
    record(args);
    return original.apply(this, args);
  };
}

if (process.env.BENCH_GUARD === '1') {
  // The live module objects, not import namespaces (copies whose members cannot be replaced).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const childProcess = require('child_process');
  const dns = require('dns');
  const net = require('net');
  const Module = require('module');
  /* eslint-enable @typescript-eslint/no-require-imports */
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    wrap(childProcess, name, (args) => result.spawned.push(`${name} ${String(args[0])}`));
  }
  wrap(net.Socket.prototype, 'connect', (args) => {
    const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
    result.connections.push(`${options.host ?? options.path ?? ''}:${options.port ?? ''}`);
  });
  wrap(dns, 'lookup', (args) => result.lookups.push(String(args[0])));
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    if (/^(esbuild|@esbuild\/|typescript$|ts-node|tsx|webpack|rollup|dockerode)/.test(request)) {
      result.bundlers.push(request);
    }
    return load.call(this, request, ...rest);
  };
}

/** The package (aws-cdk-lib: the submodule) a loaded file belongs to. */
function groupOf(file: string): string {
  if (/[\\/]\.bench[\\/]app[\\/]src[\\/]/.test(file)) return 'platform-orchestrator-ecs-runner';
  const m = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?:([^\\/]+)[\\/])?/.exec(file);
  if (!m) return 'app';
  if (m[1] !== 'aws-cdk-lib') return m[1];
  return m[2]?.startsWith('aws-') || m[2] === 'custom-resources'
    ? `aws-cdk-lib/${m[2]}`
    : 'aws-cdk-lib (core and others)';
}

function loadedModules(): Record<string, [number, number]> {
  const groups: Record<string, [number, number]> = {};
  for (const file of Object.keys(require.cache)) {
    const g = (groups[groupOf(file)] ??= [0, 0]);
    g[0] += 1;
    g[1] += statSync(file).size;
  }
  return groups;
}

process.on('exit', () => {
  const out = process.env.BENCH_PROBE_OUT;
  if (!out) return;
  const cpu = process.cpuUsage(); // since the process started
  if (process.env.BENCH_GUARD === '1') result.modules = loadedModules();
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  result.maxRssMb = process.resourceUsage().maxRSS / 1024;
  writeFileSync(out, JSON.stringify(result));
});
