/** Renders the benchmark results as docs/BENCHMARKS.md. */
import { countResources, fargateJobCost, IdleCost, JobShape, ORCHESTRATOR_JOB_SIZE, Usage } from './cost-model';
import { CliResult } from './cli';
import { HandlerResult } from './handler';
import { Machine } from './machine';
import { HOURS_PER_MONTH, Price, PRICE_DISCLAIMER, PRICE_REGION, PRICES } from './prices';
import { Phases, ProfileCategories } from './profile';
import { CFN_LIMITS, ScaleResult } from './scale';
import { FeatureCost, SynthSideEffects, SynthTimeResult } from './synth-time';
import { int, kb, ms, usd } from './stats';

export const TARGETS = {
  synthRatio: 1.3,
  basicRunnersPerStack: 30,
  handlerBytes: 100_000,
  cliBytes: 2_000_000,
  cliCheckMs: 300,
} as const;

/** The job of the per-job cost: as the orchestrator runs it (0.5 vCPU, 1 GB, on demand), 5 minutes. */
export const JOB: JobShape = { ...ORCHESTRATOR_JOB_SIZE, minutes: 5 };
/** Jobs per runner and month of the "with activity" line. */
export const JOBS_PER_MONTH = 100;

export interface BenchResults {
  readonly date: string;
  readonly durationS: number;
  readonly example: string;
  readonly machineAtStart: Machine;
  readonly machineAtEnd: Machine;
  readonly cdkVersion: string;
  readonly guard: { empty: SynthSideEffects; example: SynthSideEffects; basic: SynthSideEffects };
  readonly synth: { off: SynthTimeResult; on: SynthTimeResult };
  readonly phases?: { empty: Phases; example: Phases };
  readonly profile: { empty: ProfileCategories; example: ProfileCategories };
  readonly features: { emptyWallMs: number; emptyCpuMs: number; emptyMinCpuMs: number; profiles: FeatureCost[] };
  readonly scale: { basic: ScaleResult; production: ScaleResult };
  readonly handler: HandlerResult;
  /** Absent in reports of runs before the CLI's `check` existed. */
  readonly cli?: CliResult;
  readonly cost: {
    basic: IdleCost;
    example: IdleCost;
    scaleBasic: { one: IdleCost; ten: IdleCost };
    scaleProduction: { one: IdleCost; ten: IdleCost };
    usage: Usage;
    job: ReturnType<typeof fargateJobCost>;
  };
}

const signedMs = (v: number) => `${v >= 0 ? '+' : '-'}${ms(Math.abs(v))}`;
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
/** The empty-app target: met, or missed, and then whether the template alone already misses it. */
const unattainable = (s: SynthTimeResult) =>
  s.wallRatio <= TARGETS.synthRatio
    ? 'yes'
    : s.templateWallRatio > TARGETS.synthRatio
      ? '**no** (not attainable with these resources: see section 1)'
      : '**no**';
const x = (ratio: number) => `${ratio.toFixed(2)}x`;
const table = (header: string[], rows: (string | number)[][]) => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function sideEffectsClean(g: SynthSideEffects): boolean {
  return g.spawned.length === 0 && g.connections.length === 0 && g.lookups.length === 0 && g.bundlers.length === 0;
}

function perAddedRunner(r: { one: IdleCost; ten: IdleCost }): number {
  return (r.ten.totalUsd - r.one.totalUsd) / 9;
}

export function summaryLines(r: BenchResults): string[] {
  const { on, off } = r.synth;
  return [
    `synth ${r.example} vs empty app: validation on ${ms(on.exampleWallMs)} vs ${ms(on.emptyWallMs)} = ${x(on.wallRatio)}; ` +
      `validation off ${ms(off.exampleWallMs)} vs ${ms(off.emptyWallMs)} = ${x(off.wallRatio)} (target <= ${TARGETS.synthRatio}x)`,
    `synth ${r.example} vs the same template without the library: validation on ${ms(on.exampleWallMs)} vs ${ms(on.sameTemplateWallMs)} = ${x(on.libraryWallRatio)}; ` +
      `validation off ${ms(off.exampleWallMs)} vs ${ms(off.sameTemplateWallMs)} = ${x(off.libraryWallRatio)} (target <= ${TARGETS.synthRatio}x)`,
    `synth side effects: ${sideEffectsClean(r.guard.example) ? 'none (no spawn, connection, lookup or bundler)' : 'FOUND, see report'}`,
    ...(['basic', 'production'] as const).map((p) => {
      const f = r.scale[p].fit;
      return `runners per stack (${p}): ${f.resourcesPerRunner} resources/runner + ${f.sharedResources} shared, ${kb(f.bytesPerRunner)}/runner; max ${f.maxRunners} (by ${f.limitedBy}: resources ${f.maxByResources}, bytes ${f.maxByBytes}, outputs ${f.maxByOutputs})`;
    }),
    `handler: ${kb(r.handler.bytes)} (${kb(r.handler.gzipBytes)} gzip); cold load ${ms(r.handler.withSdkMs)} with SDK, ${ms(r.handler.withoutSdkMs)} without`,
    ...(r.cli ? cliSummaryLines(r.cli) : []),
    `idle monthly: basic ${usd(r.cost.basic.totalUsd)}, ${r.example} ${usd(r.cost.example.totalUsd)}; per added production runner ${usd(perAddedRunner(r.cost.scaleProduction))}`,
    `job ${JOB.vcpu} vCPU/${JOB.memoryGb} GB/${JOB.minutes} min: on-demand ${usd(r.cost.job.onDemandUsd)}`,
  ];
}

