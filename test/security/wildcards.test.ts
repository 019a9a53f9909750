import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EcsRunner } from 'platform-orchestrator-ecs-runner';
import { documentedWildcardActions, wildcardActions } from '../support/iam';
import { minimalProps } from '../support/stacks';

/** Runner configurations that together switch on every statement the library can write. */
function everyFeature(): Template {
  const app = new App();
  const stack = new Stack(app, 'All', { env: { account: '123456789012', region: 'eu-central-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a'],
  });
  new EcsRunner(stack, 'Runner', {
    ...minimalProps(),
    vpc,
    createEncryptionKey: true,
    allowExecuteCommand: true,
    image: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/runner:1',
    secrets: {
      A: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:a-AbCdEf',
      B: 'arn:aws:ssm:eu-central-1:123456789012:parameter/b',
    },
    assumableRoleArns: ['arn:aws:iam::210987654321:role/deployer'],
    permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'B', 'boundary'),
    destroyStateOnRemoval: true,
  });
  return Template.fromStack(stack);
}

describe('Resource "*" only where the service authorization reference gives no resource type', () => {
  test('docs/SECURITY.md lists the expected actions', () => {
    expect([...documentedWildcardActions()].sort()).toEqual(
      [
        'ecs:ListTaskDefinitions',
        'ecs:DeregisterTaskDefinition',
        'ecs:ListTasks',
        'ecr:GetAuthorizationToken',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
        'logs:DescribeLogGroups',
      ].sort(),
    );
  });

  test('every wildcard statement of a runner with every feature is documented', () => {
    const documented = documentedWildcardActions();
    const found = wildcardActions(everyFeature().toJSON());
    expect(found.length).toBeGreaterThan(0);
    const undocumented = found.filter(({ action }) => !documented.has(action));
    expect(undocumented).toEqual([]);
  });

  test('every documented wildcard is actually used by some configuration (no stale rows)', () => {
    const used = new Set(wildcardActions(everyFeature().toJSON()).map((w) => w.action));
    expect([...documentedWildcardActions()].filter((a) => !used.has(a))).toEqual([]);
  });
});
