/**
 * `ec2.Vpc.fromLookup` needs a synth that completes with placeholder subnets ("p-12345") so the
 * CDK CLI can look the VPC up and synthesize again with the real ids. The runner must not fail
 * that first synth.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EcsRunner } from '../src/ecs-runner';
import { RunnerNetwork } from '../src/networking/runner-network';

const env = { account: '123456789012', region: 'eu-central-1' };

describe('a VPC from Vpc.fromLookup', () => {
  test.each([
    [
      'fromSubnets(vpc.privateSubnets, { vpc })',
      (vpc: ec2.IVpc) => ({ network: RunnerNetwork.fromSubnets(vpc.privateSubnets, { vpc }) }),
    ],
    ['fromVpc(vpc)', (vpc: ec2.IVpc) => ({ network: RunnerNetwork.fromVpc(vpc) })],
  ])('with %s, the first synth completes and asks the CLI for the lookup', (_name, placement) => {
    // GIVEN a stack whose VPC is looked up, with no cached lookup in the context
    const app = new App();
    const stack = new Stack(app, 'Stack', { env });
    const vpc = ec2.Vpc.fromLookup(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0' });

    // WHEN a runner uses its subnets
    new EcsRunner(stack, 'Runner', { orgId: 'my-org', runnerId: 'prod-runner', ...placement(vpc) });
    const assembly = app.synth();

    // THEN synthesis completes with the VPC lookup reported missing, for the CLI to perform
    expect(assembly.manifest.missing?.map((m) => m.provider)).toEqual(['vpc-provider']);
  });

  test('subnet ids given as strings are still checked', () => {
    // GIVEN / WHEN / THEN a malformed id in fromSubnetIds fails at synth, naming it
    const stack = new Stack(new App(), 'Stack', { env });
    expect(
      () => new EcsRunner(stack, 'Runner', { orgId: 'my-org', network: RunnerNetwork.fromSubnetIds(['p-12345']) }),
    ).toThrow(/Invalid network\.subnetIds\[0\]: "p-12345"/);
  });
});
