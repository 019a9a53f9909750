/**
 * `npm run bench` (at the repository root, or in bench/): what the library costs its users,
 * measured on this machine and written to docs/BENCHMARKS.md.
 *
 * 1. Synth time of examples/complete-production against the same template without the library,
 *    CDK's built-in validation on (its default) and off (synth-time.ts, same-template.ts).
 * 2. Runners per stack, basic and production profiles (scale.ts).
 * 3. The registration handler's bundle size.
 * 4. Idle monthly cost of the basic and production stacks, from their templates (cost.ts, prices.json).
 *
 *   npm run bench -- --runs 7
 */
import { readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { App } from 'aws-cdk-lib';
import { buildApp as basicApp } from '../examples/basic/app';
import { buildApp as productionApp } from '../examples/complete-production/app';
import { JOB, jobCost, monthlyCost, MonthlyCost, PRICES, USAGE } from './cost';
import PRICE_LIST from './prices.json';
import { measureScale, Scale } from './scale';
import { measureSynthTime, ROOT, Run, SynthTime } from './synth-time';

const EXAMPLE = 'examples/complete-production/app.ts';
const HANDLER = 'assets/registration-handler/index.js';
const REPORT = path.join(ROOT, 'docs', 'BENCHMARKS.md');
const TARGETS = { synthRatio: 1.3, basicRunners: 30, handlerBytes: 100_000 } as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const ms = (v: number) => `${int(v)} ms`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const usd = (v: number) => (v !== 0 && Math.abs(v) < 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`);
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const table = (header: string[], rows: (string | number)[][]) => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function ratios(s: SynthTime) {
  const m = (runs: Run[], k: keyof Run) => median(runs.map((r) => r[k]));
  const [bw, ew, bc, ec] = [
    m(s.baseline, 'wallMs'),
    m(s.example, 'wallMs'),
    m(s.baseline, 'cpuMs'),
    m(s.example, 'cpuMs'),
  ];
  return { bw, ew, bc, ec, wall: ew / bw, cpu: ec / bc };
}

function synthSection(synth: SynthTime[]): string[] {
  const rows = synth.map((s) => {
    const r = ratios(s);
    return [
      s.validation ? 'on (default)' : 'off',
      s.example.length,
      ms(r.bw),
      ms(r.ew),
      `**${r.wall.toFixed(2)}x**`,
      `${ms(r.bc)} / ${ms(r.ec)}`,
      `${r.cpu.toFixed(2)}x`,
    ];
  });
  return [
    '## 1. Synth time',
    '',
    `\`${EXAMPLE}\` against **the same template without the library** (\`bench/same-template.ts\`): the example's own synthesized stacks, same ids and environments, rebuilt resource by resource as plain \`CfnResource\`s after loading the generated L1 class of each resource type, as any code creating these resources does. It writes the same template (\`bench/test/same-template.test.ts\` checks that) with no line of the library: the least aws-cdk-lib charges for these resources, whoever writes them. The example over it is what the library (its L2 constructs, logic and assets) and the example's own code add.`,
    '',
    "Both are transpiled once to JavaScript (esbuild, file by file: the library loads module by module, as the published `lib/` does); each run is a whole `node app.js` process with the example's `cdk.json` context and the CDK CLI's default context in `CDK_CONTEXT_JSON`, as `cdk synth` runs it. Runs alternate (baseline, example, ...) after a discarded warm-up round; medians. Wall time is the whole process; CPU time is all its threads (user + system). CDK's built-in CloudFormation validation (a WebAssembly engine, on by default in aws-cdk-lib) is measured on and off (`CDK_VALIDATION=false`, `cdk synth --no-validation`).",
    '',
    ...table(
      [
        'CDK validation',
        'runs',
        'same template, wall',
        'example, wall',
        'example / same template',
        'CPU: same template / example',
        'CPU ratio',
      ],
      rows,
    ),
    '',
    ...synth.flatMap((s) => [
      `- validation ${s.validation ? 'on' : 'off'}, every run (wall), same template: ${s.baseline.map((r) => int(r.wallMs)).join(', ')} ms; example: ${s.example.map((r) => int(r.wallMs)).join(', ')} ms`,
    ]),
    '',
  ];
}

