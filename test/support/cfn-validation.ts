/**
 * Findings of aws-cdk-lib's own CloudFormation validation (`CloudFormationValidatePlugin`, the
 * `@aws/cloudformation-validate` engine CDK runs after every synth), as data, offline. Two ways:
 *
 * - {@link cfnFindings}: CDK's built-in validation, as a user's `cdk synth` runs it, for the stacks
 *   of the app and of its stages, with two context keys ({@link validatedApp}):
 *   `@aws-cdk/core:validateAgainstDefaultRules` keeps errors errors (without it CDK downgrades every
 *   finding to a warning), and `@aws-cdk/core:failSynthOnValidationErrors: false` makes findings
 *   data instead of an exception. They are read from the `validation-report.json` CDK writes into
 *   the cloud assembly; acknowledged ones (`Validations.of(construct).acknowledge(...)`) are in its
 *   `suppressedViolations`. CDK validates only the templates of stack artifacts (a nested stack's
 *   template is a file asset of its parent), so nested stacks' templates are validated as below.
 * - {@link validateTemplates}: the same plugin class run directly on every template of an app
 *   synthesized without the built-in validation (`builtinCloudFormationValidation: false`), nested
 *   stacks included, acknowledgements applied the way CDK applies them (the violating resource or
 *   an ancestor carries `CloudFormation-Validate::<rule>` in its acknowledged-rules metadata). The
 *   same engine and rules without CDK's report machinery, which costs more than the engine (a
 *   property test validates hundreds of apps).
 *
 * The engine's first construction costs seconds (once per module registry, i.e. per jest test
 * file). The plugin builds an engine for the resource types of what it validates, and builds it
 * again whenever a template has a type the last engine lacks: apps of changing types (a property
 * test) rebuild it nearly every time. {@link warmCfnValidation} builds the engine of
 * {@link validateTemplates} once for a union of types.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  App,
  AppProps,
  CfnElement,
  CfnResource,
  CloudFormationValidatePlugin,
  NestedStack,
  Stack,
  Stage,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';

/** The plugin's name in the report, and (dashed) the namespace of its rule ids. */
const PLUGIN_NAME = CloudFormationValidatePlugin.PLUGIN_NAME;
const NAMESPACE = PLUGIN_NAME.replace(/ /g, '-');

/** Context of an app whose CloudFormation validation findings are read with {@link cfnFindings}. */
export const CFN_VALIDATION_CONTEXT: Readonly<Record<string, boolean>> = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:failSynthOnValidationErrors': false,
};

/** An app whose CloudFormation validation findings {@link cfnFindings} can read. */
export function validatedApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...CFN_VALIDATION_CONTEXT, ...props.context } });
}

/** One finding: one rule on the resources (or templates) it names. */
export interface CfnFinding {
  /** The engine's rule id, e.g. `E3012`. */
  readonly rule: string;
  /** `error` (the engine's ERROR and FATAL), `warning`, ... */
  readonly severity: string;
  readonly description: string;
  /** Construct paths of the violating resources (a stack's path for template-level findings). */
  readonly constructPaths: string[];
  /** Whether an acknowledgement covers it (then it is not open). */
  readonly acknowledged: boolean;
}

/**
 * Every finding of the app's synthesis, acknowledged or not, from CDK's built-in validation (and
 * the plugin on nested stacks' templates); `assembly` is `app.synth()`'s result.
 */
export function cfnFindings(app: App, assembly: CloudAssembly): CfnFinding[] {
  const nested = app.node.findAll().filter((c): c is NestedStack => NestedStack.isNestedStack(c));
  return [...reportFindings(app, assembly), ...pluginFindings(app, nested)];
}

/**
 * Every finding of the plugin on every template of a synthesized app (stacks, stages' stacks,
 * nested stacks), acknowledged or not. For apps synthesized with `builtinCloudFormationValidation: false`.
 */
export function validateTemplates(app: App): CfnFinding[] {
  return pluginFindings(
    app,
    app.node.findAll().filter((c): c is Stack => Stack.isStack(c)),
  );
}

/** The findings no acknowledgement covers. */
export function openCfnFindings(app: App, assembly: CloudAssembly): CfnFinding[] {
  return cfnFindings(app, assembly).filter((f) => !f.acknowledged);
}

/** One line per finding, for an assertion message. */
export function describeFindings(findings: readonly CfnFinding[]): string {
  return findings
    .map(
      (f) =>
        `${f.severity} ${f.rule}${f.acknowledged ? ' (acknowledged)' : ''}: ${f.description} [${f.constructPaths.join(', ')}]`,
    )
    .join('\n');
}

interface ReportViolation {
  ruleName: string;
  description: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
}

