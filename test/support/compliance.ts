/**
 * The compliance harness: synthesizes an App once with five policy-validation plugins
 * registered the way a user registers them (`Validations.of(app).addPlugins(...)`):
 *
 * - cdk-nag v3's AwsSolutions, HIPAA.Security, NIST.800.53.R5 and PCI.DSS.321 packs, and
 * - @cdklabs/cdk-validator-cfnguard (the bundled AWS Control Tower proactive controls),
 *
 * and returns every finding, acknowledged or not, with its rule, resource, severity and
 * (when acknowledged) the reason and the construct the acknowledgement sits on.
 *
 * Where the findings come from:
 *
 * - Open (unacknowledged) findings of all five plugins: the `validation-report.json` CDK writes
 *   into the cloud assembly. That is exactly what `cdk synth` reports and fails on. Synthesis is
 *   told not to throw (`@aws-cdk/core:failSynthOnValidationErrors: false`) so findings are data.
 * - Acknowledged Control Tower findings: the same report's `suppressedViolations` (CDK core
 *   applies acknowledgements of `cdk-validator-cfnguard::<rule>` to plugin reports and records
 *   the reason and where the acknowledgement sits).
 * - Acknowledged cdk-nag findings: cdk-nag v3 drops acknowledged findings itself, before CDK
 *   sees them, so the report never contains them. After synthesis the harness runs a second
 *   instance of each pack over the finalized construct tree with its acknowledgement lookup
 *   switched off (`validateScope` with `isAcknowledged` returning false), which yields every
 *   finding before acknowledgement; each one that is not open is matched to the acknowledgement
 *   cdk-nag honoured (same lookup: the resource or an ancestor carries
 *   `Annotation::<rule id>` in its `aws:cdk:acknowledged-rules` metadata). The two runs must
 *   agree exactly, or the harness throws.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, AppProps, CfnResource, IPolicyValidationPlugin, Stack, Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** Name of the plugin of the Control Tower controls (and the namespace of their acknowledgement ids). */
export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** One of the five rule sets. */
export interface RuleSet {
  /** The plugin name, as in the validation report: 'AwsSolutions', ..., 'cdk-validator-cfnguard'. */
  readonly id: string;
  /** Human title. */
  readonly title: string;
  /** The npm package that provides it. */
  readonly packageName: string;
  /** Whether it is a cdk-nag pack (acknowledged with the bare rule id) or the cfn-guard plugin. */
  readonly kind: 'cdk-nag' | 'cfn-guard';
  /** Creates a fresh plugin instance. */
  create(app: App): IPolicyValidationPlugin;
}

export const RULE_SETS: readonly RuleSet[] = [
  {
    id: 'AwsSolutions',
    title: 'AWS Solutions',
    packageName: 'cdk-nag',
    kind: 'cdk-nag',
    create: (app) => new AwsSolutionsChecks(app),
  },
  {
    id: 'HIPAA.Security',
    title: 'HIPAA Security',
    packageName: 'cdk-nag',
    kind: 'cdk-nag',
    create: (app) => new HIPAASecurityChecks(app),
  },
  {
    id: 'NIST.800.53.R5',
    title: 'NIST 800-53 rev 5',
    packageName: 'cdk-nag',
    kind: 'cdk-nag',
    create: (app) => new NIST80053R5Checks(app),
  },
  {
    id: 'PCI.DSS.321',
    title: 'PCI DSS 3.2.1',
    packageName: 'cdk-nag',
    kind: 'cdk-nag',
    create: (app) => new PCIDSS321Checks(app),
  },
  {
    id: CFN_GUARD_PLUGIN,
    title: 'AWS Control Tower proactive controls (cfn-guard)',
    packageName: '@cdklabs/cdk-validator-cfnguard',
    kind: 'cfn-guard',
    // The plugin implements the Beta1 interface, which is structurally a stable plugin whose
    // violating resources always carry a logical id and template path.
    create: () => new CfnGuardValidator() as unknown as IPolicyValidationPlugin,
  },
];

