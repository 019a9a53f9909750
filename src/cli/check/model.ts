/**
 * Finds the runners of a synthesized template and the parts each one uses: its three roles, the
 * cluster, the state bucket (and the key that encrypts it), subnets, job secrets, image and
 * state path prefix, read from the runner's metadata (when the library wrote it) and its
 * `RunnerCreateBody` output, which is exactly what the orchestrator receives. Also collects the
 * policies that decide each request: identity policies, permissions boundaries, bucket, key and
 * trust policies.
 */
import { RUNNER_CREATE_BODY_SHAPE, RunnerCreateBody, isRunnerCreateBody } from '../../registration/runner-create-body';
import { RUNNER_METADATA_KEY, RunnerMetadata, RunnerMetadataOrchestrator } from '../../runner-metadata';
import { LocatedStatement, Statement } from './evaluator';
import { ResolvedTemplate, StackEnvironment, resolveTemplate } from './resolve';

export const HUMANITEC_ISSUER = 'oidc.humanitec.dev';

/** The orchestrators the check knows, by name. */
export type OrchestratorName = 'humanitec' | 'stellwerk';

/** The known orchestrators' defaults; a Stellwerk installation has its own issuer and API URL. */
export function knownOrchestrator(name: OrchestratorName, orgId: string, issuer?: string): RunnerMetadataOrchestrator {
  if (name === 'humanitec') {
    return {
      name,
      issuer: issuer ?? HUMANITEC_ISSUER,
      apiUrl: 'https://api.humanitec.dev',
      taskDefinitionFamilyPrefix: 'humanitec_',
      taskDefinitionFamilyScope: 'humanitec_*',
    };
  }
  return {
    name,
    issuer: issuer ?? 'stellwerk.example.com',
    apiUrl: '',
    taskDefinitionFamilyPrefix: 'platform_orchestrator_',
    taskDefinitionFamilyScope: `platform_orchestrator_env_${orgId}_*`,
  };
}

export interface RoleRef {
  readonly logicalId: string;
  readonly arn: string;
}

export interface JobSecret {
  /** Environment variable name in the job. */
  readonly name: string;
  readonly valueFrom: string;
  readonly service: 'secretsmanager' | 'ssm';
  /** The ARN IAM authorizes: the secret (without JSON key or version suffix) or the parameter. */
  readonly resourceArn: string;
  /** The KMS key that encrypts it, when the template says. */
  readonly keyArn?: string;
}

/** One runner, as the check sees it. */
export interface RunnerModel {
  readonly runnerId: string;
  readonly orgId: string;
  readonly orchestrator: RunnerMetadataOrchestrator;
  /** Where the orchestrator was taken from. */
  readonly orchestratorSource: 'metadata' | 'trust policy' | 'option';
  readonly env: StackEnvironment;
  /** The runner's RunnerCreateBody, as deployed. */
  readonly body: any;
  readonly taskManagerRole: RoleRef;
  readonly executionRole: RoleRef;
  readonly taskRole: RoleRef;
  /** ARN of the OIDC provider the task-manager role trusts. */
  readonly oidcProviderArn: string;
  readonly sessionName: string;
  readonly cluster: { readonly name: string; readonly arn: string };
  readonly bucket: {
    readonly name: string;
    readonly arn: string;
    readonly logicalId?: string;
    /** The key of the bucket's default SSE-KMS encryption, when the template sets one. */
    readonly kmsKeyArn?: string;
    readonly bucketKeyEnabled: boolean;
  };
  readonly pathPrefix?: string;
  readonly secrets: readonly JobSecret[];
  readonly image?: string;
  /** The ECR repository of the job image, when it is one. */
  readonly ecrRepositoryArn?: string;
  /** What the check assumed or could not see. */
  readonly notes: readonly string[];
}