function scaleSection(scale: Scale[]): string[] {
  const rows = scale.map((s) => [
    s.profile,
    s.perRunner.resources,
    s.shared.resources,
    kb(s.perRunner.bytes),
    s.perRunner.outputs,
    `${s.fits.resources} / ${s.fits.bytes} / ${s.fits.outputs}`,
    `**${s.max}** (${s.limitedBy})`,
    `${s.max}: ${s.atMax.resources} resources, ${int(s.atMax.bytes)} bytes; ${s.max + 1}: ${s.pastMax}`,
  ]);
  return [
    '## 2. Runners per stack',
    '',
    "One stack of the example's runners (`bench/scale.ts`): **basic** is `examples/basic`'s stack, **production** `examples/complete-production`'s, with further runners of the same props (`basicRunnerProps` of `examples/basic/app.ts`; `productionRunner` of `examples/complete-production/profile.ts`, each runner with its own runner id and monitoring). What a stack has once (the OIDC provider, the access-logs bucket, the registration provider, the dashboard, the imported VPC, boundary and token) is shared. Per runner and once per stack are fitted from 1 and 10 runners; the fit's maximum is then synthesized, and one more, with CDK's own 500-resource check on. CloudFormation's limits: 500 resources, 1,000,000 bytes of template, 200 outputs per stack ([quotas](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)).",
    '',
    ...table(
      [
        'profile',
        'resources per runner',
        'once per stack',
        'template per runner',
        'outputs per runner',
        'fit by resources / bytes / outputs',
        'runners per stack',
        'checked',
      ],
      rows,
    ),
    '',
  ];
}

function costTable(cost: MonthlyCost): string[] {
  return table(
    ['item', 'quantity', 'unit price', 'per month'],
    [
      ...cost.lines.map((l) => [
        l.item,
        `${l.quantity} ${PRICES[l.price].unit}`,
        `$${PRICES[l.price].usd}`,
        usd(l.monthlyUsd),
      ]),
      ['**total**', '', '', `**${usd(cost.totalUsd)}**`],
    ],
  );
}

function costSection(basic: MonthlyCost, production: MonthlyCost, scale: Scale[]): string[] {
  const added = scale.map((s) => [
    s.profile,
    usd((monthlyCost(s.ten.template).totalUsd - monthlyCost(s.one.template).totalUsd) / 9),
  ]);
  const job = jobCost();
  return [
    '## 4. What a runner costs to keep',
    '',
    `Idle monthly cost: what the synthesized template's resources cost in a month in which no job runs, plus the storage of a stated usage, at ${PRICE_LIST.region} list prices (\`bench/prices.json\`, each with its source and the day it was looked up). ${PRICE_LIST.note} Computed by \`bench/cost.ts\` from the template alone: every resource type is priced or known to cost nothing while idle (IAM, ECS clusters, Lambda, SNS, EventBridge, metric filters, log groups holding no job logs), else the model fails.`,
    '',
    `Usage per runner: ${USAGE.stateGb} GB of Terraform state (all versions) in its state bucket, and the same again in a replica's storage class; ${USAGE.accessLogsGb} GB of S3 server access logs; no job logs in CloudWatch Logs (the orchestrator's task definitions have none); the API token secret the registrations read counts once.`,
    '',
    '### examples/basic',
    '',
    ...costTable(basic),
    '',
    '### examples/complete-production',
    '',
    ...costTable(production),
    '',
    `Each further runner in the stack of section 2 adds ${added.map(([p, v]) => `${v} (${p})`).join(' and ')} a month (from the 1- and 10-runner stacks): the runners of a stack share the dashboard and the token.`,
    '',
    `A job as the orchestrator runs it (${JOB.vcpu} vCPU, ${JOB.memoryGb} GB, on demand: it passes \`launchType: FARGATE\`, never Spot) of ${JOB.minutes} minutes costs **${usd(job)}**: a runner with 100 such jobs a month costs ${usd(basic.totalUsd + 100 * job)} (basic) or ${usd(production.totalUsd + 100 * job)} (production), before data transfer, NAT and the jobs' image pulls.`,
    '',
    ...table(
      ['price', PRICE_LIST.region, 'per', 'source', 'looked up'],
      Object.values(PRICES).map((p) => [p.what, `$${p.usd}`, p.unit, p.source, p.retrieved]),
    ),
    '',
  ];
}

