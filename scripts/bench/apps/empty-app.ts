/**
 * The baseline of the synth-time benchmark: an empty CDK app, run as its own process exactly
 * like the example (`node empty-app.js` with CDK_OUTDIR set).
 */
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Empty');
app.synth();
