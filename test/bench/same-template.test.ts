/**
 * The second baseline of the synth-time benchmark (scripts/bench/apps/same-template-app.ts):
 * the example's synthesized stacks rebuilt with `CfnInclude` and no library code. The
 * "what the library adds" ratio is only meaningful if the baseline writes the same template, so
 * this checks it does, for the example the benchmark measures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../examples/complete-production/app';
import { buildSameTemplateApp } from '../../scripts/bench/apps/same-template-app';
import { prepareSameTemplate, withoutSynthesizedParts } from '../../scripts/bench/synth-time';
import { ensureBundled } from '../support/bundles';

const EXAMPLE_DIR = path.join(__dirname, '..', '..', 'examples', 'complete-production');

/** Each stack's template, by artifact id, from a cloud assembly directory. */
function templates(assemblyDir: string): Record<string, any> {
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const out: Record<string, any> = {};
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    out[id] = JSON.parse(readFileSync(path.join(assemblyDir, artifact.properties.templateFile), 'utf8'));
  }
  return out;
}

describe('the same-template baseline', () => {
  let work: string;
  beforeAll(() => ensureBundled());
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'same-template-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  test('writes the same resources, outputs and conditions as examples/complete-production', () => {
    // GIVEN the example synthesized with its cdk.json context and CDK's path metadata, as the CLI runs it
    const context = {
      ...JSON.parse(readFileSync(path.join(EXAMPLE_DIR, 'cdk.json'), 'utf8')).context,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:version-reporting': true,
    };
    const exampleDir = path.join(work, 'example');
    buildApp(new App({ outdir: exampleDir, context, builtinCloudFormationValidation: false })).synth();

    // WHEN the baseline is prepared from that assembly and synthesized
    const stacksFile = prepareSameTemplate(exampleDir, path.join(work, 'input'));
    const baselineDir = path.join(work, 'baseline');
    buildSameTemplateApp(
      stacksFile,
      new App({ outdir: baselineDir, context, builtinCloudFormationValidation: false }),
    ).synth();

    // THEN every stack has the same resources (types, properties, dependencies, policies), outputs,
    // conditions and parameters; only the construct paths in the metadata differ
    const example = templates(exampleDir);
    const baseline = templates(baselineDir);
    expect(Object.keys(example)).toEqual(['ProductionEcsRunner']);
    expect(Object.keys(baseline)).toEqual(Object.keys(example));
    const stripPaths = (t: any) => {
      const copy = JSON.parse(JSON.stringify(t));
      for (const r of Object.values<any>(copy.Resources ?? {})) {
        if (r.Metadata) delete r.Metadata['aws:cdk:path'];
        if (r.Metadata && Object.keys(r.Metadata).length === 0) delete r.Metadata;
      }
      delete copy.Resources?.CDKMetadata; // the analytics string names the constructs used
      return copy;
    };
    for (const id of Object.keys(example)) {
      expect(Object.keys(example[id].Resources).length).toBeGreaterThan(40);
      expect(stripPaths(baseline[id])).toEqual(stripPaths(example[id]));
    }
  });

  test('drops only what the stack synthesizes again', () => {
    // GIVEN a template with the synthesizer's parameter, rule and metadata next to the user's
    const template = {
      Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>' }, Env: { Type: 'String' } },
      Rules: { CheckBootstrapVersion: { Assertions: [] } },
      Conditions: { CDKMetadataAvailable: { 'Fn::Equals': ['a', 'a'] } },
      Resources: {
        CDKMetadata: { Type: 'AWS::CDK::Metadata', Properties: { Analytics: 'v2:deflate64:x' } },
        Topic: { Type: 'AWS::SNS::Topic' },
      },
    };
    // WHEN they are dropped
    const result = withoutSynthesizedParts(template);
    // THEN the user's parts stay, empty sections go, and the input is untouched
    expect(result).toEqual({
      Parameters: { Env: { Type: 'String' } },
      Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
    });
    expect(template.Rules.CheckBootstrapVersion).toBeDefined();
  });
});