/** One finding: one rule (with its granular finding id, if any) on one resource. */
export interface Finding {
  /** Rule set id (plugin name). */
  readonly ruleSet: string;
  /**
   * The id the finding is reported and acknowledged under, without plugin namespace:
   * `AwsSolutions-IAM5[Resource::*]`, `HIPAA.Security-S3BucketLoggingEnabled`,
   * `s3_bucket_logging_enabled_check`.
   */
  readonly ruleId: string;
  /** The rule without the granular finding id: `AwsSolutions-IAM5`. */
  readonly rule: string;
  /** The granular finding id (`Resource::*`), if the rule reports several per resource. */
  readonly findingId?: string;
  /** The Control Tower control id (`CT.S3.PR.2`), for cfn-guard findings. */
  readonly control?: string;
  /**
   * What `Validations.of(construct).acknowledge({ id })` needs: the bare rule id for cdk-nag,
   * `cdk-validator-cfnguard::<rule>` for cfn-guard.
   */
  readonly acknowledgementId: string;
  /** What the rule checks (the plugin's description). */
  readonly description: string;
  /** 'error' or 'warning'. */
  readonly severity: string;
  /** Full construct path of the violating resource: `Stack/Runner/State/Bucket/Resource`. */
  readonly constructPath: string;
  /** Construct path of the resource's stack. */
  readonly stackPath: string;
  /** Construct path inside the stack: `Runner/State/Bucket/Resource`. */
  readonly resource: string;
  /** CloudFormation logical id of the resource. */
  readonly logicalId?: string;
  /** CloudFormation type of the resource. */
  readonly resourceType?: string;
  /** Whether an acknowledgement covers the finding. */
  readonly acknowledged: boolean;
  /** The acknowledgement's reason. */
  readonly reason?: string;
  /** Construct path of the construct the acknowledgement sits on. */
  readonly acknowledgedAt?: string;
}

/** An acknowledgement of one of the five rule sets found in the construct tree. */
export interface Acknowledgement {
  /** The rule set it belongs to. */
  readonly ruleSet: string;
  /** The id as passed to `acknowledge()`, without the `Annotation::` prefix cdk-nag ignores. */
  readonly id: string;
  /** The rule id it matches (cfn-guard: without the namespace). */
  readonly ruleId: string;
  readonly reason: string;
  /** Construct path it sits on ('' for the App). */
  readonly path: string;
  /** What kind of construct it sits on. */
  readonly on: 'app' | 'stage' | 'stack' | 'resource' | 'construct';
  /** Construct paths of the findings it acknowledges in this synthesis. */
  readonly covers: string[];
}

/** The findings of one rule set on one app. */
export interface RuleSetResult {
  readonly ruleSet: RuleSet;
  /** Every finding before acknowledgement, sorted. */
  readonly findings: Finding[];
}

/** Everything one synthesis produced. */
export interface ComplianceResult {
  readonly profile: string;
  readonly ruleSets: RuleSetResult[];
  /** Every acknowledgement of the five rule sets in the construct tree, used or not. */
  readonly acknowledgements: Acknowledgement[];
  /** Every CloudFormation resource: construct path inside its stack -> type. */
  readonly resources: Record<string, string>;
  /** Stack construct paths. */
  readonly stacks: string[];
  /** The synthesized CloudFormation templates, by stack construct path. */
  readonly templates: Record<string, any>;
  /** Milliseconds the synthesis and validation took. */
  readonly durationMs: number;
}

/** Builds the app under test with the given props (which carry outdir and context). */
export type AppFactory = (props: AppProps) => App;

/** A named app under test. */
export interface ComplianceProfile {
  readonly name: string;
  readonly description: string;
  readonly build: AppFactory;
}

const ACK_METADATA = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;

/** The resource of a cfn-guard finding reported at the template root rather than on a resource. */
export const TEMPLATE_ROOT = '(template root)';

/**
 * Synthesize the profile's app once with all five rule sets and return every finding.
 * The cloud assembly goes to a temporary directory that is removed afterwards.
 */
