/**
 * Synth time of an example against two baselines, all run as whole `node` processes and
 * alternated (empty, same template, example, empty, ...) after one discarded warm-up round, so
 * load from other processes on the machine and disk caches hit all three alike:
 *
 * - an empty CDK app (the baseline: what any CDK app costs);
 * - the same template without the library (apps/same-template-app.ts: the example's synthesized
 *   stacks rebuilt as plain `CfnResource`s after loading each type's L1 class), which costs the
 *   least aws-cdk-lib charges for these resources whoever writes them: loading their L1
 *   classes, validating them, writing the template.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
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
  readonly sameTemplate: RunResult[];
  readonly example: RunResult[];
  readonly emptyWallMs: number;
  readonly sameTemplateWallMs: number;
  readonly exampleWallMs: number;
  readonly emptyCpuMs: number;
  readonly sameTemplateCpuMs: number;
  readonly exampleCpuMs: number;
  /** Example over the empty app. */
  readonly wallRatio: number;
  readonly cpuRatio: number;
  /** Example over the same template without the library: what the library and the example's code add. */
  readonly libraryWallRatio: number;
  readonly libraryCpuRatio: number;
  /** The same template without the library over the empty app: what aws-cdk-lib charges for these resources. */
  readonly templateWallRatio: number;
  /** CPU time of the fastest run of each (contention from other processes only ever adds). */
  readonly emptyMinCpuMs: number;
  readonly exampleMinCpuMs: number;
}

/** What the stack synthesizer adds to every template again; CfnInclude refuses to include it twice. */
export function withoutSynthesizedParts(template: Record<string, any>): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(template));
  const drop = (section: string, key: string) => {
    if (!copy[section]) return;
    delete copy[section][key];
    if (Object.keys(copy[section]).length === 0) delete copy[section];
  };
  drop('Parameters', 'BootstrapVersion');
  drop('Rules', 'CheckBootstrapVersion');
  drop('Resources', 'CDKMetadata');
  drop('Conditions', 'CDKMetadataAvailable');
  return copy;
}

/**
 * Writes the input of apps/same-template-app.ts for the assembly in `assemblyDir` (the example,
 * synthesized with the same context) into `dir` and returns its path. Only top-level stacks: an
 * example with stages would need the stages rebuilt too.
 */
export function prepareSameTemplate(
  assemblyDir: string,
  dir: string = path.join(OUT_DIR, 'same-template-input'),
): string {
  mkdirSync(dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const stacks: { id: string; account?: string; region?: string; templateFile: string }[] = [];
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly') {
      throw new Error('the same-template baseline supports top-level stacks only; this example has a stage');
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment) ?? [];
    const template = JSON.parse(readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'));
    const templateFile = path.join(dir, `${id}.template.json`);
    writeFileSync(templateFile, JSON.stringify(withoutSynthesizedParts(template)));
    stacks.push({
      id,
      account: account && account !== 'unknown-account' ? account : undefined,
      region: region && region !== 'unknown-region' ? region : undefined,
      templateFile,
    });
  }
  const file = path.join(dir, 'stacks.json');
  writeFileSync(file, JSON.stringify(stacks, null, 2));
  return file;
}

export function measureSynthTime(
  exampleJs: string,
  context: Record<string, unknown>,
  runs: number,
  validation: boolean,
  sameTemplateSpec: string,
): SynthTimeResult {
  const emptyJs = compiledPath('scripts/bench/apps/empty-app.ts');
  const sameTemplateJs = compiledPath('scripts/bench/apps/same-template-app.ts');
  const tag = validation ? 'validation' : 'novalidation';
  const opts = (name: string) => ({
    outdir: path.join(OUT_DIR, `synth-${tag}-${name}`),
    validation,
    context,
    env: { BENCH_SAME_TEMPLATE: sameTemplateSpec },
  });
  const empty: RunResult[] = [];
  const sameTemplate: RunResult[] = [];
  const example: RunResult[] = [];
  for (let i = -1; i < runs; i++) {
    const e = runApp(emptyJs, opts('empty'));
    const t = runApp(sameTemplateJs, opts('same-template'));
    const x = runApp(exampleJs, opts('example'));
    if (i < 0) continue; // warm-up round
    empty.push(e);
    sameTemplate.push(t);
    example.push(x);
  }
  const emptyWallMs = median(empty.map((r) => r.wallMs));
  const sameTemplateWallMs = median(sameTemplate.map((r) => r.wallMs));
  const exampleWallMs = median(example.map((r) => r.wallMs));
  const emptyCpuMs = median(empty.map((r) => r.cpuMs));
  const sameTemplateCpuMs = median(sameTemplate.map((r) => r.cpuMs));
  const exampleCpuMs = median(example.map((r) => r.cpuMs));
  return {
    validation,
    empty,
    sameTemplate,
    example,
    emptyWallMs,
    sameTemplateWallMs,
    exampleWallMs,
    emptyCpuMs,
    sameTemplateCpuMs,
    exampleCpuMs,
    wallRatio: exampleWallMs / emptyWallMs,
    cpuRatio: exampleCpuMs / emptyCpuMs,
    libraryWallRatio: exampleWallMs / sameTemplateWallMs,
    libraryCpuRatio: exampleCpuMs / sameTemplateCpuMs,
    templateWallRatio: sameTemplateWallMs / emptyWallMs,
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