function machineSection(r: BenchResults): string[] {
  const m = r.machineAtStart;
  return [
    '## Machine',
    '',
    ...table(
      ['CPU', 'cores', 'memory', 'OS', 'Node.js', 'aws-cdk-lib', 'load average (1/5/15 min) at start', 'at end'],
      [
        [
          m.cpu,
          m.cores,
          `${m.memoryGb} GiB`,
          m.os,
          m.node,
          r.cdkVersion,
          m.loadAverage.join(' / '),
          r.machineAtEnd.loadAverage.join(' / '),
        ],
      ],
    ),
    '',
    `Run on ${r.date.slice(0, 10)} (${r.date.slice(11, 16)} UTC), ${int(r.durationS)} s in all. The machine is shared: ` +
      'a load average above the core count means other processes competed for the CPU, which stretches wall ' +
      'times (both sides of a comparison alike, since runs alternate). CPU times are less sensitive to it.',
    '',
  ];
}

function summarySection(r: BenchResults): string[] {
  const { on, off } = r.synth;
  const b = r.scale.basic.fit;
  const p = r.scale.production.fit;
  return [
    '## Targets',
    '',
    ...table(
      ['target', 'measured', 'met'],
      [
        [
          `synth of \`${r.example}\` at most ${TARGETS.synthRatio}x an empty app (CDK's default: CloudFormation validation on)`,
          `${x(on.wallRatio)} wall (${ms(on.exampleWallMs)} vs ${ms(on.emptyWallMs)}), ${x(on.cpuRatio)} CPU; ` +
            `the same template without the library is already ${x(on.templateWallRatio)}`,
          unattainable(on),
        ],
        [
          `the same with validation off (\`CDK_VALIDATION=false\`, \`cdk synth --no-validation\`)`,
          `${x(off.wallRatio)} wall (${ms(off.exampleWallMs)} vs ${ms(off.emptyWallMs)}), ${x(off.cpuRatio)} CPU; ` +
            `the same template without the library is already ${x(off.templateWallRatio)}`,
          unattainable(off),
        ],
        [
          `what the library adds: synth of \`${r.example}\` at most ${TARGETS.synthRatio}x the same template without the library (validation on)`,
          `${x(on.libraryWallRatio)} wall (${ms(on.exampleWallMs)} vs ${ms(on.sameTemplateWallMs)}), ${x(on.libraryCpuRatio)} CPU`,
          yes(on.libraryWallRatio <= TARGETS.synthRatio),
        ],
        [
          'the same with validation off',
          `${x(off.libraryWallRatio)} wall (${ms(off.exampleWallMs)} vs ${ms(off.sameTemplateWallMs)}), ${x(off.libraryCpuRatio)} CPU`,
          yes(off.libraryWallRatio <= TARGETS.synthRatio),
        ],
        [
          'nothing bundled, downloaded or spawned at synth time',
          sideEffectsClean(r.guard.example)
            ? `no child process, connection, DNS lookup or bundler; ${r.guard.example.assembly.fileAssets.length} prebuilt file asset(s) copied, ${r.guard.example.assembly.dockerImages} Docker images`
            : `spawned ${r.guard.example.spawned.length}, connections ${r.guard.example.connections.length}, lookups ${r.guard.example.lookups.length}, bundlers ${r.guard.example.bundlers.join(', ')}`,
          yes(sideEffectsClean(r.guard.example) && r.guard.example.assembly.dockerImages === 0),
        ],
        [
          `at least ${TARGETS.basicRunnersPerStack} basic runners per stack`,
          `${b.maxRunners} (limited by ${b.limitedBy}); production profile: ${p.maxRunners}`,
          yes(b.maxRunners >= TARGETS.basicRunnersPerStack),
        ],
        [
          'shared pieces created once per stack',
          `${r.scale.basic.fit.linear && r.scale.production.fit.linear ? 'resources grow exactly linearly' : 'NOT linear'}; once per stack: ${Object.entries(
            p.sharedByType,
          )
            .map(([t, n]) => `${n} ${t}`)
            .join(', ')}`,
          yes(r.scale.basic.fit.linear && r.scale.production.fit.linear),
        ],
        [
          `registration handler under ${kb(TARGETS.handlerBytes)}`,
          `${kb(r.handler.bytes)} (${kb(r.handler.gzipBytes)} gzipped)`,
          yes(r.handler.bytes < TARGETS.handlerBytes),
        ],
        ...(r.cli ? cliTargetRows(r.cli) : []),
      ],
    ),
    '',
  ];
}