export function runCompliance(profile: ComplianceProfile): ComplianceResult {
  const started = Date.now();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'compliance-'));
  try {
    const app = profile.build({
      outdir,
      // The CloudFormation schema validation CDK adds by default is not one of the five.
      builtinCloudFormationValidation: false,
      context: {
        // Findings are data here: never throw, never set process.exitCode.
        '@aws-cdk/core:failSynthOnValidationErrors': false,
      },
    });
    const plugins = RULE_SETS.map((rs) => rs.create(app));
    Validations.of(app).addPlugins(...plugins);
    const assembly = app.synth();
    const report = readReport(assembly.directory);
    const templates: Record<string, any> = {};
    for (const artifact of assembly.stacksRecursively) templates[artifact.hierarchicalId] = artifact.template;
    const index = indexTree(app);
    const acknowledgements = collectAcknowledgements(app);

    const ruleSets = RULE_SETS.map((ruleSet) => {
      const pluginReport = report.pluginReports.find((r) => r.pluginName === ruleSet.id);
      if (pluginReport?.metadata?.error) {
        throw new Error(`${ruleSet.id} failed on profile ${profile.name}: ${pluginReport.metadata.error}`);
      }
      const findings =
        ruleSet.kind === 'cdk-nag'
          ? nagFindings(ruleSet, app, pluginReport, index)
          : guardFindings(ruleSet, pluginReport, index);
      return { ruleSet, findings: sortFindings(findings) };
    });

    for (const ack of acknowledgements) {
      const ruleSet = ruleSets.find((rs) => rs.ruleSet.id === ack.ruleSet)!;
      ack.covers.push(
        ...ruleSet.findings
          .filter((f) => f.acknowledged && f.ruleId === ack.ruleId && f.acknowledgedAt === ack.path)
          .map((f) => f.constructPath),
      );
    }

    return {
      profile: profile.name,
      ruleSets,
      acknowledgements,
      resources: index.resources,
      stacks: index.stacks,
      templates,
      durationMs: Date.now() - started,
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Findings not covered by an acknowledgement, over all rule sets. */
export function openFindings(result: ComplianceResult): Finding[] {
  return result.ruleSets.flatMap((rs) => rs.findings.filter((f) => !f.acknowledged));
}

/** Acknowledged findings, over all rule sets. */
export function acknowledgedFindings(result: ComplianceResult): Finding[] {
  return result.ruleSets.flatMap((rs) => rs.findings.filter((f) => f.acknowledged));
}

/** Counts per rule set: findings before acknowledgement, acknowledged, open. */
export function countFindings(rs: RuleSetResult): { total: number; acknowledged: number; open: number } {
  const acknowledged = rs.findings.filter((f) => f.acknowledged).length;
  return { total: rs.findings.length, acknowledged, open: rs.findings.length - acknowledged };
}

/**
 * Key of the control a rule id stands for, across rule sets: the same check in several packs
 * (HIPAA.Security-S3BucketLoggingEnabled, NIST.800.53.R5-S3BucketLoggingEnabled,
 * AwsSolutions-S1, s3_bucket_logging_enabled_check) has one key, so one reason may serve them
 * all. Granular finding ids are dropped.
 */
export function controlKey(ruleId: string): string {
  const base = ruleId.replace(/\[.*\]$/, '');
  const suffix = base.replace(/^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5|PCI\.DSS\.321)-/, '');
  return EQUIVALENT_CONTROLS[suffix] ?? EQUIVALENT_CONTROLS[base] ?? suffix;
}

const EQUIVALENT_CONTROLS: Record<string, string> = {
  S1: 'S3BucketLoggingEnabled',
  s3_bucket_logging_enabled_check: 'S3BucketLoggingEnabled',
  S10: 'S3BucketSSLRequestsOnly',
  s3_bucket_ssl_requests_only_check: 'S3BucketSSLRequestsOnly',
  s3_bucket_default_encryption_kms_check: 'S3DefaultEncryptionKMS',
  s3_bucket_versioning_enabled_check: 'S3BucketVersioningEnabled',
  s3_bucket_level_public_access_prohibited_check: 'S3BucketLevelPublicAccessProhibited',
  cloudwatch_log_group_encrypted_check: 'CloudWatchLogGroupEncrypted',
  lambda_inside_vpc_check: 'LambdaInsideVPC',
  KMS5: 'KMSBackingKeyRotationEnabled',
  IAM4: 'IAMNoManagedPolicies',
  ECS4: 'ECSClusterCloudWatchContainerInsights',
  ecs_container_insights_enabled_check: 'ECSClusterCloudWatchContainerInsights',
};

// ---------------------------------------------------------------------------------------------

interface ReportViolation {
  ruleName: string;
  description: string;
  severity: string;
  violatingConstructs: {
    constructPath: string;
    cloudFormationResource?: { templatePath: string; logicalId: string };
  }[];
  acknowledgedId?: string;
  reason?: string;
  acknowledgedAt?: string;
}

interface PluginReport {
  pluginName: string;
  pluginVersion?: string;
  conclusion: string;
  metadata?: Record<string, string>;
  violations: ReportViolation[];
  suppressedViolations?: ReportViolation[];
}

function readReport(directory: string): { pluginReports: PluginReport[] } {
  const file = path.join(directory, 'validation-report.json');
  // CDK writes no report when no plugin ran; every plugin here runs, so a missing file means
  // the mechanism changed and the harness must be revisited.
  if (!fs.existsSync(file)) {
    throw new Error(`no validation-report.json in the cloud assembly (${fs.readdirSync(directory).join(', ')})`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

interface TreeIndex {
  byPath: Map<string, IConstruct>;
  resources: Record<string, string>;
  stacks: string[];
}

function indexTree(app: App): TreeIndex {
  const byPath = new Map<string, IConstruct>();
  const resources: Record<string, string> = {};
  const stacks: string[] = [];
  for (const c of app.node.findAll()) {
    byPath.set(c.node.path, c);
    if (Stack.isStack(c)) stacks.push(c.node.path);
    if (CfnResource.isCfnResource(c)) {
      resources[relativeToStack(c).resource] = c.cfnResourceType;
    }
  }
  return { byPath, resources, stacks: stacks.sort() };
}

function relativeToStack(c: IConstruct): { stackPath: string; resource: string } {
  const stack = Stack.of(c);
  const stackPath = stack.node.path;
  const full = c.node.path;
  return { stackPath, resource: full.startsWith(`${stackPath}/`) ? full.slice(stackPath.length + 1) : full };
}

function describeResource(constructPath: string, index: TreeIndex) {
  const c = index.byPath.get(constructPath);
  if (!c) throw new Error(`finding on ${constructPath}, which is not in the construct tree`);
  const { stackPath, resource } = relativeToStack(c);
  const cfn = CfnResource.isCfnResource(c) ? c : undefined;
  return {
    constructPath,
    stackPath,
    resource,
    logicalId: cfn ? (Stack.of(cfn).resolve(cfn.logicalId) as string) : undefined,
    resourceType: cfn?.cfnResourceType,
  };
}

function splitRuleId(ruleId: string): { rule: string; findingId?: string } {
  const m = /^([^[]+)\[(.*)\]$/.exec(ruleId);
  return m ? { rule: m[1], findingId: m[2] } : { rule: ruleId };
}

/**
 * cdk-nag findings before acknowledgement: a fresh pack instance walks the finalized tree with
 * its acknowledgement lookup disabled. Each finding that the real run (the report) did not
 * report must carry the acknowledgement cdk-nag honoured, and every reported one must be found.
 */
function nagFindings(ruleSet: RuleSet, app: App, report: PluginReport | undefined, index: TreeIndex): Finding[] {
  const pack = ruleSet.create(app) as NagPack;
  if (typeof (pack as any).isAcknowledged !== 'function' || typeof pack.validateScope !== 'function') {
    throw new Error(`cdk-nag changed: ${ruleSet.id} has no isAcknowledged/validateScope; revisit the harness`);
  }
  (pack as any).isAcknowledged = () => false;
  const raw = pack.validateScope(app);

  const open = new Set<string>();
  for (const v of report?.violations ?? []) {
    for (const c of v.violatingConstructs) open.add(`${v.ruleName}\n${c.constructPath}`);
  }
  if ((report?.suppressedViolations ?? []).length > 0) {
    throw new Error(`${ruleSet.id}: CDK suppressed cdk-nag findings itself; revisit the harness`);
  }

  const findings: Finding[] = [];
  for (const v of raw.violations) {
    for (const r of v.violatingResources) {
      const constructPath = r.constructPath!;
      const key = `${v.ruleName}\n${constructPath}`;
      const isOpen = open.delete(key);
      const ack = isOpen ? undefined : findNagAcknowledgement(index.byPath.get(constructPath)!, v.ruleName);
      if (!isOpen && !ack) {
        throw new Error(`${ruleSet.id}: ${v.ruleName} on ${constructPath} is neither reported nor acknowledged`);
      }
      findings.push({
        ruleSet: ruleSet.id,
        ruleId: v.ruleName,
        ...splitRuleId(v.ruleName),
        acknowledgementId: v.ruleName,
        description: v.description,
        severity: v.severity ?? 'error',
        ...describeResource(constructPath, index),
        acknowledged: !isOpen,
        reason: ack?.reason,
        acknowledgedAt: ack?.path,
      });
    }
  }
  if (open.size > 0) {
    throw new Error(`${ruleSet.id}: reported but not found before acknowledgement: ${[...open].join('; ')}`);
  }
  return findings;
}

/** cdk-nag's own lookup: the resource or its nearest ancestor acknowledging exactly this id. */
function findNagAcknowledgement(resource: IConstruct, ruleId: string): { reason: string; path: string } | undefined {
  let current: IConstruct | undefined = resource;
  while (current) {
    for (const entry of current.node.metadata) {
      if (entry.type !== ACK_METADATA || !entry.data) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (id.replace(/^annotation::/i, '') === ruleId) return { reason, path: current.node.path };
      }
    }
    current = current.node.scope;
  }
  return undefined;
}

function guardFindings(ruleSet: RuleSet, report: PluginReport | undefined, index: TreeIndex): Finding[] {
  const controls = controlTowerIds();
  const findings = new Map<string, Finding>();
  const add = (v: ReportViolation, acknowledged: boolean) => {
    for (const c of v.violatingConstructs) {
      // cfn-guard sometimes also reports a check at the template root (path ''), which the
      // plugin turns into a resource without logical id, and CDK into construct path ''. CDK
      // only lets an acknowledgement on the App cover it, so it is a finding of its own.
      const where = c.constructPath
        ? describeResource(c.constructPath, index)
        : { constructPath: '', stackPath: '', resource: TEMPLATE_ROOT };
      const key = `${v.ruleName}\n${where.constructPath}\n${acknowledged}`;
      if (findings.has(key)) continue;
      findings.set(key, {
        ruleSet: ruleSet.id,
        ruleId: v.ruleName,
        rule: v.ruleName,
        control: /^\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]/.exec(v.description)?.[1] ?? controls.get(v.ruleName),
        acknowledgementId: `${CFN_GUARD_PLUGIN}::${v.ruleName}`,
        description: v.description.replace(/^\[CT\.[A-Z0-9-]+\.PR\.\d+\]:\s*/, ''),
        severity: v.severity ?? 'error',
        ...where,
        acknowledged,
        reason: acknowledged ? v.reason : undefined,
        acknowledgedAt: acknowledged ? v.acknowledgedAt : undefined,
      });
    }
  };
  for (const v of report?.violations ?? []) add(v, false);
  for (const v of report?.suppressedViolations ?? []) add(v, true);
  return [...findings.values()];
}

function collectAcknowledgements(app: App): Acknowledgement[] {
  const nagPrefixes = RULE_SETS.filter((rs) => rs.kind === 'cdk-nag').map((rs) => rs.id);
  const result: Acknowledgement[] = [];
  for (const c of app.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== ACK_METADATA || !entry.data) continue;
      for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
        const bare = qualified.replace(/^annotation::/i, '');
        let ruleSet: string | undefined;
        let ruleId = bare;
        if (bare.startsWith(`${CFN_GUARD_PLUGIN}::`)) {
          ruleSet = CFN_GUARD_PLUGIN;
          ruleId = bare.slice(CFN_GUARD_PLUGIN.length + 2);
        } else {
          ruleSet = nagPrefixes.find((p) => bare.startsWith(`${p}-`));
        }
        if (!ruleSet) continue; // an acknowledgement of something else, e.g. a CDK warning
        result.push({ ruleSet, id: bare, ruleId, reason, path: c.node.path, on: kindOf(c), covers: [] });
      }
    }
  }
  return result.sort((a, b) => cmp(a.path, b.path) || cmp(a.id, b.id));
}

