import { CfnResource, IAspect, Aspects } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * Applies the runner's permissions boundary and role path to every IAM role under `scope` (and
 * the path to its customer managed policies),
 * whether an L2 `iam.Role`, an L1 `CfnRole`, or the `AWS::IAM::Role` of a custom resource
 * provider written with `CfnResource` (as aws-cdk-lib's own providers are).
 */
export function applyRoleGovernance(scope: IConstruct, boundary?: iam.IManagedPolicy, path?: string): void {
  if (boundary) {
    iam.PermissionsBoundary.of(scope).apply(boundary);
  }
  if (path) {
    Aspects.of(scope).add(new RolePathAspect(path));
  }
}

class RolePathAspect implements IAspect {
  constructor(private readonly path: string) {}

  public visit(node: IConstruct): void {
    if (node instanceof iam.CfnRole) {
      node.path = node.path ?? this.path;
    } else if (node instanceof iam.CfnManagedPolicy) {
      // iam.ManagedPolicy writes the default '/' itself; the library's policies never choose it.
      if (node.path === undefined || node.path === '/') node.path = this.path;
    } else if (CfnResource.isCfnResource(node) && node.cfnResourceType === 'AWS::IAM::Role') {
      node.addPropertyOverride('Path', this.path);
    }
  }
}