function main(): void {
  const started = Date.now();
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 3) throw new Error('--runs must be an integer of at least 3');
  const loadAtStart = os.loadavg()[0];
  const step = (text: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}`);

  step(`synth time, validation off then on: ${runs} alternated rounds each`);
  const synth = [false, true].map((validation) => measureSynthTime(EXAMPLE, runs, validation));
  step('runners per stack');
  const scale = (['basic', 'production'] as const).map((p) => measureScale(p));
  step('handler and cost');
  const handler = readFileSync(path.join(ROOT, HANDLER));
  const handlerGzip = gzipSync(handler, { level: 9 }).length;
  const templateOf = (app: App) => app.synth().stacks[0].template;
  const appProps = (example: string) => ({
    context: JSON.parse(readFileSync(path.join(ROOT, 'examples', example, 'cdk.json'), 'utf8')).context,
    builtinCloudFormationValidation: false,
  });
  const basic = monthlyCost(templateOf(basicApp(new App(appProps('basic')))));
  const production = monthlyCost(templateOf(productionApp(new App(appProps('complete-production')))));

  const [off, on] = synth.map(ratios);
  const basicScale = scale[0];
  const cpu = os.cpus();
  const cdkVersion = JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version;
  const lines = [
    '# Benchmarks',
    '',
    'What the library costs its users: synth time, runners per stack, the registration handler and what a runner costs to keep. Generated by `npm run bench` (the `bench/` package, outside the library); do not edit by hand, rerun it.',
    '',
    `Measured on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${int((Date.now() - started) / 1000)} s: ${cpu[0]?.model.trim()}, ${cpu.length} cores, ${os.type()} ${os.release()}, Node.js ${process.version}, aws-cdk-lib ${cdkVersion}; load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end. The machine is shared: a load above the core count stretches wall times (both sides of a comparison alike, since runs alternate); CPU times are less sensitive to it.`,
    '',
    '## Targets',
    '',
    ...table(
      ['target', 'measured', 'met'],
      [
        [
          `synth of \`${EXAMPLE}\` at most ${TARGETS.synthRatio}x the same template without the library (CDK validation on, its default)`,
          `${on.wall.toFixed(2)}x wall (${ms(on.ew)} vs ${ms(on.bw)}), ${on.cpu.toFixed(2)}x CPU`,
          yes(on.wall <= TARGETS.synthRatio),
        ],
        [
          'the same with validation off',
          `${off.wall.toFixed(2)}x wall (${ms(off.ew)} vs ${ms(off.bw)}), ${off.cpu.toFixed(2)}x CPU`,
          yes(off.wall <= TARGETS.synthRatio),
        ],
        [
          `at least ${TARGETS.basicRunners} basic runners per stack`,
          `${basicScale.max} (by ${basicScale.limitedBy}); production profile: ${scale[1].max}`,
          yes(basicScale.max >= TARGETS.basicRunners),
        ],
        [
          `registration handler under ${kb(TARGETS.handlerBytes)}`,
          `${kb(handler.length)} (${kb(handlerGzip)} gzipped)`,
          yes(handler.length < TARGETS.handlerBytes),
        ],
      ],
    ),
    '',
    ...synthSection(synth),
    ...scaleSection(scale),
    '## 3. Registration handler',
    '',
    `\`${HANDLER}\`, bundled by \`npm run bundle\` (esbuild, minified, \`@aws-sdk/*\` left to the Lambda runtime): **${kb(handler.length)}**, ${kb(handlerGzip)} gzipped.`,
    '',
    ...costSection(basic, production, scale),
  ];
  writeFileSync(REPORT, lines.join('\n'));
  step(`wrote ${path.relative(ROOT, REPORT)}`);
}

main();
