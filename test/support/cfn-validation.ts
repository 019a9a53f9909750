/**
 * Findings of aws-cdk-lib's own CloudFormation validation (`CloudFormationValidatePlugin`, the
 * `@aws/cloudformation-validate` engine CDK runs after every synth), as data, offline.
 *
 * - Stacks of the app and of its stages: CDK's built-in validation, as a user's `cdk synth` runs
 *   it, with two context keys: `@aws-cdk/core:validateAgainstDefaultRules` keeps errors errors
 *   (without it CDK downgrades every finding to a warning), and
 *   `@aws-cdk/core:failSynthOnValidationErrors: false` makes findings data instead of an exception.
 *   They are read from the `validation-report.json` CDK writes into the cloud assembly;
 *   acknowledged ones (`Validations.of(construct).acknowledge(...)`) are in its
 *   `suppressedViolations`.
 * - Nested stacks: CDK validates only the templates of stack artifacts, and a nested stack's
 *   template is a file asset of its parent, so this module runs the same plugin class on each
 *   nested template and applies acknowledgements the way CDK does (the violating resource or an
 *   ancestor carries `CloudFormation-Validate::<rule>` in its acknowledged-rules metadata).
 *
 * The engine's first construction costs seconds (once per module registry, i.e. per jest test
 * file); later validations reuse it.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  App,
  AppProps,
  CfnElement,
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

/** Every finding of the app's synthesis, acknowledged or not; `assembly` is `app.synth()`'s result. */
export function cfnFindings(app: App, assembly: CloudAssembly): CfnFinding[] {
  return [...reportFindings(app, assembly), ...nestedStackFindings(app)];
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

/** The plugin instance for nested templates (its engine is reused across apps). */
let nestedValidator: CloudFormationValidatePlugin | undefined;

function nestedStackFindings(app: App): CfnFinding[] {
  const nested = app.node.findAll().filter((c): c is NestedStack => NestedStack.isNestedStack(c));
  if (nested.length === 0) return [];
  nestedValidator ??= new CloudFormationValidatePlugin();
  const findings: CfnFinding[] = [];
  for (const stack of nested) {
    const templatePath = path.join(Stage.of(stack)!.outdir, stack.templateFile);
    const report = nestedValidator.validate({
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
