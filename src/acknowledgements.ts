import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/*
 * Acknowledgements of compliance rules on the library's own resources, for users who run cdk-nag
 * v3 or the Control Tower guard rules. Each one sits on the resource (or its L2) it is about and
 * says why the rule does not apply to this runner or what compensates. docs/COMPLIANCE.md lists
 * them; test/compliance checks placement, coverage and reasons.
 */

/** Acknowledge one rule on one construct. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledge a rule in every pack that has it, e.g. `S3BucketReplicationEnabled`. */
export function acknowledgeInPacks(scope: IConstruct, packs: string[], rule: string, reason: string): void {
  for (const pack of packs) acknowledge(scope, `${pack}-${rule}`, reason);
}

/** The cdk-nag packs with the HIPAA/NIST/PCI rule names. */
export const REGULATORY_PACKS = ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'];

/** A Control Tower proactive control, as the cfn-guard validator names it. */
export function controlTower(rule: string): string {
  return `cdk-validator-cfnguard::${rule}`;
}

/**
 * Acknowledge cdk-nag's AwsSolutions-IAM5 finding for every wildcard resource of a policy's
 * statements, with the reason given for the statement's Sid. A wildcard statement without a
 * reason is a library bug and throws, so a new wildcard is never acknowledged by accident.
 */
export function acknowledgeWildcardResources(
  policy: IConstruct,
  statements: iam.PolicyStatement[],
  reasons: Record<string, string>,
): void {
  const stack = Stack.of(policy);
  const seen = new Set<string>();
  for (const statement of statements) {
    for (const resource of statement.resources) {
      const flat = flatten(stack.resolve(resource));
      if (!flat.includes('*')) continue;
      const sid = statement.sid ?? '';
      const reason = reasons[sid];
      if (reason === undefined) {
        throw new Error(`internal: wildcard resource ${flat} of statement "${sid}" has no acknowledgement reason`);
      }
      const id = `AwsSolutions-IAM5[Resource::${flat}]`;
      if (seen.has(id)) continue;
      seen.add(id);
      acknowledge(policy, id, reason);
    }
  }
}

/**
 * Acknowledge cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource ARN of a policy, e.g.
 * of a statement an aws-cdk-lib construct adds itself (no Sid to look a reason up by).
 */
export function acknowledgeWildcardResource(policy: IConstruct, arn: string, reason: string): void {
  acknowledge(policy, `AwsSolutions-IAM5[Resource::${flatten(Stack.of(policy).resolve(arn))}]`, reason);
}

/** cdk-nag's rendering of a resolved value in a granular finding id. */
function flatten(node: any): string {
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return items.map(flatten).join(delimiter);
  }
  if (node['Fn::Sub']) return flatten(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flatten(node['Fn::ImportValue']);
  if (node.Ref) return `<${flatten(node.Ref)}>`;
  return JSON.stringify(node);
}
