import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner, EcsRunnerProps, RunnerNetwork } from 'platform-orchestrator-ecs-runner';

export const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];

/** A stack in a concrete environment, as most users deploy. */
export function newStack(props: StackProps = {}): Stack {
  return new Stack(new App(), 'TestStack', { env: { account: '123456789012', region: 'eu-central-1' }, ...props });
}

/** Props with only what is required, plus overrides. */
export function minimalProps(overrides: Partial<EcsRunnerProps> = {}): EcsRunnerProps {
  return { orgId: 'my-org', network: RunnerNetwork.fromSubnetIds([...SUBNETS]), ...overrides };
}

/** GIVEN a stack with one runner of these props, the runner and its template. */
export function synthRunner(overrides: Partial<EcsRunnerProps> = {}, stack: Stack = newStack()) {
  const runner = new EcsRunner(stack, 'Runner', minimalProps(overrides));
  return { stack, runner, template: Template.fromStack(stack) };
}

/** All statements of all IAM policies (inline, AWS::IAM::Policy, customer managed) attached to a role. */
export function statementsOfRole(template: Template, roleLogicalId: string): any[] {
  const json = template.toJSON();
  const role = json.Resources[roleLogicalId];
  const inline = (role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const attached = Object.values(json.Resources as Record<string, any>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .filter((r) => (r.Properties.Roles ?? []).some((ref: any) => ref.Ref === roleLogicalId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
  return [...inline, ...attached];
}

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ')}`);
  return ids[0];
}
