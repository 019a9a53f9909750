/**
 * The shared vocabulary of the conformance rules: one AWS request that the orchestrator, ECS or a
 * job makes with a runner's roles (or that an attacker would make), and how it was decided.
 *
 * Produced from a synthesized template by the offline engine (`po-ecs-runner check --template`,
 * the conformance tests) and evaluated either offline (a real IAM policy evaluator over the
 * template's policies) or live (`po-ecs-runner check --stack`: IAM's own simulator on the deployed
 * roles). Run-time code: excluded from jsii.
 */

/** Whose credentials make the request. */
export type CallPrincipal =
  /** The orchestrator, with its OIDC token, calling sts:AssumeRoleWithWebIdentity on the task-manager role. */
  | 'web-identity'
  /** The orchestrator's session on the task-manager role. */
  | 'task-manager'
  /** ECS starting a job with the execution role (image pull, secrets). */
  | 'execution'
  /** The job itself, with the task role (Terraform state). */
  | 'task';

/** One request, with the request context AWS builds for it. */
export interface ContractCall {
  /** Stable id, e.g. `task-manager:ecs:RunTask` or `attack:RunTask-other-cluster`. */
  readonly id: string;
  /** One line for people: what the call is and why it is made (or why it must fail). */
  readonly description: string;
  /** Whose credentials make it. */
  readonly principal: CallPrincipal;
  /** Logical id, in the template, of the role whose credentials make it (the target role for 'web-identity'). */
  readonly roleLogicalId: string;
  /** IAM action, e.g. `ecs:RunTask`. */
  readonly action: string;
  /** The resource ARN the request is authorized against (`*` where the action has no resource type). */
  readonly resource: string;
  /** Request context keys and values, e.g. `{ 'ecs:cluster': 'arn:...', 'aws:SecureTransport': 'true' }`. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /** `allowed` for the real client's calls; `denied` for attacks. */
  readonly expect: 'allowed' | 'denied';
}

/** How one call was decided. */
export interface CallResult {
  readonly call: ContractCall;
  /** `could-not-check` when the evaluator itself failed (throttled, access denied): never counted as ok. */
  readonly decision: 'allowed' | 'denied' | 'could-not-check';
  /** True when the decision is what the call expects. */
  readonly ok: boolean;
  /** For a failure: the statement that is missing, or the one that denies, in words a user can act on. */
  readonly detail: string;
}