function synthSection(r: BenchResults): string[] {
  const { on, off } = r.synth;
  const rows = [off, on].map((s) => [
    s.validation ? 'on (default)' : 'off',
    s.example.length,
    ms(s.emptyWallMs),
    ms(s.sameTemplateWallMs),
    ms(s.exampleWallMs),
    `**${x(s.wallRatio)}**`,
    x(s.templateWallRatio),
    `**${x(s.libraryWallRatio)}**`,
    `${ms(s.emptyCpuMs)} / ${ms(s.sameTemplateCpuMs)} / ${ms(s.exampleCpuMs)}`,
    `${x(s.cpuRatio)} / ${x(s.libraryCpuRatio)}`,
    `${int(Math.max(...s.example.map((e) => e.maxRssMb)))} MB`,
  ]);
  const samples = [off, on].flatMap((s) => [
    `- validation ${s.validation ? 'on' : 'off'}, empty app: ${s.empty.map((e) => int(e.wallMs)).join(', ')} ms`,
    `- validation ${s.validation ? 'on' : 'off'}, same template without the library: ${s.sameTemplate.map((e) => int(e.wallMs)).join(', ')} ms`,
    `- validation ${s.validation ? 'on' : 'off'}, example: ${s.example.map((e) => int(e.wallMs)).join(', ')} ms`,
  ]);
  const g = r.guard.example;
  const moduleRows = Object.entries(g.modules)
    .map(([name, [files, bytes]]) => {
      const base = r.guard.empty.modules[name] ?? [0, 0];
      return { name, files, bytes, extraFiles: files - base[0], extraBytes: bytes - base[1] };
    })
    .filter((m) => m.extraBytes > 0)
    .sort((a, b) => b.extraBytes - a.extraBytes);
  const extraTotal = moduleRows.reduce((s, m) => s + m.extraBytes, 0);
  return [
    '## 1. Synth time',
    '',
    `\`${r.example}\` against two baselines:`,
    '',
    "- **the empty app** (`new App(); new Stack(app, 'Empty'); app.synth()`), the issue's baseline: what any CDK app costs;",
    "- **the same template without the library** (`scripts/bench/apps/same-template-app.ts`): the example's own " +
      'synthesized stacks, same names and environments, rebuilt resource by resource as plain `CfnResource`s after ' +
      'loading the generated L1 class of each resource type (as any code creating these resources does). It runs the ' +
      'same validation over the same resources and writes the same template (a test checks that), with no line of the ' +
      'library: the least aws-cdk-lib charges for this template, whoever writes it. The example over it is what the ' +
      "library (L2 constructs, its logic, its assets) and the example's own code add. The baseline stages no asset " +
      '(the template only names the Lambda code), so the ratio counts staging against the library. (Not `CfnInclude`: ' +
      'its YAML parsing and typed rebuilding cost some 250 ms of their own here, which would flatter the library.)',
    '',
    'All three are transpiled once to JavaScript (esbuild, file by file, nothing excluded: the library loads module by module ' +
      'as the published `lib/` does) and each run is a whole `node app.js` process with `CDK_OUTDIR` set to an ' +
      "emptied directory and the example's `cdk.json` context in `CDK_CONTEXT_JSON`, as the CDK CLI passes it. Runs " +
      'alternate empty, same template, example, empty, ... after one discarded warm-up round; the table gives medians. ' +
      'Wall time is the whole process, start to exit; CPU time is all threads of the process (user + system).',
    '',
    ...table(
      [
        'CDK validation',
        'runs each',
        'empty app, wall',
        'same template, wall',
        'example, wall',
        'example / empty',
        'same template / empty',
        'example / same template',
        'CPU: empty / same template / example',
        'CPU ratios: example / empty, example / same template',
        'example peak RSS',
      ],
      rows,
    ),
    '',
    'Every run (wall time):',
    '',
    ...samples,
    '',
    `aws-cdk-lib ${r.cdkVersion} runs its built-in CloudFormation validation (\`@aws/cloudformation-validate\`, a ` +
      'WebAssembly engine) after every synth unless `CDK_VALIDATION=false` or `cdk synth --no-validation`. It costs ' +
      `${ms(on.emptyWallMs - off.emptyWallMs)} for the empty app and ${ms(on.exampleWallMs - off.exampleWallMs)} for the example ` +
      '(wall, on minus off), more than everything else the example does: with it on, the ratio mostly measures that engine.',
    '',
    '### What a synth does besides computing',
    '',
    'One extra run of the example with a preloaded probe that records every child process, outbound socket, DNS ' +
      'lookup and load of a bundler or compiler (esbuild, typescript, ts-node, tsx, webpack, rollup, dockerode):',
    '',
    `- child processes: ${g.spawned.length === 0 ? 'none' : g.spawned.join('; ')}`,
    `- outbound connections: ${g.connections.length === 0 ? 'none' : g.connections.join('; ')}`,
    `- DNS lookups: ${g.lookups.length === 0 ? 'none' : g.lookups.join('; ')}`,
    `- bundlers or compilers loaded: ${g.bundlers.length === 0 ? 'none' : g.bundlers.join('; ')}`,
    `- assets staged: ${
      g.assembly.fileAssets.length === 0
        ? 'none'
        : g.assembly.fileAssets.map((a) => `\`${a.path}\` (${a.packaging}, ${kb(a.bytes)})`).join(', ')
    }; Docker images: ${g.assembly.dockerImages}`,
    '',
    'Assets are prebuilt (the registration handler is bundled by `npm run bundle` at build time, the custom ' +
      'resource framework ships in aws-cdk-lib): synth only fingerprints and copies them.',
    '',
    '### Where the extra time goes',
    '',
    ...wherePhases(r),
    `CPU samples of one \`--cpu-prof\` run of each (validation off; self time, so loading and compiling a module ` +
      'counts under module loading and running its code under its package; profiling slows both down):',
    '',
    ...table(
      ['where', 'empty app', 'example', 'extra'],
      profileRows(r).map((c) => [c.name, ms(c.empty), ms(c.example), `**${ms(c.example - c.empty)}**`]),
    ),
    '',
    ...featureRows(r),
    `JavaScript the example loads beyond the empty app, by package (files and bytes; ${kb(extraTotal)} in all). ` +
      'Most of it is aws-cdk-lib: the L2 constructs and the generated L1 classes (`*.generated.js`) of each ' +
      'service the stack uses.',
    '',
    ...table(
      ['package', 'extra files', 'extra bytes'],
      moduleRows.slice(0, 15).map((m) => [m.name, m.extraFiles, kb(m.extraBytes)]),
    ),
    '',
  ];
}

