/**
 * The baseline of the synth-time benchmark: the example's own synthesized stacks (same ids and
 * environments), each resource, output and condition rebuilt as a plain `CfnResource`/`CfnOutput`/
 * `CfnCondition` after loading the generated L1 class of its type (as any code creating these
 * resources does), and no line of the library: the least aws-cdk-lib charges for this template,
 * whoever writes it. (Not `CfnInclude`: its YAML parsing and typed rebuilding cost time of their own.)
 *
 * Run as a process (`node same-template.js`), it reads the stacks from the file BENCH_SAME_TEMPLATE names.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';

export interface SameTemplateStack {
  readonly id: string;
  readonly account?: string;
  readonly region?: string;
  readonly template: Record<string, any>;
}

/** A template without what the stack synthesizes again (bootstrap version check, CDK metadata). */
export function withoutSynthesizedParts(template: Record<string, any>): Record<string, any> {
  const copy = structuredClone(template);
  for (const [section, key] of [
    ['Parameters', 'BootstrapVersion'],
    ['Rules', 'CheckBootstrapVersion'],
    ['Resources', 'CDKMetadata'],
    ['Conditions', 'CDKMetadataAvailable'],
  ]) {
    delete copy[section]?.[key];
    if (copy[section] && Object.keys(copy[section]).length === 0) delete copy[section];
  }
  return copy;
}

/** The stacks of the cloud assembly in `dir` (top-level stacks only), ready to rebuild. */
export function stacksOfAssembly(dir: string): SameTemplateStack[] {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Object.entries<any>(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => {
      const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(a.environment)!;
      const template = JSON.parse(readFileSync(path.join(dir, a.properties.templateFile), 'utf8'));
      return {
        id,
        account: account === 'unknown-account' ? undefined : account,
        region: region === 'unknown-region' ? undefined : region,
        template: withoutSynthesizedParts(template),
      };
    });
}

const SECTIONS = new Set(['AWSTemplateFormatVersion', 'Description', 'Resources', 'Outputs', 'Conditions']);
const ATTRIBUTES = ['DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'Condition', 'Metadata'];

/** A template value (intrinsic functions included) rendered as it is. */
function raw(value: unknown): cdk.IResolvable {
  const resolvable: cdk.IResolvable = {
    creationStack: [],
    resolve: () => value,
    toString: () => cdk.Token.asString(resolvable),
  };
  return resolvable;
}

export function buildSameTemplateApp(stacks: SameTemplateStack[], app = new cdk.App()): cdk.App {
  for (const s of stacks) {
    const t = s.template;
    const unknown = Object.keys(t).filter((section) => !SECTIONS.has(section));
    if (unknown.length > 0) throw new Error(`the baseline cannot rebuild ${unknown.join(', ')}`);
    const stack = new cdk.Stack(app, s.id, {
      env: { account: s.account, region: s.region },
      description: t.Description,
    });
    for (const [logicalId, expression] of Object.entries<any>(t.Conditions ?? {})) {
      new cdk.CfnCondition(stack, logicalId, { expression: raw(expression) as any }).overrideLogicalId(logicalId);
    }
    for (const [logicalId, r] of Object.entries<any>(t.Resources ?? {})) {
      const [, service, name] = /^AWS::(\w+)::(\w+)$/.exec(r.Type) ?? [];
      // Loads the service's generated L1 module (aws-cdk-lib's index loads each on first access).
      if (service && typeof (cdk as any)[`aws_${service.toLowerCase()}`]?.[`Cfn${name}`] !== 'function') {
        throw new Error(`no L1 class for ${r.Type}`);
      }
      const resource = new cdk.CfnResource(stack, logicalId, { type: r.Type, properties: r.Properties });
      resource.overrideLogicalId(logicalId);
      for (const a of ATTRIBUTES) if (r[a] !== undefined) resource.addOverride(a, r[a]);
    }
    for (const [logicalId, o] of Object.entries<any>(t.Outputs ?? {})) {
      if (o.Condition || o.Export) throw new Error(`output ${logicalId}: conditions and exports are not rebuilt`);
      const output = new cdk.CfnOutput(stack, logicalId, {
        value: cdk.Token.asString(raw(o.Value)),
        description: o.Description,
      });
      output.overrideLogicalId(logicalId);
    }
  }
  return app;
}

if (require.main === module) {
  buildSameTemplateApp(JSON.parse(readFileSync(process.env.BENCH_SAME_TEMPLATE!, 'utf8'))).synth();
}