export interface ModelOptions {
  /** Check only this runner. */
  readonly runnerId?: string;
  /** Take the orchestrator from here instead of the template. */
  readonly orchestrator?: OrchestratorName;
  /** The issuer, with `orchestrator` (default: the one the trust policy names). */
  readonly oidcIssuer?: string;
  /** Account, region and partition, instead of detecting them from the template. */
  readonly env?: Partial<StackEnvironment>;
  /**
   * The deployed stack's `PhysicalResourceId` of each resource, by logical id
   * (`cloudformation:DescribeStackResources`): the calls then name the deployed roles, bucket,
   * cluster and key instead of placeholders, for evaluating them with IAM itself (`check --stack`).
   */
  readonly physicalResourceIds?: Readonly<Record<string, string>>;
}

/** Thrown for a template the check cannot read (exit 2 in the CLI). */
export class TemplateError extends Error {}

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Everything the evaluator needs from one template. */
export interface TemplateModel {
  readonly template: ResolvedTemplate;
  readonly runners: RunnerModel[];
}

export function readTemplate(raw: any, options: ModelOptions = {}): TemplateModel {
  if (raw === null || typeof raw !== 'object' || typeof raw.Resources !== 'object') {
    throw new TemplateError('not a CloudFormation template (no Resources)');
  }
  const t = resolveTemplate(raw, options.env ?? {}, options.physicalResourceIds ?? {});
  const runners: RunnerModel[] = [];
  for (const [key, output] of Object.entries<any>(raw.Outputs ?? {})) {
    if (!key.includes('RunnerCreateBody')) continue;
    let body: unknown;
    try {
      body = JSON.parse(String(t.resolve(output.Value)));
    } catch {
      throw new TemplateError(`output ${key} is not a RunnerCreateBody`);
    }
    if (!isRunnerCreateBody(body)) {
      throw new TemplateError(`output ${key} is not a RunnerCreateBody (${RUNNER_CREATE_BODY_SHAPE})`);
    }
    if (options.runnerId !== undefined && body.id !== options.runnerId) continue;
    runners.push(runnerFrom(t, body, String(output.Description ?? ''), options));
  }
  if (runners.length === 0) {
    throw new TemplateError(
      options.runnerId !== undefined
        ? `the template has no runner "${options.runnerId}"`
        : 'the template has no runner (no output whose key contains RunnerCreateBody)',
    );
  }
  return { template: t, runners };
}

function roleRef(t: ResolvedTemplate, arn: string, what: string, runnerId: string): RoleRef {
  const logicalId = t.logicalIdOf(arn);
  if (logicalId === undefined || t.resources[logicalId]?.Type !== 'AWS::IAM::Role') {
    throw new TemplateError(`runner ${runnerId}: its ${what} ${arn} is not a role of this template`);
  }
  return { logicalId, arn };
}