const FEATURES: Record<string, string> = {
  basic: '`orgId` and `subnetIds` (examples/basic)',
  hardened: 'CMK, access logs, replication, boundary, role path, tags, VPC with security group',
  registered: 'hardened + registration (`apiTokenSecret`, a runner rule)',
  monitored: 'hardened + `addMonitoring()` (alarms to email, dashboard)',
  production: 'hardened + registration + monitoring (as examples/complete-production)',
};

function featureRows(r: BenchResults): string[] {
  const f = r.features;
  return [
    `What each feature adds: one runner of each profile of the scale app in its own stack, interleaved with the empty app ` +
      `in rotating order (medians of 7 runs, validation off; empty app ${ms(f.emptyWallMs)} wall, ${ms(f.emptyCpuMs)} CPU, ` +
      `fastest ${ms(f.emptyMinCpuMs)} CPU). The fastest run is the steadier measure of what a feature costs on a shared ` +
      'machine, since other processes only ever add to a run:',
    '',
    ...table(
      [
        'profile',
        'features',
        'resources',
        'wall',
        'ratio (wall)',
        'CPU',
        'CPU, fastest run',
        'fastest CPU over the empty app',
      ],
      f.profiles.map((p) => [
        p.profile,
        FEATURES[p.profile] ?? '',
        p.resources,
        ms(p.wallMs),
        x(p.wallMs / f.emptyWallMs),
        ms(p.cpuMs),
        ms(p.minCpuMs),
        ms(p.minCpuMs - f.emptyMinCpuMs),
      ]),
    ),
    '',
  ];
}

function wherePhases(r: BenchResults): string[] {
  if (!r.phases) return [];
  const names = [...new Set([...Object.keys(r.phases.empty), ...Object.keys(r.phases.example)])];
  return [
    'Phases of one synth, measured inside the process (medians of 5 runs each, validation off; before them, ' +
      'Node.js itself starts):',
    '',
    ...table(
      ['phase', 'empty app', 'example', 'extra'],
      names.map((n) => {
        const e = r.phases!.empty[n] ?? 0;
        const x2 = r.phases!.example[n] ?? 0;
        return [n, ms(e), ms(x2), ms(x2 - e)];
      }),
    ),
    '',
  ];
}

/** Profile categories, largest extra first; small ones folded into "everything else". */
export function profileRows(r: BenchResults): { name: string; empty: number; example: number }[] {
  const names = new Set([...Object.keys(r.profile.empty), ...Object.keys(r.profile.example)]);
  const rows = [...names].map((name) => ({
    name,
    empty: r.profile.empty[name] ?? 0,
    example: r.profile.example[name] ?? 0,
  }));
  rows.sort((a, b) => b.example - b.empty - (a.example - a.empty));
  const shown = rows.filter((c) => Math.abs(c.example - c.empty) >= 10);
  const rest = rows.filter((c) => !shown.includes(c));
  const other = rest.reduce((o, c) => ({ ...o, empty: o.empty + c.empty, example: o.example + c.example }), {
    name: 'everything else',
    empty: 0,
    example: 0,
  });
  const total = rows.reduce((o, c) => ({ ...o, empty: o.empty + c.empty, example: o.example + c.example }), {
    name: '**total**',
    empty: 0,
    example: 0,
  });
  return [...shown, other, total];
}

function scaleSection(r: BenchResults): string[] {
  const out = [
    '## 2. Runners per stack',
    '',
    'One stack with 1, 10 and 50 runners, each stack synthesized as its own process with CDK validation off ' +
      "(it validates, not synthesizes; see section 1) and CDK's 500-resource check lifted so the 50-runner stacks " +
      'can be measured. Synth time is the median of 3 runs. Profiles (`scripts/bench/apps/scale-app.ts`):',
    '',
    '- **basic**: `orgId` and `subnetIds` only, as `examples/basic`.',
    '- **production**: a runner-created CMK, server access logs, cross-region replication, permissions boundary, ' +
      'role path, required tags, an imported VPC with an egress-only security group, monitoring (alarms to an email ' +
      'topic, dashboard) and registration with the orchestrator; the VPC, replication destination, boundary and ' +
      'API token secret are shared by the stack.',
    '',
    `CloudFormation's limits: ${CFN_LIMITS.resources} resources, ${int(CFN_LIMITS.templateBytes)} bytes of template ` +
      `(uploaded through S3, as CDK does), ${CFN_LIMITS.outputs} outputs per stack ` +
      '([quotas](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)).',
    '',
  ];
  for (const profile of ['basic', 'production'] as const) {
    const s = r.scale[profile];
    const f = s.fit;
    out.push(
      `### ${profile}`,
      '',
      ...table(
        ['runners', 'resources', 'outputs', 'template bytes', 'synth wall (median)', 'synth CPU'],
        s.points.map((p) => [
          p.runners,
          `${p.resources}${p.resources > CFN_LIMITS.resources ? ' (over the limit)' : ''}`,
          p.outputs,
          `${int(p.bytes)}${p.bytes > CFN_LIMITS.templateBytes ? ' (over the limit)' : ''}`,
          ms(p.wallMs),
          ms(p.cpuMs),
        ]),
      ),
      '',
      `- Each runner adds **${f.resourcesPerRunner} resources**, ${f.outputsPerRunner} output and ${kb(f.bytesPerRunner)} of ` +
        `template; ${f.sharedResources} resources are the stack's once (${f.linear ? 'all three points lie exactly on that line' : 'the points are NOT on one line'}).`,
      `- Per runner: ${Object.entries(f.perRunnerByType)
        .map(([t, n]) => `${n} ${t.replace(/^AWS::/, '')}`)
        .join(', ')}.`,
      `- Once per stack: ${Object.entries(f.sharedByType)
        .map(([t, n]) => `${n} ${t.replace(/^AWS::/, '')}`)
        .join(', ')}.`,
      `- Fit in one stack: **${f.maxRunners} runners**, limited by ${f.limitedBy} (${f.maxByResources} under ` +
        `${CFN_LIMITS.resources} resources, ${f.maxByBytes} under ${int(CFN_LIMITS.templateBytes)} bytes, ${f.maxByOutputs} under ${CFN_LIMITS.outputs} outputs).`,
      `- Checked with CDK's own resource check on: ${s.atMax.runners} runners ${
        s.atMax.ok
          ? `synthesize (${s.atMax.resources} resources, ${int(s.atMax.bytes ?? 0)} bytes)`
          : `FAIL (${s.atMax.error})`
      }; ${s.pastMax.runners} runners ${
        s.pastMax.ok
          ? `still fit (${s.pastMax.resources} resources): the fit is conservative`
          : `do not (${s.pastMax.error ?? `${s.pastMax.resources} resources, ${int(s.pastMax.bytes ?? 0)} bytes`})`
      }.`,
      '',
    );
  }
  return out;
}

