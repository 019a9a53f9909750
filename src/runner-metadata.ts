/**
 * What the library writes into the template about each runner, so that tools that read only the
 * synthesized template (`po-ecs-runner check --template`, the conformance tests) know which
 * orchestrator the runner serves and which resources are its parts, without re-running the app.
 *
 * Written as CloudFormation resource metadata on the runner's task-manager role
 * (`Metadata[RUNNER_METADATA_KEY]`), one entry per runner. Internal: not part of the jsii API.
 */
export const RUNNER_METADATA_KEY = 'PlatformOrchestratorEcsRunner';

/** Version of the {@link RunnerMetadata} shape; bump it on an incompatible change. */
export const RUNNER_METADATA_VERSION = 1;

/** The orchestrator a runner serves, as resolved from the `orchestrator` prop. */
export interface RunnerMetadataOrchestrator {
  /** `humanitec`, `stellwerk` or `custom`. */
  readonly name: string;
  /** Issuer host and optional path, without scheme, e.g. `oidc.humanitec.dev`. */
  readonly issuer: string;
  /** Base URL of the orchestrator's API, e.g. `https://api.humanitec.dev`. */
  readonly apiUrl: string;
  /** Prefix of the task definition families the orchestrator registers, e.g. `humanitec_`. */
  readonly taskDefinitionFamilyPrefix: string;
  /**
   * The family pattern the task-manager role is scoped to (the ARN resource part after
   * `task-definition/`, without the `:revision`), e.g. `humanitec_*` or
   * `platform_orchestrator_env_my-org_*`.
   */
  readonly taskDefinitionFamilyScope: string;
}

/** One runner's entry in the template. Strings may be CloudFormation intrinsics after synthesis. */
export interface RunnerMetadata {
  readonly version: number;
  readonly orgId: string;
  readonly runnerId: string;
  readonly orchestrator: RunnerMetadataOrchestrator;
}
