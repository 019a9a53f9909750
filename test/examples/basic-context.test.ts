import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../examples/basic/app';
import { registrationBodies } from '../support/cfn';

describe('examples/basic reads its context as cdk.json and `cdk -c` give it', () => {
  test.each([
    ['an array (cdk.json)', ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']],
    ['a JSON string (cdk -c subnetIds=\'["..."]\')', '["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]'],
    ['a comma-separated string (cdk -c subnetIds=a,b)', 'subnet-0123456789abcdef0, subnet-0fedcba9876543210'],
  ])('subnetIds as %s', (_name, subnetIds) => {
    // GIVEN the context value WHEN the example is synthesized
    const app = buildApp(new App({ context: { orgId: 'acme', subnetIds } }));
    const template = Template.fromStack(app.node.findChild('BasicEcsRunner') as any);
    // THEN the runner registers both subnets
    const [body] = registrationBodies(template.toJSON());
    expect(body.runner_configuration.job.subnets).toEqual(['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210']);
  });
});