function handlerSection(r: BenchResults): string[] {
  const h = r.handler;
  return [
    '## 3. Registration handler',
    '',
    `\`assets/registration-handler/index.js\`, bundled by \`npm run bundle\` (esbuild, minified, \`@aws-sdk/*\` left to ` +
      'the Lambda runtime).',
    '',
    ...table(
      [
        'bundle',
        'gzipped',
        'requires at run time',
        'load, with the SDK client',
        'load, without the SDK',
        'SDK client alone',
      ],
      [
        [
          `**${kb(h.bytes)}**`,
          kb(h.gzipBytes),
          h.externalRequires.map((m) => `\`${m}\``).join(', ') || 'nothing',
          ms(h.withSdkMs),
          ms(h.withoutSdkMs),
          ms(h.sdkOnlyMs),
        ],
      ],
    ),
    '',
    `Cold module-load time: the median over ${h.runs} fresh \`node\` processes of the time \`require('<bundle>')\` ` +
      'takes, measured inside the process (for scale: a whole `node -e ""` process takes ' +
      `${ms(h.processMs)} here). "Without the SDK" replaces every \`@aws-sdk/*\` module with an empty one (the ` +
      "handler creates its client only when it reads the token secret): the bundle's own share. The SDK is " +
      `\`@aws-sdk/client-secrets-manager\` ${h.sdkVersion} from node_modules; Lambda's Node.js runtime ships its own copy.`,
    '',
  ];
}

function priceRows(): string[] {
  return table(
    ['price', `${PRICE_REGION}`, 'per', 'source', 'cross-check', 'looked up'],
    Object.values(PRICES).map((p: Price) => [
      p.description + (p.note ? ` (${p.note})` : ''),
      p.unit.startsWith('fraction') ? `${Math.round(p.usd * 100)} %` : `$${p.usd}`,
      p.unit,
      p.source,
      p.crossCheck ?? '',
      p.retrieved,
    ]),
  );
}

function costTable(cost: IdleCost): string[] {
  return [
    ...table(
      ['item', 'quantity', 'unit price', 'per month'],
      [
        ...cost.lines.map((l) => [
          l.item,
          `${+l.quantity.toFixed(3)} ${l.unit}`,
          `$${Number(l.unitUsd.toPrecision(4))}`,
          usd(l.monthlyUsd),
        ]),
        ['**total**', '', '', `**${usd(cost.totalUsd)}**`],
      ],
    ),
    '',
    `Free while idle (present, not charged until used): ${cost.freeWhileIdle.join(', ')}.` +
      (cost.unpriced.length > 0 ? ` **Not priced by the model: ${cost.unpriced.join(', ')}.**` : ''),
    '',
  ];
}

