/**
 * The synth-time baseline (bench/same-template.ts): the "what the library adds" ratio means
 * something only if the baseline writes the example's template, so this checks it does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../examples/complete-production/app';
import { buildSameTemplateApp, stacksOfAssembly, withoutSynthesizedParts } from '../same-template';

describe('the same template without the library', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'same-template-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  test('writes the resources, outputs and conditions of examples/complete-production', () => {
    // GIVEN the example synthesized with its cdk.json context and the CLI's path metadata
    const cdkJson = path.join(__dirname, '..', '..', 'examples', 'complete-production', 'cdk.json');
    const context = {
      ...JSON.parse(readFileSync(cdkJson, 'utf8')).context,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:version-reporting': true,
    };
    const props = { context, builtinCloudFormationValidation: false };
    const example = buildApp(new App({ ...props, outdir: path.join(work, 'example') })).synth();

    // WHEN the baseline rebuilds its stacks
    const stacks = stacksOfAssembly(example.directory);
    const baseline = buildSameTemplateApp(stacks, new App({ ...props, outdir: path.join(work, 'baseline') })).synth();

    // THEN each stack's template is the same, but for the construct paths in the metadata
    const stripPaths = (t: any) => {
      const copy = structuredClone(t);
      for (const r of Object.values<any>(copy.Resources)) {
        delete r.Metadata?.['aws:cdk:path'];
        if (r.Metadata && Object.keys(r.Metadata).length === 0) delete r.Metadata;
      }
      delete copy.Resources.CDKMetadata; // its analytics string names the constructs used
      return copy;
    };
    expect(baseline.stacks.map((s) => s.stackName)).toEqual(['ProductionEcsRunner']);
    expect(Object.keys(example.stacks[0].template.Resources).length).toBeGreaterThan(40);
    expect(stripPaths(baseline.stacks[0].template)).toEqual(stripPaths(example.stacks[0].template));
  });

  test('drops only what the stack synthesizes again', () => {
    // GIVEN a template with the synthesizer's parameter, rule and metadata next to the user's
    const template = {
      Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>' }, Env: { Type: 'String' } },
      Rules: { CheckBootstrapVersion: { Assertions: [] } },
      Conditions: { CDKMetadataAvailable: { 'Fn::Equals': ['a', 'a'] } },
      Resources: { CDKMetadata: { Type: 'AWS::CDK::Metadata' }, Topic: { Type: 'AWS::SNS::Topic' } },
    };
    // WHEN they are dropped THEN the user's parts stay, empty sections go, and the input is untouched
    expect(withoutSynthesizedParts(template)).toEqual({
      Parameters: { Env: { Type: 'String' } },
      Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
    });
    expect(template.Rules.CheckBootstrapVersion).toBeDefined();
  });
});
