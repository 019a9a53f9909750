/**
 * The synth of BENCH_EXAMPLE_JS (an example exporting `buildApp(app)`), or of the empty app when
 * it is unset, split into phases: loading aws-cdk-lib's entry point, loading the example (and the
 * library it imports), building the construct tree, and synthesizing. Writes the milliseconds of
 * each phase as JSON to BENCH_PHASES_OUT.
 */
import { writeFileSync } from 'fs';

const started = performance.now();
let last = started;
const phases: Record<string, number> = {};
function phase(name: string): void {
  const now = performance.now();
  phases[name] = now - last;
  last = now;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the point is to time each require */
const cdk: typeof import('aws-cdk-lib') = require('aws-cdk-lib');
phase('load aws-cdk-lib');
const examplePath = process.env.BENCH_EXAMPLE_JS;
const example: { buildApp(app: import('aws-cdk-lib').App): unknown } | undefined = examplePath
  ? require(examplePath)
  : undefined;
/* eslint-enable @typescript-eslint/no-require-imports */
phase('load the example and the library');
const app = new cdk.App();
if (example) example.buildApp(app);
else new cdk.Stack(app, 'Empty');
phase('build the construct tree');
app.synth();
phase('synthesize');
if (process.env.BENCH_PHASES_OUT) writeFileSync(process.env.BENCH_PHASES_OUT, JSON.stringify(phases));