function costSection(r: BenchResults): string[] {
  const c = r.cost;
  const u = c.usage;
  const perBasic = perAddedRunner(c.scaleBasic);
  const perProd = perAddedRunner(c.scaleProduction);
  const jobs = JOBS_PER_MONTH * c.job.onDemandUsd;
  const fleet = (n: number, one: IdleCost, per: number) => one.totalUsd + (n - 1) * per;
  return [
    '## 4. What a runner costs to keep',
    '',
    `Idle monthly cost: what the synthesized templates' resources cost in a month in which no job runs, plus the ` +
      `storage of a stated usage, at ${PRICE_REGION} list prices. ${PRICE_DISCLAIMER} Account-wide free tiers ` +
      '(10 alarm metrics, 3 dashboards, 5 GB of logs, 20,000 KMS requests) are not subtracted: a platform account ' +
      'usually uses them up elsewhere. Computed by `scripts/bench/cost-model.ts` from the templates alone.',
    '',
    'Usage assumptions, per runner:',
    '',
    `- ${u.stateGbPerBucket} GB of Terraform state (all versions) in its state bucket, S3 Standard; with replication, ` +
      'the same again in the destination bucket in the replica storage class;',
    "- no job logs in CloudWatch Logs: the orchestrator's task definitions have no log configuration (jobs stream their logs to the orchestrator);",
    `- ${u.accessLogsGbPerRunner} GB of S3 server access logs kept in the access-logs bucket;`,
    `- interface endpoints (none in these profiles) in their subnets' AZs, ${u.defaultEndpointAzs} when unknown; ${HOURS_PER_MONTH} hours a month;`,
    '- no job runs: Lambda, SNS, EventBridge, metric filters (custom metrics are billed only in months they are ' +
      'published), KMS and S3 requests cost nothing, and Container Insights publishes no metrics for a cluster ' +
      'without running tasks ([ECS docs](https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html)).',
    '',
    `### examples/basic (${c.basic.runners} runner)`,
    '',
    ...costTable(c.basic),
    ...(r.example === 'examples/basic/app.ts'
      ? []
      : [
          `### ${r.example} (${c.example.runners} runner${c.example.runners === 1 ? '' : 's'})`,
          '',
          ...costTable(c.example),
        ]),
    '### Production profile of section 2, one runner',
    '',
    ...costTable(c.scaleProduction.one),
    '### Many runners',
    '',
    'What each further runner adds to a stack (from the 10-runner and 1-runner stacks of section 2), and a fleet ' +
      `(past ${r.scale.production.fit.maxRunners} production runners, in more than one stack; the stacks' shared pieces cost next to nothing):`,
    '',
    ...table(
      ['profile', 'first runner', 'each added runner', '10 runners', '30 runners', '50 runners'],
      [
        [
          'basic',
          usd(c.scaleBasic.one.totalUsd),
          usd(perBasic),
          usd(fleet(10, c.scaleBasic.one, perBasic)),
          usd(fleet(30, c.scaleBasic.one, perBasic)),
          usd(fleet(50, c.scaleBasic.one, perBasic)),
        ],
        [
          'production',
          usd(c.scaleProduction.one.totalUsd),
          usd(perProd),
          usd(fleet(10, c.scaleProduction.one, perProd)),
          usd(fleet(30, c.scaleProduction.one, perProd)),
          usd(fleet(50, c.scaleProduction.one, perProd)),
        ],
      ],
    ),
    '',
    '### Per job',
    '',
    `A job of ${JOB.vcpu} vCPU and ${JOB.memoryGb} GB running ${JOB.minutes} minutes on Fargate (Linux/x86, billed per second, ` +
      'one-minute minimum):',
    '',
    ...table(
      ['capacity', 'per job', `${JOBS_PER_MONTH} jobs`],
      [['on demand', `**${usd(c.job.onDemandUsd)}**`, usd(jobs)]],
    ),
    '',
    'The orchestrator sizes every job itself (0.5 vCPU, 1 GB) and runs it with `launchType: FARGATE`: on demand, never ' +
      "on Fargate Spot, whatever the cluster's capacity providers.",
    '',
    `A runner with ${JOBS_PER_MONTH} such jobs a month costs ${usd(c.basic.totalUsd + jobs)} (basic) or ${usd(c.scaleProduction.one.totalUsd + jobs)} ` +
      '(production profile) a month, before data transfer, NAT and the image pulls of the jobs.',
    '',
    '### Prices',
    '',
    ...priceRows(),
    '',
  ];
}

