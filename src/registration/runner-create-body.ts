/*
 * The RunnerCreateBody the orchestrator's API expects for a serverless ECS runner, built from
 * the runner's resources. Values may be CDK tokens; the body is rendered to JSON with
 * Stack.toJsonString so CloudFormation fills in ARNs and names at deploy time.
 *
 * Field names follow openapi.yaml (RunnerCreateBody, ServerlessEcsRunnerConfiguration,
 * ServerlessEcsRunnerJob, AwsTemporaryAuth, S3StorageConfiguration); the types are the ones
 * generated from it. Also the one shape check of a body read back from JSON, shared by the
 * construct (at synth), the registration handler and the CLI: this module loads nothing.
 */
import type { components } from './api-types.generated';

type Schemas = components['schemas'];
/** The registration body of the orchestrator's API (`POST /orgs/{orgId}/runners`). */
export type RunnerCreateBody = Schemas['RunnerCreateBody'];
type EcsJob = Schemas['ServerlessEcsRunnerJob'];
type AwsAuth = Schemas['AwsTemporaryAuth'];
type S3State = Schemas['S3StorageConfiguration'];

/** What {@link isRunnerCreateBody} requires, for error messages. */
export const RUNNER_CREATE_BODY_SHAPE =
  'an object with a string id, runner_configuration and state_storage_configuration';

/**
 * Whether a parsed JSON value has the shape every reader of a body relies on: an object with a
 * non-empty string `id` and the `runner_configuration` and `state_storage_configuration`
 * objects. Their contents are the orchestrator's to check.
 */
export function isRunnerCreateBody(value: unknown): value is RunnerCreateBody {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    value.id !== '' &&
    isObject(value.runner_configuration) &&
    isObject(value.state_storage_configuration)
  );
}

/** Inputs of {@link runnerCreateBody}. */
export interface RunnerCreateBodyInput {
  readonly runnerId: string;
  readonly description?: string;
  readonly taskManagerRoleArn: string;
  readonly sessionName?: string;
  readonly stsRegion?: string;
  readonly region: string;
  readonly clusterName: string;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly assignPublicIp: boolean;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly image?: string;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, string>;
  readonly bucketName: string;
  readonly pathPrefix?: string;
}

/** The body as a plain object; optional fields are left out rather than sent empty. */
export function runnerCreateBody(input: RunnerCreateBodyInput): RunnerCreateBody {
  const auth: AwsAuth = { role_arn: input.taskManagerRoleArn };
  if (input.sessionName !== undefined) auth.session_name = input.sessionName;
  if (input.stsRegion !== undefined) auth.sts_region = input.stsRegion;

  const job: EcsJob = {
    region: input.region,
    cluster: input.clusterName,
    subnets: input.subnetIds,
    is_public_ip_enabled: input.assignPublicIp,
    execution_role_arn: input.executionRoleArn,
    task_role_arn: input.taskRoleArn,
  };
  if (input.securityGroupIds.length > 0) job.security_groups = input.securityGroupIds;
  if (input.image !== undefined) job.image = input.image;
  if (Object.keys(input.environment).length > 0) job.environment = { ...input.environment };
  if (Object.keys(input.secrets).length > 0) job.secrets = { ...input.secrets };

  const state: S3State = { type: 's3', bucket: input.bucketName };
  if (input.pathPrefix) state.path_prefix = input.pathPrefix;

  return {
    id: input.runnerId,
    ...(input.description !== undefined ? { description: input.description } : {}),
    runner_configuration: { type: 'serverless-ecs', auth, job },
    state_storage_configuration: state,
  };
}
