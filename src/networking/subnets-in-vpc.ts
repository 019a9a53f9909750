import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EcsRunnerValidationError } from '../errors';
import { SUBNET_ID_PATTERN } from '../validation';

/** What {@link checkSubnetsInVpc} reads of the runner's props. */
export interface SubnetsAndVpc {
  readonly vpc?: ec2.IVpc;
  readonly subnets?: ec2.ISubnet[];
  readonly subnetIds?: string[];
}

/**
 * The subnets given with their `vpc` (`RunnerNetwork.fromSubnets`/`fromSubnetIds`) must be subnets of that VPC: ECS refuses a
 * task whose security group (created in `vpc`) and subnets are in different VPCs, so a mismatch would
 * deploy and fail at the first job.
 *
 * Checked where it can be known at synth time: a VPC that lists its subnets (`new ec2.Vpc`,
 * `Vpc.fromLookup` once looked up, `Vpc.fromVpcAttributes` with subnet ids). A VPC without subnet
 * lists, `Vpc.fromLookup`'s placeholder before the lookup, and ids known only at deploy time pass.
 */
export function checkSubnetsInVpc(props: SubnetsAndVpc, prefix = ''): void {
  const vpc = props.vpc;
  if (vpc === undefined || (props.subnets === undefined && props.subnetIds === undefined)) return;
  // A list token of ids (a parameter, Fn.split) is known only at deploy time.
  if (props.subnetIds !== undefined && Token.isUnresolved(props.subnetIds)) return;
  const own = [...vpc.publicSubnets, ...vpc.privateSubnets, ...vpc.isolatedSubnets];
  if (own.length === 0) return;
  const stack = Stack.of(vpc);
  // A subnet id as a comparable string: concrete ids as they are, tokens resolved (a Ref to the subnet).
  const key = (id: string) => (Token.isUnresolved(id) ? JSON.stringify(stack.resolve(id)) : id);
  const ownIds = own.map((s) => s.subnetId);
  const ownKeys = new Set(ownIds.map(key));
  // Vpc.fromLookup's placeholder (before the CLI has looked the VPC up) has made-up subnet ids.
  const placeholder = ownIds.some((id) => !Token.isUnresolved(id) && !SUBNET_ID_PATTERN.test(id));
  if (placeholder) return;
  const allOwnConcrete = ownIds.every((id) => !Token.isUnresolved(id));
  const given: { property: string; id: string }[] = [
    ...(props.subnets ?? []).map((s, i) => ({ property: `${prefix}subnets[${i}]`, id: s.subnetId })),
    ...(props.subnetIds ?? []).map((id, i) => ({ property: `${prefix}subnetIds[${i}]`, id })),
  ];
  for (const { property, id } of given) {
    if (ownKeys.has(key(id))) continue;
    // A concrete id against a VPC whose ids are tokens (a VPC of this app), or a token against
    // concrete ids, cannot be compared at synth time.
    if (Token.isUnresolved(id) ? allOwnConcrete : !allOwnConcrete) continue;
    throw new EcsRunnerValidationError(
      property,
      Token.isUnresolved(id) ? stack.resolve(id) : id,
      `a subnet of vpc ${Token.isUnresolved(vpc.vpcId) ? vpc.node.path : vpc.vpcId} (${ownIds
        .map((o) => (Token.isUnresolved(o) ? '<created subnet>' : o))
        .join(', ')}), or leave out the vpc`,
    );
  }
}
