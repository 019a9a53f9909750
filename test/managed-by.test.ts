import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner, MANAGED_BY } from '../src/ecs-runner';
import { RunnerNetwork } from '../src/networking/runner-network';

describe('the ManagedBy tag value', () => {
  test("is on the runner's resources and public to every jsii language as EcsRunner.MANAGED_BY", () => {
    // GIVEN / WHEN a runner
    const stack = new Stack(new App(), 'Stack');
    new EcsRunner(stack, 'Runner', {
      orgId: 'my-org',
      runnerId: 'prod-runner',
      network: RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
    });
    // THEN the static, the TypeScript export and the tag on the cluster agree
    expect(EcsRunner.MANAGED_BY).toBe('platform-orchestrator-ecs-runner');
    expect(MANAGED_BY).toBe(EcsRunner.MANAGED_BY);
    const [cluster] = Object.values(Template.fromStack(stack).findResources('AWS::ECS::Cluster'));
    expect(cluster.Properties.Tags).toContainEqual({ Key: 'ManagedBy', Value: 'platform-orchestrator-ecs-runner' });
  });
});
