/**
 * The second baseline of the synth-time benchmark: the example's own synthesized stacks, with
 * the same names, environments and description, each holding the example's resources, outputs
 * and conditions as plain `CfnResource`s, and no line of this library. It loads the generated L1
 * class of every resource type the example uses (any CDK code that creates these resources
 * does), runs CDK's validation over the same resources and writes the same template: the least
 * aws-cdk-lib charges for this template, whoever writes it. What the example takes beyond it is
 * what the library (its L2 constructs, its logic and its assets) and the example's own code cost.
 *
 * Not `CfnInclude`: it parses the template as YAML and builds typed L1s from it, some 250 ms of
 * its own on this machine, which would count against the baseline and flatter the library.
 *
 * BENCH_SAME_TEMPLATE names a JSON file written by `prepareSameTemplate` (synth-time.ts): a list
 * of `{ id, account?, region?, templateFile }`, one per stack. Each template file has already lost
 * what the stack synthesizes again: the `BootstrapVersion` parameter, the `CheckBootstrapVersion`
 * rule and the `CDKMetadata` resource with its condition.
 */
import { readFileSync } from 'fs';
import * as cdk from 'aws-cdk-lib';
import { App, CfnCondition, CfnOutput, CfnResource, IResolvable, Stack, Token } from 'aws-cdk-lib';

export interface SameTemplateStack {
  readonly id: string;
  readonly account?: string;
  readonly region?: string;
  readonly templateFile: string;
}

/** Template sections this baseline rebuilds; anything else fails loudly rather than being dropped. */
const SECTIONS = new Set(['AWSTemplateFormatVersion', 'Description', 'Resources', 'Outputs', 'Conditions']);
/** Resource attributes besides Type and Properties, copied as they are. */
const ATTRIBUTES = [
  'DependsOn',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
  'Condition',
  'Metadata',
];

/** A template value (intrinsic functions included) rendered as it is. */
function raw(value: unknown): IResolvable {
  const resolvable: IResolvable = {
    creationStack: [],
    resolve: () => value,
    toString: () => Token.asString(resolvable),
  };
  return resolvable;
}

/**
 * Loads the generated L1 class of a resource type, as code creating that resource would:
 * `AWS::IAM::Role` is `CfnRole` of `aws-cdk-lib/aws-iam`. Custom resources and CDK's metadata
 * have no service module.
 */
function loadL1Class(type: string): void {
  const match = /^AWS::([A-Za-z0-9]+)::([A-Za-z0-9]+)$/.exec(type);
  if (!match || match[1] === 'CDK' || match[1] === 'CloudFormation') return;
  // aws-cdk-lib's index loads each service namespace, and each class, on first access.
  const namespace = `aws_${match[1].toLowerCase()}`;
  const service = (cdk as unknown as Record<string, Record<string, unknown> | undefined>)[namespace];
  if (typeof service?.[`Cfn${match[2]}`] !== 'function') {
    throw new Error(`no L1 class Cfn${match[2]} in aws-cdk-lib's ${namespace} for ${type}`);
  }
}

/** Rebuilds one template in `stack`, logical ID for logical ID. */
export function rebuildTemplate(stack: Stack, template: Record<string, any>): void {
  const unknown = Object.keys(template).filter((section) => !SECTIONS.has(section));
  if (unknown.length > 0) throw new Error(`the same-template baseline cannot rebuild ${unknown.join(', ')}`);
  if (template.Description) stack.templateOptions.description = template.Description;
  for (const type of new Set(Object.values<any>(template.Resources ?? {}).map((r) => r.Type as string))) {
    loadL1Class(type);
  }
  for (const [logicalId, expression] of Object.entries<any>(template.Conditions ?? {})) {
    new CfnCondition(stack, logicalId, { expression: raw(expression) as any }).overrideLogicalId(logicalId);
  }
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    const created = new CfnResource(stack, logicalId, { type: resource.Type, properties: resource.Properties });
    created.overrideLogicalId(logicalId);
    for (const attribute of ATTRIBUTES) {
      if (resource[attribute] !== undefined) created.addOverride(attribute, resource[attribute]);
    }
  }
  for (const [logicalId, output] of Object.entries<any>(template.Outputs ?? {})) {
    if (output.Condition) throw new Error(`output ${logicalId}: conditional outputs are not rebuilt`);
    new CfnOutput(stack, logicalId, {
      value: Token.asString(raw(output.Value)),
      description: output.Description,
      exportName: output.Export ? Token.asString(raw(output.Export.Name)) : undefined,
    }).overrideLogicalId(logicalId);
  }
}

/** One stack per entry of `stacksFile`, each rebuilding its template. */
export function buildSameTemplateApp(stacksFile: string, app: App = new App()): App {
  const stacks: SameTemplateStack[] = JSON.parse(readFileSync(stacksFile, 'utf8'));
  for (const s of stacks) {
    const stack = new Stack(app, s.id, { env: { account: s.account, region: s.region } });
    rebuildTemplate(stack, JSON.parse(readFileSync(s.templateFile, 'utf8')));
  }
  return app;
}

if (require.main === module) {
  const spec = process.env.BENCH_SAME_TEMPLATE;
  if (!spec) throw new Error('set BENCH_SAME_TEMPLATE to the stacks file written by prepareSameTemplate');
  buildSameTemplateApp(spec).synth();
}