function runnerFrom(
  t: ResolvedTemplate,
  body: RunnerCreateBody,
  description: string,
  options: ModelOptions,
): RunnerModel {
  const notes: string[] = [];
  const runnerId = body.id;
  // The shape is checked (isRunnerCreateBody); the contents are read as the template has them.
  const rc: any = body.runner_configuration;
  const job = rc.job ?? {};
  const env: StackEnvironment = { ...t.env, region: typeof job.region === 'string' ? job.region : t.env.region };
  const taskManagerRole = roleRef(t, String(rc.auth?.role_arn), 'auth.role_arn', runnerId);
  const executionRole = roleRef(t, String(job.execution_role_arn), 'job.execution_role_arn', runnerId);
  const taskRole = roleRef(t, String(job.task_role_arn), 'job.task_role_arn', runnerId);

  const roleResource = t.resources[taskManagerRole.logicalId];
  const metadata: RunnerMetadata | undefined = roleResource.Metadata?.[RUNNER_METADATA_KEY]
    ? t.resolve(roleResource.Metadata[RUNNER_METADATA_KEY])
    : undefined;

  // The web-identity trust: the provider it names, and the issuer its condition keys are prefixed with.
  const trust = asArray<any>(t.resolve(roleResource.Properties?.AssumeRolePolicyDocument)?.Statement);
  const webIdentity = trust.find((s) => asArray(s.Action).includes('sts:AssumeRoleWithWebIdentity'));
  const oidcProviderArn = String(asArray(webIdentity?.Principal?.Federated)[0] ?? '');
  const conditionKeys = Object.values<any>(webIdentity?.Condition ?? {}).flatMap((keys) => Object.keys(keys ?? {}));
  const trustIssuer = conditionKeys.find((k) => k.endsWith(':sub'))?.slice(0, -':sub'.length);
  const trustSub = Object.values<any>(webIdentity?.Condition ?? {})
    .map((keys) => keys?.[`${trustIssuer}:sub`])
    .find((v) => typeof v === 'string') as string | undefined;

  const orgId =
    (typeof metadata?.orgId === 'string' ? metadata.orgId : undefined) ??
    /\(org ([^)\s]+)\)/.exec(description)?.[1] ??
    (trustSub?.endsWith(`+${runnerId}`) ? trustSub.slice(0, -runnerId.length - 1) : undefined);
  if (orgId === undefined) throw new TemplateError(`runner ${runnerId}: cannot tell its organization id`);

  let orchestrator: RunnerMetadataOrchestrator;
  let orchestratorSource: RunnerModel['orchestratorSource'];
  if (options.orchestrator !== undefined) {
    orchestrator = knownOrchestrator(
      options.orchestrator,
      orgId,
      options.oidcIssuer ??
        (options.orchestrator === 'humanitec' ? HUMANITEC_ISSUER : (metadata?.orchestrator.issuer ?? trustIssuer)),
    );
    orchestratorSource = 'option';
  } else if (metadata?.orchestrator !== undefined) {
    orchestrator = metadata.orchestrator;
    orchestratorSource = 'metadata';
  } else {
    const issuer = trustIssuer ?? HUMANITEC_ISSUER;
    orchestrator = knownOrchestrator(issuer === HUMANITEC_ISSUER ? 'humanitec' : 'stellwerk', orgId, issuer);
    orchestratorSource = 'trust policy';
    notes.push(
      `no runner metadata in the template: orchestrator ${orchestrator.name} taken from the trust policy's issuer ${issuer}`,
    );
  }

  const clusterName = String(job.cluster);
  const clusterLogical = t.logicalIdOf(clusterName);
  const clusterArn =
    clusterLogical !== undefined && t.resources[clusterLogical]?.Type === 'AWS::ECS::Cluster'
      ? t.arnOf(clusterLogical)
      : clusterName.startsWith('arn:')
        ? clusterName
        : `arn:${env.partition}:ecs:${env.region}:${env.account}:cluster/${clusterName}`;

  const storage: any = body.state_storage_configuration;
  const bucketName = String(storage.bucket);
  const bucketLogical = t.logicalIdOf(bucketName);
  const bucketResource = bucketLogical !== undefined ? t.resources[bucketLogical] : undefined;
  let kmsKeyArn: string | undefined;
  let bucketKeyEnabled = false;
  if (bucketResource?.Type === 'AWS::S3::Bucket') {
    const rule = asArray<any>(
      t.resolve(bucketResource.Properties?.BucketEncryption)?.ServerSideEncryptionConfiguration,
    )[0];
    if (rule?.ServerSideEncryptionByDefault?.SSEAlgorithm?.startsWith('aws:kms')) {
      const id = String(rule.ServerSideEncryptionByDefault.KMSMasterKeyID ?? '');
      kmsKeyArn = id.startsWith('arn:') ? id : `arn:${env.partition}:kms:${env.region}:${env.account}:key/${id}`;
      bucketKeyEnabled = rule.BucketKeyEnabled === true;
      if (id === '') {
        kmsKeyArn = `arn:${env.partition}:kms:${env.region}:${env.account}:alias/aws/s3`;
        notes.push('the state bucket uses the AWS managed key aws/s3');
      }
    }
  } else {
    notes.push(`state bucket ${bucketName} is not in the template: its encryption and bucket policy were not checked`);
  }

  const sessionName = String(rc.auth?.session_name ?? `${orgId}-${runnerId}`).slice(0, 64);
  const secrets = Object.entries<any>(job.secrets ?? {}).map(([name, valueFrom]) =>
    jobSecret(t, name, String(valueFrom), notes),
  );
  const image = typeof job.image === 'string' ? job.image : undefined;
  const ecr =
    image !== undefined ? /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image) : null;

  notes.push(...t.notes);
  return {
    runnerId,
    orgId,
    orchestrator,
    orchestratorSource,
    env,
    body,
    taskManagerRole,
    executionRole,
    taskRole,
    oidcProviderArn,
    sessionName,
    cluster: { name: clusterName.split('/').pop()!, arn: clusterArn },
    bucket: {
      name: bucketName,
      arn: `arn:${env.partition}:s3:::${bucketName}`,
      logicalId: bucketResource?.Type === 'AWS::S3::Bucket' ? bucketLogical : undefined,
      kmsKeyArn,
      bucketKeyEnabled,
    },
    pathPrefix: typeof storage.path_prefix === 'string' && storage.path_prefix !== '' ? storage.path_prefix : undefined,
    secrets,
    image,
    ecrRepositoryArn: ecr ? `arn:${env.partition}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}` : undefined,
    notes,
  };
}