function reportFindings(app: App, assembly: CloudAssembly): CfnFinding[] {
  // Validation switched off would make every "no finding" check pass vacuously.
  if (process.env.CDK_VALIDATION === 'false' || app._builtinCloudFormationValidation === false) {
    throw new Error(
      `CDK's CloudFormation validation did not run (CDK_VALIDATION=${process.env.CDK_VALIDATION ?? '(unset)'}, builtinCloudFormationValidation=${app._builtinCloudFormationValidation})`,
    );
  }
  const file = path.join(assembly.directory, 'validation-report.json');
  // CDK writes the report whenever a plugin ran, and leaves out each plugin that found nothing.
  if (!fs.existsSync(file)) throw new Error(`no validation-report.json in ${assembly.directory}`);
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const plugin = (report.pluginReports ?? []).find((r: any) => r.pluginName === PLUGIN_NAME);
  if (plugin === undefined) return [];
  if (plugin.metadata?.error) throw new Error(`${PLUGIN_NAME} failed: ${plugin.metadata.error}`);
  const of = (v: ReportViolation, acknowledged: boolean): CfnFinding => ({
    rule: v.ruleName,
    severity: v.severity,
    description: v.description,
    constructPaths: v.violatingConstructs.map((c) => c.constructPath),
    acknowledged,
  });
  return [
    ...(plugin.violations ?? []).map((v: ReportViolation) => of(v, false)),
    ...(plugin.suppressedViolations ?? []).map((v: ReportViolation) => of(v, true)),
  ];
}

/** The plugin instance this module runs itself (its engine is reused across apps). */
let validator: CloudFormationValidatePlugin | undefined;

/** The resource types the engine was last built for. */
const warmedTypes = new Set<string>();

/**
 * Builds the engine {@link validateTemplates} uses for `types` and every type given before, unless
 * it has them already: one engine then serves every later app whose types are among them. Call it
 * before validating, with the app's types.
 */
export function warmCfnValidation(types: Iterable<string>): void {
  const before = warmedTypes.size;
  for (const type of types) warmedTypes.add(type);
  if (warmedTypes.size === before) return;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-validation-warm-'));
  try {
    // A template with one (empty) resource of each type: its findings do not matter.
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'CfnValidationWarmUp');
    [...warmedTypes].forEach((type, i) => new CfnResource(stack, `R${i}`, { type }));
    app.synth();
    pluginFindings(app, [stack]);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The resource types of an app's stacks, nested ones included. */
export function resourceTypes(app: App): Set<string> {
  return new Set(
    app.node
      .findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c))
      .map((c) => c.cfnResourceType),
  );
}

/** The plugin's findings on the templates of `stacks` (of a synthesized app), with CDK's acknowledgements. */
function pluginFindings(app: App, stacks: Stack[]): CfnFinding[] {
  if (stacks.length === 0) return [];
  validator ??= new CloudFormationValidatePlugin();
  const findings: CfnFinding[] = [];
  for (const stack of stacks) {
    const templatePath = path.join(Stage.of(stack)!.outdir, stack.templateFile);
    const report = validator.validate({
      templatePaths: [templatePath],
      stackTemplates: [
        {
          stackConstructPath: stack.node.path,
          templatePath,
          accountId: Token.isUnresolved(stack.account) ? undefined : stack.account,
          region: Token.isUnresolved(stack.region) ? undefined : stack.region,
        },
      ],
      appConstruct: app,
    });
    const byLogicalId = elementsByLogicalId(stack);
    for (const violation of report.violations) {
      const constructs = violation.violatingResources.map((r) =>
        r.resourceLogicalId !== undefined ? (byLogicalId.get(r.resourceLogicalId) ?? stack) : stack,
      );
      const id = `${NAMESPACE}::${violation.ruleName}`;
      const acked = constructs.map((c) => isAcknowledged(c, id));
      // Split like CDK does: the acknowledged resources and the others are two findings.
      for (const acknowledged of [false, true]) {
        const paths = constructs.filter((_, i) => acked[i] === acknowledged).map((c) => c.node.path);
        if (paths.length === 0) continue;
        findings.push({
          rule: violation.ruleName,
          severity: violation.severity ?? 'error',
          description: violation.description,
          constructPaths: paths,
          acknowledged,
        });
      }
    }
  }
  return findings;
}

function elementsByLogicalId(stack: Stack): Map<string, IConstruct> {
  const map = new Map<string, IConstruct>();
  for (const c of stack.node.findAll()) {
    if (CfnElement.isCfnElement(c) && c.stack === stack) map.set(stack.resolve(c.logicalId), c);
  }
  return map;
}

/** Whether `construct` or an ancestor acknowledges `id` (CDK's rule for the stacks it validates). */
function isAcknowledged(construct: IConstruct, id: string): boolean {
  return construct.node.scopes.some((scope) =>
    scope.node.metadata.some(
      (m) =>
        m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY &&
        typeof m.data === 'object' &&
        Object.prototype.hasOwnProperty.call(m.data, id),
    ),
  );
}