function kindOf(c: IConstruct): Acknowledgement['on'] {
  if (App.isApp(c)) return 'app';
  if (Stack.isStack(c)) return 'stack';
  if (Stage.isStage(c)) return 'stage';
  if (CfnResource.isCfnResource(c)) return 'resource';
  return 'construct';
}

let controlTowerIdCache: Map<string, string> | undefined;

/** cfn-guard rule name -> Control Tower control id, from the bundled rule files (ct-s3-pr-2.guard). */
export function controlTowerIds(): Map<string, string> {
  if (controlTowerIdCache) return controlTowerIdCache;
  const root = path.join(packageRoot('@cdklabs/cdk-validator-cfnguard'), 'rules', 'control-tower', 'cfn-guard');
  const map = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.guard')) {
        const text = fs.readFileSync(full, 'utf8');
        const name = /Rule (?:Identifier|Name):\s*\n#\s*(\S+)/.exec(text)?.[1];
        if (name) map.set(name, path.basename(entry.name, '.guard').toUpperCase().replace(/-/g, '.'));
      }
    }
  };
  walk(root);
  controlTowerIdCache = map;
  return map;
}

/** The directory of an installed package's package.json. */
export function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, 'utf8')).name === name) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json of ${name} not found`);
    dir = parent;
  }
}

/** The installed version of a package. */
export function packageVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(name), 'package.json'), 'utf8')).version;
}

/** The version of the cfn-guard binary bundled with the validator. */
export function cfnGuardVersion(): string {
  const file = path.join(packageRoot('@cdklabs/cdk-validator-cfnguard'), 'guard-version.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) => cmp(a.rule, b.rule) || cmp(a.ruleId, b.ruleId) || cmp(a.constructPath, b.constructPath),
  );
}

/** Locale-independent string order, so documents render the same everywhere. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