function jobSecret(t: ResolvedTemplate, name: string, valueFrom: string, notes: string[]): JobSecret {
  const parts = valueFrom.split(':');
  if (parts[2] === 'ssm') {
    return { name, valueFrom, service: 'ssm', resourceArn: valueFrom };
  }
  // arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]
  const resourceArn = parts.slice(0, 7).join(':');
  const logicalId = t.logicalIdOf(resourceArn);
  let keyArn: string | undefined;
  if (logicalId !== undefined && t.resources[logicalId]?.Type === 'AWS::SecretsManager::Secret') {
    const key = t.resolve(t.resources[logicalId].Properties?.KmsKeyId);
    if (typeof key === 'string') keyArn = key;
  } else {
    notes.push(`secret ${name} is not in the template: the key that encrypts it was not checked`);
  }
  return { name, valueFrom, service: 'secretsmanager', resourceArn, keyArn };
}

// ---------------------------------------------------------------------------------------------
// Policies (resolved once per template and question).

const policyCache = new WeakMap<TemplateModel, Map<string, { value: any; notes: string[] }>>();

function cached<T>(model: TemplateModel, key: string, notes: string[] | undefined, compute: (notes: string[]) => T): T {
  let cache = policyCache.get(model);
  if (cache === undefined) policyCache.set(model, (cache = new Map()));
  let entry = cache.get(key);
  if (entry === undefined) {
    const found: string[] = [];
    entry = { value: compute(found), notes: found };
    cache.set(key, entry);
  }
  notes?.push(...entry.notes);
  return entry.value as T;
}

function statementsOf(doc: any, source: string, kind: LocatedStatement['kind']): LocatedStatement[] {
  return asArray<Statement>(doc?.Statement).map((statement, index) => ({ source, kind, index, statement }));
}

/** The identity policies attached to a role of the template: inline, AWS::IAM::Policy, managed. */
export function identityPolicies(model: TemplateModel, roleLogicalId: string, notes?: string[]): LocatedStatement[] {
  return cached(model, `identity ${roleLogicalId}`, notes, (found) =>
    computeIdentityPolicies(model, roleLogicalId, found),
  );
}

