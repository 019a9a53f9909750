/*
 * The RunnerCreateBody the orchestrator's API expects for a serverless ECS runner, built from
 * the runner's resources. Values may be CDK tokens; the body is rendered to JSON with
 * Stack.toJsonString so CloudFormation fills in ARNs and names at deploy time.
 *
 * Field names follow openapi.yaml (RunnerCreateBody, ServerlessEcsRunnerConfiguration,
 * ServerlessEcsRunnerJob, AwsTemporaryAuth, S3StorageConfiguration).
 */

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
export function runnerCreateBody(input: RunnerCreateBodyInput): Record<string, unknown> {
  const auth: Record<string, unknown> = { role_arn: input.taskManagerRoleArn };
  if (input.sessionName !== undefined) auth.session_name = input.sessionName;
  if (input.stsRegion !== undefined) auth.sts_region = input.stsRegion;

  const job: Record<string, unknown> = {
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

  const state: Record<string, unknown> = { type: 's3', bucket: input.bucketName };
  if (input.pathPrefix) state.path_prefix = input.pathPrefix;

  const body: Record<string, unknown> = { id: input.runnerId };
  if (input.description !== undefined) body.description = input.description;
  body.runner_configuration = { type: 'serverless-ecs', auth, job };
  body.state_storage_configuration = state;
  return body;
}