function conclusionsSection(r: BenchResults): string[] {
  const { on, off } = r.synth;
  const b = r.scale.basic.fit;
  const p = r.scale.production.fit;
  const perProd = perAddedRunner(r.cost.scaleProduction);
  const dashboardUsd = (c: IdleCost) => c.lines.find((l) => l.item === 'CloudWatch dashboards')?.monthlyUsd ?? 0;
  const dashboards = dashboardUsd(r.cost.scaleProduction.one);
  const dashboardShared = dashboardUsd(r.cost.scaleProduction.ten) === dashboards;
  const rows = profileRows(r);
  const extraTotal = rows[rows.length - 1].example - rows[rows.length - 1].empty;
  const extraOf = (pred: (name: string) => boolean) =>
    rows
      .filter((c) => pred(c.name) && !c.name.startsWith('**') && c.name !== 'everything else')
      .reduce((s, c) => s + c.example - c.empty, 0);
  const cdkShare = extraOf(
    (n) => n.startsWith('aws-cdk-lib') || n.startsWith('module loading') || n === 'garbage collection',
  );
  const libShare = extraOf((n) => n === 'platform-orchestrator-ecs-runner');
  const pct = (v: number) => `${Math.round((100 * v) / extraTotal)} %`;
  const met = (ok: boolean) => (ok ? 'met' : 'missed');
  const monitoringResources = Object.entries(p.perRunnerByType)
    .filter(([t]) => /^AWS::(CloudWatch|SNS|Events)::|^AWS::Logs::MetricFilter$/.test(t))
    .reduce((sum, [, n]) => sum + n, 0);
  const feature = (name: string) => r.features.profiles.find((f) => f.profile === name);
  const [fBasic, fHardened, fRegistered, fMonitored] = ['basic', 'hardened', 'registered', 'monitored'].map(feature);
  const featureLine =
    fBasic && fHardened && fRegistered && fMonitored
      ? `  - Per feature (fastest CPU, one runner, validation off): the runner itself takes ${ms(fBasic.minCpuMs - r.features.emptyMinCpuMs)} over the ` +
        `empty app (${x(fBasic.wallMs / r.features.emptyWallMs)} wall); the hardening options change that by ${signedMs(fHardened.minCpuMs - fBasic.minCpuMs)}, ` +
        `the registration by ${signedMs(fRegistered.minCpuMs - fHardened.minCpuMs)} and the monitoring by ${signedMs(fMonitored.minCpuMs - fHardened.minCpuMs)} ` +
        '(differences of a few tens of milliseconds are within the run-to-run noise of this shared machine). ' +
        (fBasic.wallMs / r.features.emptyWallMs > TARGETS.synthRatio
          ? `Even a basic runner alone is over ${TARGETS.synthRatio}x: `
          : `A basic runner alone is within ${TARGETS.synthRatio}x, the options push it past: `) +
        'one runner already needs the ECS, S3, IAM and CloudWatch Logs modules of aws-cdk-lib.'
      : undefined;
  const types = Object.keys(countResources(r.guard.example.assembly.stacks.map((st) => st.template))).length;
  const emptyModules = r.guard.empty.modules;
  const services = Object.keys(r.guard.example.modules).filter(
    (m) => m.startsWith('aws-cdk-lib/') && !(m in emptyModules),
  );
  const [largest] = Object.entries(r.guard.example.modules)
    .filter(([m]) => services.includes(m))
    .sort((a1, a2) => a2[1][1] - a1[1][1]);
  const prodPoints = r.scale.production.points;
  const perRunnerMs =
    (prodPoints[prodPoints.length - 1].wallMs - prodPoints[0].wallMs) /
    (prodPoints[prodPoints.length - 1].runners - prodPoints[0].runners);
  return [
    '## Conclusions',
    '',
    `- **Synth time against the empty app: ${met(on.wallRatio <= TARGETS.synthRatio && off.wallRatio <= TARGETS.synthRatio)}${
      on.templateWallRatio > TARGETS.synthRatio || off.templateWallRatio > TARGETS.synthRatio
        ? `, and not attainable with these resources${on.templateWallRatio > TARGETS.synthRatio && off.templateWallRatio <= TARGETS.synthRatio ? " with CDK's default validation" : ''}`
        : ''
    }.** \`${r.example}\` takes ${x(on.wallRatio)} the empty app with CDK's default validation ` +
      `and ${x(off.wallRatio)} without it (target ${TARGETS.synthRatio}x). The same template without the library already takes ` +
      `${x(on.templateWallRatio)} and ${x(off.templateWallRatio)}: loading the L1 classes of its ${types} resource types and validating ` +
      'them is what aws-cdk-lib charges for these resources, whoever writes them. Without validation the example adds ' +
      `${ms(off.exampleWallMs - off.emptyWallMs)} to a ${ms(off.emptyWallMs)} empty synth; with it, CDK's validation engine alone ` +
      `adds ${ms(on.exampleWallMs - off.exampleWallMs)} to the example (${ms(on.emptyWallMs - off.emptyWallMs)} to the empty app).`,
    `- **What the library adds: ${met(on.libraryWallRatio <= TARGETS.synthRatio && off.libraryWallRatio <= TARGETS.synthRatio)}.** ` +
      `Over the same template without the library, the example takes ${x(on.libraryWallRatio)} with validation ` +
      `(${signedMs(on.exampleWallMs - on.sameTemplateWallMs)}) and ${x(off.libraryWallRatio)} without ` +
      `(${signedMs(off.exampleWallMs - off.sameTemplateWallMs)}): the L2 constructs, the library's logic, its two assets and the ` +
      "example's own code. About 160 ms of it is aws-cdk-lib's region fact tables (`aws-cdk-lib/region-info`, 1.4 MB), " +
      'which `s3.Bucket.fromBucketAttributes` loads: the example calls it to import the replica bucket, and so does ' +
      "aws-cdk-lib's asset machinery for the Lambda code of the registration and of the `custom_resources.Provider` " +
      'framework. This is the target the library is held to: ' +
      `${TARGETS.synthRatio}x over what the same resources cost without it.`,
    `  - Cause 1, CDK's built-in CloudFormation validation (aws-cdk-lib ${r.cdkVersion}): a WebAssembly engine that runs after ` +
      "every synth and grows with the template. It is not the library's to switch off; pipelines that validate " +
      'templates otherwise (cfn-lint, cfn-guard, cdk-nag) can run `cdk synth --no-validation`.',
    `  - Cause 2, the aws-cdk-lib modules of the services a stack uses: in the CPU profile, loading and compiling modules, ` +
      `aws-cdk-lib's own code and garbage collection make up ${pct(cdkShare)} of the extra CPU time, the library's own code ` +
      `${pct(libShare)}. The example's templates hold ${types} resource types, built with ${services.length} aws-cdk-lib ` +
      `service modules an empty app does not load${largest ? ` (the largest, \`${largest[0]}\`, ${kb(largest[1][1])})` : ''}. ` +
      'That cost is per service, not per resource: in section 2 each further production runner adds only ' +
      `${ms(perRunnerMs)} to the ${ms(prodPoints[0].wallMs)} of a 1-runner stack.`,
    ...(featureLine ? [featureLine] : []),
    `  - The library's own code is ${pct(libShare)} of the extra CPU time: the cost follows the features, each of ` +
      'which brings aws-cdk-lib service modules to load and constructs to build, not computation of the library. ' +
      `Bringing this example to ${TARGETS.synthRatio}x an empty app would take dropping features from it, not a faster library; ` +
      'keeping registration and monitoring opt-in (as they are) keeps runners that do not use them cheaper to synth.',
    `- **Side effects: ${met(sideEffectsClean(r.guard.example))}.** ${sideEffectsClean(r.guard.example) ? 'A synth spawns no process, opens no connection, looks up no host and loads no bundler' : 'See section 1'}; ` +
      'the Lambda code is prebuilt and only copied.',
    `- **Runners per stack: ${met(b.maxRunners >= TARGETS.basicRunnersPerStack)}.** ${b.maxRunners} basic runners (${b.resourcesPerRunner} resources each, limited by ${b.limitedBy}; ` +
      `target ${TARGETS.basicRunnersPerStack}) and ${p.maxRunners} production runners (${p.resourcesPerRunner} resources each, limited by ` +
      `${p.limitedBy}) fit one stack. The OIDC provider, the access-logs bucket and the registration provider are created ` +
      `once per stack. ${monitoringResources} of a production runner's ${p.resourcesPerRunner} resources are its monitoring ` +
      '(metric filters, alarms, topic with its policy and subscription, events rule and log group).',
    `- **Handler: ${met(r.handler.bytes < TARGETS.handlerBytes)}.** ${kb(r.handler.bytes)} (target under ${kb(TARGETS.handlerBytes)}); it loads in ${ms(r.handler.withoutSdkMs)}, ` +
      `the SDK client it requires in ${ms(r.handler.sdkOnlyMs)}.`,
    `- **Cost.** An idle basic runner costs ${usd(r.cost.basic.totalUsd)} a month, all of it storage of the stated usage. ` +
      `A production runner costs ${usd(r.cost.scaleProduction.one.totalUsd)}, each further one ${usd(perProd)}` +
      (dashboardShared
        ? `: the runners of a stack share one dashboard (${usd(dashboards)} a month), which saves a 10-runner production ` +
          `stack ${usd(9 * dashboards)} a month over a dashboard per runner. A ${JOB.minutes}-minute `
        : `, of which ${usd(dashboards)} is its own dashboard. A ${JOB.minutes}-minute `) +
      `job costs ${usd(r.cost.job.onDemandUsd)} (on demand: the orchestrator never uses Spot).`,
    '',
  ];
}

