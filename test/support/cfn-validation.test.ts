/**
 * Negative tests for the CloudFormation validation helper (./cfn-validation.ts): a helper that
 * found nothing would pass every "no finding" assertion, so each place a finding can be (a
 * stack, a stage's stack, a nested stack) is shown to report one, and acknowledgements to
 * close it.
 */
import { CfnParameter, NestedStack, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { App } from 'aws-cdk-lib';
import {
  cfnFindings,
  describeFindings,
  openCfnFindings,
  resourceTypes,
  validatedApp,
  validateTemplates,
  warmCfnValidation,
} from './cfn-validation';

const ENV = { account: '123456789012', region: 'eu-central-1' };

/** A bucket whose name CloudFormation's schema refuses: F3031 (pattern), an error. */
function badBucket(scope: Construct, id: string): s3.CfnBucket {
  return new s3.CfnBucket(scope, id, { bucketName: 'Not_A_Bucket_Name' });
}

describe('cfnFindings', () => {
  test('a clean stack has no finding', () => {
    // GIVEN
    const app = validatedApp();
    new s3.CfnBucket(new Stack(app, 'Clean', { env: ENV }), 'Bucket');
    // WHEN
    const findings = cfnFindings(app, app.synth());
    // THEN
    expect(describeFindings(findings)).toBe('');
  });

  test('errors in a stack, a stage and a nested stack are errors, each on its construct', () => {
    // GIVEN
    const app = validatedApp();
    const stack = new Stack(app, 'Top', { env: ENV });
    badBucket(stack, 'InTop');
    badBucket(new Stack(new Stage(app, 'Stage', { env: ENV }), 'Inner'), 'InStage');
    badBucket(new NestedStack(stack, 'Nested'), 'InNested');
    // WHEN
    const findings = openCfnFindings(app, app.synth());
    // THEN
    const paths = findings.filter((f) => f.severity === 'error').flatMap((f) => f.constructPaths);
    expect(paths.sort()).toEqual(['Stage/Inner/InStage', 'Top/InTop', 'Top/Nested/InNested']);
  });

  test('an unused parameter is a warning (W2001) on its stack', () => {
    // GIVEN
    const app = validatedApp();
    const stack = new Stack(app, 'Params', { env: ENV });
    new s3.CfnBucket(stack, 'Bucket');
    new CfnParameter(stack, 'Unused');
    // WHEN
    const findings = openCfnFindings(app, app.synth());
    // THEN
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'W2001', severity: 'warning', constructPaths: ['Params'] }),
    ]);
  });

  test('an acknowledgement on the resource or an ancestor closes it, in stacks and nested stacks', () => {
    // GIVEN
    const app = validatedApp();
    const stack = new Stack(app, 'Acked', { env: ENV });
    const id = 'CloudFormation-Validate::F3031';
    Validations.of(badBucket(stack, 'InTop')).acknowledge({ id, reason: 'test' });
    const nested = new NestedStack(stack, 'Nested');
    badBucket(nested, 'InNested');
    Validations.of(nested).acknowledge({ id, reason: 'test' });
    badBucket(stack, 'NotAcked');
    // WHEN
    const findings = cfnFindings(app, app.synth()).filter((f) => f.rule === 'F3031');
    // THEN
    const paths = (acknowledged: boolean) =>
      findings
        .filter((f) => f.acknowledged === acknowledged)
        .flatMap((f) => f.constructPaths)
        .sort();
    expect(paths(true)).toEqual(['Acked/InTop', 'Acked/Nested/InNested']);
    expect(paths(false)).toEqual(['Acked/NotAcked']);
  });

  test('validation switched off is an error, not an empty list of findings', () => {
    const app = validatedApp({ builtinCloudFormationValidation: false });
    new s3.CfnBucket(new Stack(app, 'Off', { env: ENV }), 'Bucket');
    expect(() => cfnFindings(app, app.synth())).toThrow(/did not run/);
  });
});

describe('validateTemplates (the plugin run directly, for apps without the built-in validation)', () => {
  test('finds the errors on every template: stack, stage, nested stack', () => {
    // GIVEN an app without CDK's built-in validation
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Top', { env: ENV });
    badBucket(stack, 'InTop');
    badBucket(new Stack(new Stage(app, 'Stage', { env: ENV }), 'Inner'), 'InStage');
    badBucket(new NestedStack(stack, 'Nested'), 'InNested');
    new s3.CfnBucket(stack, 'Fine');
    app.synth();
    // WHEN (the engine built for the app's types first)
    warmCfnValidation(resourceTypes(app));
    const findings = validateTemplates(app);
    // THEN
    expect(findings.every((f) => f.rule === 'F3031' && f.severity === 'error' && !f.acknowledged)).toBe(true);
    expect(findings.flatMap((f) => f.constructPaths).sort()).toEqual([
      'Stage/Inner/InStage',
      'Top/InTop',
      'Top/Nested/InNested',
    ]);
  });

  test('applies acknowledgements on the resource or an ancestor', () => {
    // GIVEN
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Acked', { env: ENV });
    Validations.of(stack).acknowledge({ id: 'CloudFormation-Validate::F3031', reason: 'test' });
    badBucket(stack, 'InTop');
    badBucket(new Stack(app, 'Other', { env: ENV }), 'NotAcked');
    app.synth();
    // WHEN
    const findings = validateTemplates(app);
    // THEN
    const paths = (acknowledged: boolean) =>
      findings.filter((f) => f.acknowledged === acknowledged).flatMap((f) => f.constructPaths);
    expect(paths(true)).toEqual(['Acked/InTop']);
    expect(paths(false)).toEqual(['Other/NotAcked']);
  });
});
