/**
 * The two apps the compliance suite checks:
 *
 * - `basic`: examples/basic as a user deploys it (`buildApp`), every default.
 * - `production`: examples/complete-production as a user deploys it (its stack, built from the
 *   production profile in examples/complete-production/profile.ts, with its cdk.json context),
 *   plus the VPC endpoints of the jobs (`RunnerVpcEndpoints`) in the same VPC.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { RunnerVpcEndpoints } from 'platform-orchestrator-ecs-runner';
import { buildApp } from '../../examples/basic/app';
import { CompleteProductionRunnerStack } from '../../examples/complete-production/app';
import { ComplianceProfile } from './compliance';
import { withCdkDefaultAccount } from './env';

export { REQUIRED_TAG_KEYS } from '../../examples/complete-production/profile';

export const PRODUCTION_STACK = 'ProductionEcsRunner';
/** The account the CDK CLI would pass (CDK_DEFAULT_ACCOUNT), so ARNs are literal as in a deployment. */
export const PRODUCTION_ACCOUNT = '123456789012';
/** examples/complete-production's cdk.json context: every identifier of the production profile. */
export const PRODUCTION_CONTEXT: Record<string, any> = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'examples', 'complete-production', 'cdk.json'), 'utf8'),
).context;

/** examples/basic, unchanged. */
export function basicProfile(): ComplianceProfile {
  return {
    name: 'basic',
    description: "`examples/basic`: an existing VPC's subnet ids, every other property at its default",
    build: (props) => buildApp(new App(props)),
  };
}

/** Every hardening option of the runner, with registration, monitoring and VPC endpoints. */
export function productionProfile(): ComplianceProfile {
  return {
    name: 'production',
    description:
      '`examples/complete-production` (customer managed KMS key, server access logs, cross-region state replication, permissions boundary, role path, required tags, imported VPC with an egress-only security group, restricted state access, registration on deploy with a runner rule, monitoring with an alarm email) plus its VPC endpoints',
    build: (props) => {
      const app = new App({ ...props, context: { ...PRODUCTION_CONTEXT, ...props.context } });
      withCdkDefaultAccount(PRODUCTION_ACCOUNT, () => {
        const stack = new CompleteProductionRunnerStack(app, PRODUCTION_STACK);
        new RunnerVpcEndpoints(stack, 'Endpoints', { vpc: stack.profile.vpc, runner: stack.runner });
      });
      return app;
    },
  };
}

/** Both profiles, in the order the report lists them. */
export function allProfiles(): ComplianceProfile[] {
  return [basicProfile(), productionProfile()];
}