export function renderReport(r: BenchResults): string {
  return [
    '# Benchmarks',
    '',
    'What the library costs its users: synth time, runners per stack, the registration handler, and what a runner ' +
      'costs to keep. Generated by `npm run bench` (`scripts/bench.ts`); do not edit by hand, rerun it.',
    '',
    ...machineSection(r),
    ...summarySection(r),
    ...synthSection(r),
    ...scaleSection(r),
    ...handlerSection(r),
    ...(r.cli ? cliSection(r.cli) : []),
    ...costSection(r),
    ...conclusionsSection(r),
  ].join('\n');
}

/** The CLI's lines of the console summary. */
export function cliSummaryLines(c: CliResult): string[] {
  return [
    `cli: ${kb(c.bytes)} (${kb(c.gzipBytes)} gzip), requires ${c.externalRequires.join(', ') || 'nothing outside Node.js'}; ` +
      `check --template (${c.calls} calls) ${ms(c.checkWallMs)} wall, ${ms(c.checkCpuMs)} CPU (node -e "": ${ms(c.processWallMs)})`,
  ];
}

/** The CLI's rows of the targets table. */
export function cliTargetRows(c: CliResult): string[][] {
  return [
    [
      `CLI (\`bin/po-ecs-runner.js\`) one file, no runtime dependencies, under ${kb(TARGETS.cliBytes)}`,
      `${kb(c.bytes)} (${kb(c.gzipBytes)} gzipped); requires ${c.externalRequires.map((m) => `\`${m}\``).join(', ') || 'nothing outside Node.js'}`,
      yes(c.bytes < TARGETS.cliBytes && c.externalRequires.length === 0),
    ],
    [
      `cold start of \`po-ecs-runner check --template\` on examples/complete-production under ${ms(TARGETS.cliCheckMs)}`,
      `${ms(c.checkWallMs)} wall (median of ${c.runs}; fastest ${ms(c.checkMinWallMs)}), ${ms(c.checkCpuMs)} CPU, ${c.calls} calls`,
      yes(c.checkWallMs < TARGETS.cliCheckMs),
    ],
  ];
}

/** The CLI's section. */
export function cliSection(c: CliResult): string[] {
  return [
    '## 3b. The CLI and its offline check',
    '',
    '`bin/po-ecs-runner.js`, bundled by `npm run bundle` (esbuild, minified, everything included: users install ' +
      "nothing but the package). The AWS SDK's CloudFormation client is loaded only by the commands that read a " +
      'stack, so `check --template` does not pay for it.',
    '',
    ...table(
      [
        'bundle',
        'gzipped',
        'requires at run time',
        '`check --template`, wall (median / fastest)',
        'CPU',
        'calls checked',
        '`node -e ""`, wall / CPU',
      ],
      [
        [
          `**${kb(c.bytes)}**`,
          kb(c.gzipBytes),
          c.externalRequires.map((m) => `\`${m}\``).join(', ') || 'nothing outside Node.js',
          `**${ms(c.checkWallMs)}** / ${ms(c.checkMinWallMs)}`,
          ms(c.checkCpuMs),
          String(c.calls),
          `${ms(c.processWallMs)} / ${ms(c.processCpuMs)}`,
        ],
      ],
    ),
    '',
    `Each run is a whole \`node bin/po-ecs-runner.js check --template <complete-production template>\` process, ` +
      `${c.runs} runs alternated with a bare \`node -e ""\` after one discarded warm-up; CPU time (user + system) is read ` +
      `by a preloaded probe at exit. The check exited ${c.exitCode} (0: every call allowed and every attack denied).`,
    '',
  ];
}
