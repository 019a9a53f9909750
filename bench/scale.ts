/**
 * Runners per stack: the example's stack (examples/basic, or examples/complete-production's
 * production profile) with further runners of the same props, each with its own runner id. The
 * runners share what a stack shares (the imported VPC, boundary, token; the OIDC provider, the
 * access-logs bucket, the registration provider, the dashboard). Resources, outputs and template
 * bytes per runner are fitted from 1 and 10 runners; the fit's maximum is then synthesized, and
 * one more, with CDK's own 500-resource check on.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { EcsRunner } from 'platform-orchestrator-ecs-runner';
import { basicRunnerProps, BasicRunnerStack } from '../examples/basic/app';
import { CompleteProductionRunnerStack } from '../examples/complete-production/app';

/** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
export const CFN_LIMITS = { resources: 500, bytes: 1_000_000, outputs: 200 } as const;
type Measure = keyof typeof CFN_LIMITS;

export type Profile = 'basic' | 'production';
const EXAMPLE: Record<Profile, string> = { basic: 'basic', production: 'complete-production' };

/** The example's cdk.json context, and the CDK CLI's version reporting (a CDKMetadata resource, as `cdk synth` adds). */
function cdkJsonContext(profile: Profile): Record<string, any> {
  const file = path.join(__dirname, '..', 'examples', EXAMPLE[profile], 'cdk.json');
  return { ...JSON.parse(readFileSync(file, 'utf8')).context, 'aws:cdk:version-reporting': true };
}

/** One stack of `runners` runners of `profile`. */
export function scaleStack(profile: Profile, runners: number, app: App): Stack {
  if (profile === 'basic') {
    const stack = new BasicRunnerStack(app, 'RunnersPerStack');
    for (let i = 1; i < runners; i++) new EcsRunner(stack, `Runner${i}`, basicRunnerProps(stack));
    return stack;
  }
  const stack = new CompleteProductionRunnerStack(app, 'RunnersPerStack');
  const { props, monitoring } = stack.profile;
  for (let i = 1; i < runners; i++) {
    new EcsRunner(stack, `Runner${i}`, { ...props, runnerId: `${props.runnerId}-${i}` }).addMonitoring(monitoring);
  }
  return stack;
}

export interface StackSize extends Record<Measure, number> {
  readonly runners: number;
  readonly template: any;
}

/** Synthesizes the stack (CDK's resource check on; its template validation off: it checks, not builds). */
export function synthScale(profile: Profile, runners: number): StackSize {
  const outdir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  try {
    const app = new App({ outdir, context: cdkJsonContext(profile), builtinCloudFormationValidation: false });
    const stack = scaleStack(profile, runners, app);
    const artifact = app.synth().getStackArtifact(stack.artifactId);
    const t = artifact.template;
    const [resources, outputs] = [t.Resources, t.Outputs].map((s) => Object.keys(s ?? {}).length);
    return { runners, resources, outputs, bytes: statSync(artifact.templateFullPath).size, template: t };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface Scale {
  readonly profile: Profile;
  readonly one: StackSize;
  readonly ten: StackSize;
  readonly perRunner: Record<Measure, number>;
  readonly shared: Record<Measure, number>;
  /** Runners that fit under each limit, and under all of them. */
  readonly fits: Record<Measure, number>;
  readonly max: number;
  readonly limitedBy: Measure;
  /** `max` runners, synthesized. */
  readonly atMax: StackSize;
  /** What `max + 1` runners give: CDK's error, or the limit they exceed. */
  readonly pastMax: string;
}

export function fitScale(profile: Profile, one: StackSize, ten: StackSize): Omit<Scale, 'atMax' | 'pastMax'> {
  const measures = Object.keys(CFN_LIMITS) as Measure[];
  const perRunner = Object.fromEntries(measures.map((m) => [m, (ten[m] - one[m]) / 9])) as Record<Measure, number>;
  const shared = Object.fromEntries(measures.map((m) => [m, one[m] - perRunner[m]])) as Record<Measure, number>;
  const fits = Object.fromEntries(
    measures.map((m) => [m, Math.floor((CFN_LIMITS[m] - shared[m]) / perRunner[m] + 1e-9)]),
  ) as Record<Measure, number>;
  const limitedBy = measures.reduce((a, b) => (fits[b] < fits[a] ? b : a));
  return { profile, one, ten, perRunner, shared, fits, max: fits[limitedBy], limitedBy };
}

function overLimits(size: StackSize): Measure[] {
  return (Object.keys(CFN_LIMITS) as Measure[]).filter((m) => size[m] > CFN_LIMITS[m]);
}

export function measureScale(profile: Profile): Scale {
  const fit = fitScale(profile, synthScale(profile, 1), synthScale(profile, 10));
  const atMax = synthScale(profile, fit.max);
  if (overLimits(atMax).length > 0) throw new Error(`${fit.max} ${profile} runners exceed ${overLimits(atMax)}`);
  let pastMax = '';
  try {
    const over = overLimits(synthScale(profile, fit.max + 1));
    if (over.length > 0) pastMax = `over the ${over.join(', ')} limit`;
  } catch (e) {
    pastMax = /Number of resources in stack .*? maximum of \d+/.exec((e as Error).message)?.[0] ?? '';
    if (!pastMax) throw e;
  }
  if (!pastMax) throw new Error(`${fit.max + 1} ${profile} runners fit in a stack: the fit is wrong`);
  return { ...fit, atMax, pastMax };
}
