/**
 * Synth time of an example against the same template without the library (same-template.ts),
 * each run a whole `node app.js` process, as `cdk synth` runs an app: the apps are transpiled once
 * to JavaScript, file by file (the library loads module by module, as the published lib/ does), and
 * get the example's cdk.json context and the CDK CLI's default context in CDK_CONTEXT_JSON. Runs
 * alternate (baseline, example, baseline, ...) after a discarded warm-up round, so other load on
 * the machine hits both alike.
 */
import { spawnSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { stacksOfAssembly } from './same-template';

export const ROOT = path.join(__dirname, '..');
export const OUT = path.join(__dirname, '.out');
const APP_DIR = path.join(OUT, 'app');

/** What the CDK CLI adds to every `cdk synth`'s context by default. */
const CLI_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => f.endsWith('.ts') && !/\.(d|test|lambda)\.ts$/.test(f))
    .filter((f) => !/(^|[\\/])(cli|cdk\.out)[\\/]/.test(path.relative(ROOT, f)));
}

/** Transpiles src/ (construct code), examples/ and the baseline into .out/app; returns the path of a file's output. */
export function compileApps(): (repoRelativeTs: string) => string {
  if (!existsSync(path.join(ROOT, 'assets', 'registration-handler', 'index.js'))) {
    throw new Error('assets/registration-handler/index.js is missing: run "npm run bundle" first');
  }
  rmSync(APP_DIR, { recursive: true, force: true });
  const entryPoints = [...tsFiles(path.join(ROOT, 'src')), ...tsFiles(path.join(ROOT, 'examples'))];
  entryPoints.push(path.join(__dirname, 'same-template.ts'));
  buildSync({ entryPoints, outdir: APP_DIR, outbase: ROOT, format: 'cjs', platform: 'node', target: 'node20' });
  cpSync(path.join(ROOT, 'assets'), path.join(APP_DIR, 'assets'), { recursive: true });
  const pkg = path.join(APP_DIR, 'node_modules', 'platform-orchestrator-ecs-runner');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'index.js'), "module.exports = require('../../src/index.js');\n");
  return (ts) => path.join(APP_DIR, ts.replace(/\.ts$/, '.js'));
}

export interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** One synth of `appJs` as its own process; CPU time (all threads) read at exit by a preloaded probe. */
function runApp(appJs: string, outdir: string, context: object, env: Record<string, string>): Run {
  rmSync(outdir, { recursive: true, force: true });
  const probe = path.join(OUT, 'cpu-probe.js');
  const cpuFile = `${outdir}.cpu`;
  writeFileSync(
    probe,
    "process.on('exit',()=>{const u=process.cpuUsage();require('fs').writeFileSync(process.env.BENCH_CPU_OUT,String((u.user+u.system)/1000))})",
  );
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CDK_') && k !== 'NODE_OPTIONS'),
  );
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-r', probe, appJs], {
    cwd: APP_DIR,
    env: {
      ...clean,
      ...env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...CLI_CONTEXT, ...context }),
      BENCH_CPU_OUT: cpuFile,
    },
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${appJs} failed (exit ${child.status}):\n${child.stderr.slice(-4000)}`);
  return { wallMs, cpuMs: Number(readFileSync(cpuFile, 'utf8')) };
}

export interface SynthTime {
  /** CDK's built-in CloudFormation validation (on by default in aws-cdk-lib). */
  readonly validation: boolean;
  readonly baseline: Run[];
  readonly example: Run[];
}

/** `runs` alternated rounds of the baseline and the example (`exampleTs`, repository-relative). */
export function measureSynthTime(exampleTs: string, runs: number, validation: boolean): SynthTime {
  const compiled = compileApps();
  const context = JSON.parse(readFileSync(path.join(ROOT, path.dirname(exampleTs), 'cdk.json'), 'utf8')).context ?? {};
  const env: Record<string, string> = validation ? {} : { CDK_VALIDATION: 'false' };
  const exampleOut = path.join(OUT, 'example');
  // The warm-up round: the example first, whose templates the baseline rebuilds.
  runApp(compiled(exampleTs), exampleOut, context, env);
  const stacksFile = path.join(OUT, 'same-template.json');
  writeFileSync(stacksFile, JSON.stringify(stacksOfAssembly(exampleOut)));
  env.BENCH_SAME_TEMPLATE = stacksFile;
  const baselineJs = compiled(path.relative(ROOT, path.join(__dirname, 'same-template.ts')));
  runApp(baselineJs, path.join(OUT, 'baseline'), context, env);
  const result: SynthTime = { validation, baseline: [], example: [] };
  for (let i = 0; i < runs; i++) {
    result.baseline.push(runApp(baselineJs, path.join(OUT, 'baseline'), context, env));
    result.example.push(runApp(compiled(exampleTs), exampleOut, context, env));
  }
  return result;
}
