/**
 * `npm run bench` (after `npm run bundle`): what the library costs its users, measured on this
 * machine and written to docs/BENCHMARKS.md.
 *
 * 1. Synth time of examples/complete-production against an empty CDK app and against the same
 *    template without the library (CfnInclude), all as whole `node` processes, alternated, with
 *    CDK's built-in CloudFormation validation on (aws-cdk-lib's default) and off; and what a synth
 *    spawns, connects to, bundles and stages.
 * 2. Runners per stack (basic and production profiles, 1, 10 and 50 runners): resources,
 *    outputs, template bytes, synth time, the marginal runner, how many fit CloudFormation's limits.
 * 3. The registration handler bundle: bytes and cold module-load time; the CLI bundle: bytes and
 *    the cold start of `check --template` on examples/complete-production's template.
 * 4. Idle monthly cost of the basic and production profiles from their synthesized templates and
 *    the dated price table (scripts/bench/prices.ts), and the Fargate cost of one job.
 *
 *   npm run bench                                   # examples/complete-production
 *   npm run bench -- --example examples/basic/app.ts --runs 5
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { compileApps, compiledPath } from './bench/compile';
import { DEFAULT_USAGE, fargateJobCost, idleMonthlyCost } from './bench/cost-model';
import { measureCli } from './bench/cli';
import { measureHandler } from './bench/handler';
import { describeMachine } from './bench/machine';
import { BASIC_EXAMPLE, BENCH_DIR, COMPLETE_PRODUCTION_EXAMPLE, OUT_DIR, REPORT, ROOT } from './bench/paths';
import { PRICES } from './bench/prices';
import { BenchResults, JOB, renderReport, summaryLines } from './bench/report';
import { measurePhases, Phases, profileApp } from './bench/profile';
import { measureScale } from './bench/scale';
import { measureFeatureCosts, measureSynthTime, prepareSameTemplate, synthWithGuard } from './bench/synth-time';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function cdkJsonContext(exampleTs: string): Record<string, unknown> {
  const file = path.join(ROOT, path.dirname(exampleTs), 'cdk.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).context ?? {}) : {};
}

function step(text: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

function main(): void {
  const started = Date.now();
  const example = option('example') ?? process.env.BENCH_EXAMPLE ?? COMPLETE_PRODUCTION_EXAMPLE;
  const runs = Number(option('runs') ?? 5);
  if (!Number.isInteger(runs) || runs < 5) throw new Error('--runs must be an integer of at least 5');
  if (!existsSync(path.join(ROOT, example))) {
    console.error(
      `bench: the example ${example} does not exist. The synth-time benchmark measures it against an empty app; ` +
        `write it, or measure another example with: npm run bench -- --example ${BASIC_EXAMPLE}`,
    );
    process.exit(2);
  }
  mkdirSync(BENCH_DIR, { recursive: true });
  const machineAtStart = describeMachine();

  step('transpiling the apps to .bench/app');
  compileApps();
  const exampleJs = compiledPath(example);
  const basicJs = compiledPath(BASIC_EXAMPLE);
  const context = cdkJsonContext(example);

  step('side effects of one synth (guarded): empty app, example, basic');
  const guardEmpty = synthWithGuard(compiledPath('scripts/bench/apps/empty-app.ts'), context, 'empty');
  const guardExample = synthWithGuard(exampleJs, context, 'example');
  const guardBasic =
    example === BASIC_EXAMPLE ? guardExample : synthWithGuard(basicJs, cdkJsonContext(BASIC_EXAMPLE), 'basic');

  // The second baseline: the example's own templates, included without the library.
  const sameTemplate = prepareSameTemplate(path.join(OUT_DIR, 'guard-example'));
  step(`synth time, CDK validation off: ${Math.max(runs, 7)} alternated rounds (empty, same template, example)`);
  const synthOff = measureSynthTime(exampleJs, context, Math.max(runs, 7), false, sameTemplate);
  step(`synth time, CDK validation on (default): ${runs} alternated rounds (empty, same template, example)`);
  const synthOn = measureSynthTime(exampleJs, context, runs, true, sameTemplate);

  step('where the time goes: phases (5 runs each) and one CPU profile each, validation off');
  let phases: { empty: Phases; example: Phases } | undefined;
  try {
    phases = {
      empty: measurePhases(undefined, context, 5, false),
      example: measurePhases(exampleJs, context, 5, false),
    };
  } catch (err) {
    console.warn(`phases skipped (does ${example} export buildApp(app)?): ${(err as Error).message.split('\n')[0]}`);
  }
  const emptyJs = compiledPath('scripts/bench/apps/empty-app.ts');
  const profile = { empty: profileApp(emptyJs, context, 'empty'), example: profileApp(exampleJs, context, 'example') };
  step('what each feature adds: one runner of each profile, interleaved with the empty app, 7 runs each');
  const features = measureFeatureCosts(7);

  step('runners per stack: basic');
  const scaleBasic = measureScale('basic', 3);
  step('runners per stack: production');
  const scaleProduction = measureScale('production', 3);

  step('registration handler');
  const handler = measureHandler(15);

  step('CLI: check --template on the example');
  const exampleTemplate = path.join(BENCH_DIR, 'example.template.json');
  writeFileSync(exampleTemplate, JSON.stringify(guardExample.assembly.stacks[0].template));
  const cli = measureCli(exampleTemplate, 15);

  step('cost model');
  const templatesOf = (g: typeof guardBasic) => g.assembly.stacks.map((s) => s.template);
  const prodOne = scaleProduction.points[0];
  const prodTen = scaleProduction.points[1];
  const basicOne = scaleBasic.points[0];
  const basicTen = scaleBasic.points[1];
  const results: BenchResults = {
    date: new Date().toISOString(),
    durationS: 0,
    example,
    machineAtStart,
    machineAtEnd: describeMachine(),
    cdkVersion: JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json', { paths: [ROOT] }), 'utf8'))
      .version,
    guard: { empty: guardEmpty, example: guardExample, basic: guardBasic },
    synth: { off: synthOff, on: synthOn },
    phases,
    profile,
    features,
    scale: { basic: scaleBasic, production: scaleProduction },
    handler,
    cli,
    cost: {
      basic: idleMonthlyCost(templatesOf(guardBasic), PRICES),
      example: idleMonthlyCost(templatesOf(guardExample), PRICES),
      scaleBasic: {
        one: idleMonthlyCost([basicOne.template.template], PRICES),
        ten: idleMonthlyCost([basicTen.template.template], PRICES),
      },
      scaleProduction: {
        one: idleMonthlyCost([prodOne.template.template], PRICES),
        ten: idleMonthlyCost([prodTen.template.template], PRICES),
      },
      usage: DEFAULT_USAGE,
      job: fargateJobCost(PRICES, JOB),
    },
  };
  const finished: BenchResults = { ...results, durationS: (Date.now() - started) / 1000 };
  writeFileSync(path.join(ROOT, REPORT), renderReport(finished));
  console.log(summaryLines(finished).join('\n'));
  step(`wrote ${REPORT} in ${finished.durationS.toFixed(0)} s`);
}

main();
