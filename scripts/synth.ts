/**
 * `npm run synth`: synthesizes examples/basic offline (no credentials, no network) into
 * cdk.out/, then prints where the template is, the runner id, what the runner will be
 * registered as, and the compliance summary of the five rule sets.
 */
import { existsSync, rmSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp, BasicRunnerStack } from '../examples/basic/app';
import { renderPlaceholders } from '../test/support/cfn';
import { complianceSummaryLines } from '../test/support/compliance-summary';

const root = path.join(__dirname, '..');
const outdir = path.join(root, 'cdk.out');

function main(): void {
  const started = Date.now();
  if (existsSync(outdir)) rmSync(outdir, { recursive: true, force: true });
  const app = buildApp(new App({ outdir }));
  const assembly = app.synth();
  const stack = app.node.children.find((c): c is BasicRunnerStack => c instanceof BasicRunnerStack)!;
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const output = Object.entries(template.Outputs ?? {}).find(([key]) => key.includes('RunnerCreateBody'))!;
  const body = JSON.parse(renderPlaceholders((output[1] as any).Value));

  const lines = [
    `Synthesized examples/basic offline in ${seconds} s: stack ${stack.stackName}, region ${stack.region}.`,
    `Template:  ${path.relative(root, path.join(outdir, artifact.templateFile))} (${Object.keys(template.Resources).length} resources)`,
    `Runner id: ${stack.runner.runnerId} (org ${stack.runner.orgId})`,
    '',
    'Registered with the orchestrator as (stack output RunnerCreateBody; ${...} is filled in by CloudFormation):',
    JSON.stringify(body, null, 2),
    '',
    ...complianceSummaryLines('examples/basic', (props) => buildApp(new App(props))),
    '',
    'Deploy: cd examples/basic && npx cdk deploy -c orgId=<org> -c subnetIds=\'["subnet-..."]\'',
  ];
  console.log(lines.join('\n'));
}

main();