function computeIdentityPolicies(model: TemplateModel, roleLogicalId: string, notes: string[]): LocatedStatement[] {
  const t = model.template;
  const role = t.resources[roleLogicalId];
  const roleName = t.resolve({ Ref: roleLogicalId });
  const out: LocatedStatement[] = [];
  for (const p of asArray<any>(role?.Properties?.Policies)) {
    out.push(...statementsOf(t.resolve(p.PolicyDocument), `${roleLogicalId} (inline ${p.PolicyName})`, 'identity'));
  }
  const attachedArns = new Set(asArray<string>(t.resolve(role?.Properties?.ManagedPolicyArns)));
  for (const [id, r] of Object.entries<any>(t.resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = asArray<string>(t.resolve(r.Properties?.Roles));
    const attached =
      roles.includes(roleName) || (r.Type === 'AWS::IAM::ManagedPolicy' && attachedArns.has(t.arnOf(id)));
    if (attached) {
      out.push(...statementsOf(t.resolve(r.Properties?.PolicyDocument), id, 'identity'));
      if (r.Type === 'AWS::IAM::ManagedPolicy') attachedArns.delete(t.arnOf(id));
    }
  }
  for (const arn of attachedArns) {
    notes?.push(
      `managed policy ${arn} of ${roleLogicalId} is not in the template: not evaluated (grants nothing here)`,
    );
  }
  return out;
}

/** The role's permissions boundary: undefined (none), its statements, or 'unknown' (not in the template). */
export function boundaryOf(
  model: TemplateModel,
  roleLogicalId: string,
  notes?: string[],
): LocatedStatement[] | 'unknown' | undefined {
  return cached(model, `boundary ${roleLogicalId}`, notes, (found) => computeBoundary(model, roleLogicalId, found));
}

function computeBoundary(
  model: TemplateModel,
  roleLogicalId: string,
  notes: string[],
): LocatedStatement[] | 'unknown' | undefined {
  const t = model.template;
  const arn = t.resolve(t.resources[roleLogicalId]?.Properties?.PermissionsBoundary);
  if (arn === undefined) return undefined;
  const id = t.logicalIdOf(String(arn));
  if (id !== undefined && t.resources[id]?.Type === 'AWS::IAM::ManagedPolicy') {
    return statementsOf(t.resolve(t.resources[id].Properties?.PolicyDocument), id, 'boundary');
  }
  notes.push(`permissions boundary ${arn} of ${roleLogicalId} is not in the template: assumed to allow`);
  return 'unknown';
}

export function trustPolicyOf(model: TemplateModel, roleLogicalId: string): LocatedStatement[] {
  const t = model.template;
  return cached(model, `trust ${roleLogicalId}`, undefined, () =>
    statementsOf(t.resolve(t.resources[roleLogicalId]?.Properties?.AssumeRolePolicyDocument), roleLogicalId, 'trust'),
  );
}

/** The bucket policy of a bucket of the template, by bucket name. */
export function bucketPolicyOf(model: TemplateModel, bucketName: string): LocatedStatement[] | undefined {
  return cached(model, `bucket ${bucketName}`, undefined, () => computeBucketPolicy(model, bucketName));
}

function computeBucketPolicy(model: TemplateModel, bucketName: string): LocatedStatement[] | undefined {
  const t = model.template;
  for (const [id, r] of Object.entries<any>(t.resources)) {
    if (r.Type === 'AWS::S3::BucketPolicy' && t.resolve(r.Properties?.Bucket) === bucketName) {
      return statementsOf(t.resolve(r.Properties?.PolicyDocument), id, 'bucket');
    }
  }
  return undefined;
}

/** The key policy of a key of the template, by key ARN. */
export function keyPolicyOf(model: TemplateModel, keyArn: string): LocatedStatement[] | undefined {
  return cached(model, `key ${keyArn}`, undefined, () => computeKeyPolicy(model, keyArn));
}

function computeKeyPolicy(model: TemplateModel, keyArn: string): LocatedStatement[] | undefined {
  const t = model.template;
  const id = t.logicalIdOf(keyArn);
  if (id === undefined || t.resources[id]?.Type !== 'AWS::KMS::Key') return undefined;
  return statementsOf(t.resolve(t.resources[id].Properties?.KeyPolicy), id, 'key');
}
