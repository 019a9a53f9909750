import { existsSync } from 'fs';
import * as path from 'path';
import { Annotations, ArnFormat, Aws, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { allowLogsToUseKey } from '../encryption/key-policy';
import {
  acknowledge,
  acknowledgeInPacks,
  acknowledgeWildcardResource,
  controlTower,
  REGULATORY_PACKS,
} from '../acknowledgements';
import { EcsRunnerValidationError } from '../errors';
import { stackSingleton } from '../singletons';
import { tagManagedBy } from '../managed-by';
import { applyRoleGovernance } from '../identity/role-governance';
import * as v from '../validation';
import { DEFAULT_API_URL, DEFAULT_DEADLINE_MS } from './api-defaults';
import { RUNNER_CREATE_BODY_SHAPE, isRunnerCreateBody } from './runner-create-body';

/** A runner rule: which deployments the orchestrator sends to the runner. */
export interface RunnerRuleProps {
  /**
   * The environment type the rule matches, e.g. `development`. It must exist in the organization.
   *
   * @default - any environment type
   */
  readonly environmentType?: string;

  /**
   * The project the rule matches, e.g. `my-app`. It must exist in the organization.
   *
   * @default - any project
   */
  readonly projectId?: string;
}

/**
 * How the runner registers itself with the orchestrator on deploy (`EcsRunnerProps.registration`):
 * the stack registers the runner, updates the registration on change and deregisters it on removal.
 */
export interface RegistrationOptions {
  /**
   * Secrets Manager secret holding the orchestrator API token: either the token itself or JSON
   * `{"token": "..."}`. Only its ARN goes into the template; the registration handler reads
   * it at deploy time and may read nothing else.
   */
  readonly apiTokenSecret: secretsmanager.ISecret;

  /**
   * When a runner with this id already exists in the organization, take it over and update it
   * to this configuration instead of failing the deployment.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;

  /**
   * What happens to the registration when it leaves the stack: `DESTROY` deregisters the
   * runner (and deletes the rules this registration declares), `RETAIN` leaves both in place.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Runner rules created after the runner and deleted before it. Rules made for the runner
   * outside this registration are left alone.
   *
   * @default - no rules
   */
  readonly rules?: RunnerRuleProps[];
}

/** Properties of {@link RunnerRegistration}. */
export interface RunnerRegistrationProps extends RegistrationOptions {
  /** The runner's id in the orchestrator; must equal the `id` in `body`. Pattern `^[a-z][a-z0-9_-]+$`. */
  readonly runnerId: string;

  /** The orchestrator organization to register the runner in. */
  readonly orgId: string;

  /**
   * The orchestrator API's `RunnerCreateBody` as a JSON string, e.g. `EcsRunner.registrationBody`.
   * May contain CloudFormation references resolved at deploy time.
   */
  readonly body: string;

  /**
   * Base URL of the orchestrator API (a self-hosted Stellwerk installation has its own).
   *
   * @default 'https://api.humanitec.dev'
   */
  readonly apiUrl?: string;

  /**
   * Permissions boundary of every IAM role the registration adds (the handler's and the
   * custom resource provider framework's). All registrations in a stack share one provider and
   * must agree on it.
   *
   * @default - none
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * IAM path of every role the registration adds, e.g. `/platform/runners/`. All registrations
   * in a stack must agree on it.
   *
   * @default '/'
   */
  readonly rolePath?: string;

  /**
   * Customer managed key that encrypts the log groups of the registration handler and of the
   * provider framework. When it is a `kms.Key` of the same stack, the statement CloudWatch Logs
   * needs is added to its key policy; otherwise a warning names the statement to add. All
   * registrations in a stack share one provider: the first registration with a key decides.
   *
   * @default - CloudWatch Logs' default encryption (`EcsRunner` passes its own key)
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Registers a runner with the Platform Orchestrator on deploy, updates it on change and
 * deregisters it on removal, through a CloudFormation custom resource. The API token is read
 * from Secrets Manager at deploy time and never appears in the template.
 *
 * One provider (handler Lambda function, provider framework, their roles and log groups) is
 * created per stack and shared by all registrations in it.
 */
export class RunnerRegistration extends Construct {
  /** The runner's id in the orchestrator. */
  public readonly runnerId: string;
  /** The organization the runner is registered in. */
  public readonly orgId: string;
  /** The custom resource; its physical id is `<orgId>/<runnerId>`. */
  public readonly resource: CustomResource;
  /** The handler function, shared by the stack's registrations: alarm on its errors. */
  public readonly handlerFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: RunnerRegistrationProps) {
    super(scope, id);
    validate(this, props);
    this.runnerId = props.runnerId;
    this.orgId = props.orgId;

    const provider = RegistrationProvider.of(this, props.permissionsBoundary, props.rolePath);
    provider.grantSecretRead(props.apiTokenSecret);
    const key = props.encryptionKey;
    if (key !== undefined) provider.encryptLogs(key, this);
    this.handlerFunction = provider.handler;

    const rules = (props.rules ?? []).map((r) => {
      const out: Record<string, string> = {};
      if (r.environmentType !== undefined) out.env_type_id = r.environmentType;
      if (r.projectId !== undefined) out.project_id = r.projectId;
      return out;
    });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::PlatformOrchestratorRunner',
      properties: {
        OrgId: props.orgId,
        RunnerId: props.runnerId,
        ApiUrl: props.apiUrl ?? DEFAULT_API_URL,
        Body: props.body,
        TokenSecretArn: props.apiTokenSecret.secretArn,
        AdoptExisting: String(props.adoptExisting ?? false),
        RetainOnDelete: String(removalPolicy === RemovalPolicy.RETAIN),
        Rules: Stack.of(this).toJsonString(rules),
      },
    });
  }
}

/** Directory of the bundled handler: `<package>/assets/registration-handler`, from src/ and lib/ alike. */
const HANDLER_ASSET = path.join(__dirname, '..', '..', 'assets', 'registration-handler');
const PROVIDER_ID = 'PlatformOrchestratorRegistrationProvider';

/** The packs with LambdaConcurrency and LambdaDLQ (PCI.DSS.321 has neither). */
const LAMBDA_PACKS = ['HIPAA.Security', 'NIST.800.53.R5'];

/** Why the compliance rules on Lambda functions do not apply to the provider's two functions. */
interface FunctionReasons {
  /** LambdaConcurrency: no reserved concurrency. */
  readonly concurrency: string;
  /** LambdaDLQ: no dead-letter queue. */
  readonly dlq: string;
  /** LambdaInsideVPC and Control Tower's lambda_inside_vpc_check: not in a VPC. */
  readonly vpc: string;
}

const HANDLER_REASONS: FunctionReasons = {
  concurrency:
    'The runner registration handler runs only while CloudFormation creates, updates or deletes a runner registration, invoked by the provider framework alone. ' +
    'Reserved concurrency would take capacity from the account pool for a deploy-time function, fails to deploy in accounts whose concurrency quota leaves less than ' +
    'the 100 unreserved executions Lambda keeps, and a small value would throttle the parallel registrations of several runners in one stack.',
  dlq:
    'The provider framework invokes the runner registration handler synchronously (lambda:InvokeFunction, RequestResponse) and reports its error to CloudFormation, ' +
    'which fails and rolls back the stack operation; a dead-letter queue only receives failed asynchronous invocations, so it would stay empty.',
  vpc:
    "The runner registration handler only calls Secrets Manager (the API token) and the orchestrator's public API (api.humanitec.dev or apiUrl) during deployments and " +
    'reaches nothing inside a VPC; in a VPC it would need a NAT gateway or endpoints for both. An orchestrator (Stellwerk) reachable only inside a VPC is not supported yet.',
};

const FRAMEWORK_REASONS: FunctionReasons = {
  concurrency:
    'The provider framework function of the runner registration runs only when CloudFormation sends a custom resource event for a runner registration. ' +
    'Reserved concurrency would take capacity from the account pool for a deploy-time function, fails to deploy in accounts whose concurrency quota leaves less than ' +
    'the 100 unreserved executions Lambda keeps, and a small value would throttle the parallel registrations of several runners in one stack.',
  dlq:
    "CloudFormation invokes the runner registration's provider framework asynchronously with a pre-signed response URL; the framework reports every error of the " +
    'registration handler to that URL, and an event left unanswered fails the stack operation at the custom resource timeout. A dead-letter copy of the event cannot ' +
    'resume that operation; the stack events and the framework log group record it.',
  vpc:
    "The runner registration's provider framework function only invokes the registration handler (lambda:InvokeFunction, lambda:GetFunction) and answers " +
    "CloudFormation's pre-signed S3 response URL; it reaches nothing inside a VPC, where it would need a NAT gateway or Lambda and S3 endpoints.",
};

/** The IAM5 finding of the handler versions in the provider framework's policy. */
const FRAMEWORK_INVOKE_VERSIONS_REASON =
  'cr.Provider grants the framework lambda:InvokeFunction on the runner registration handler and on its qualified versions and aliases (<handler ARN>:*); ' +
  'the handler publishes no version or alias, so the wildcard matches nothing beyond the one function the framework invokes.';

/**
 * An IAM role whose statements, whoever adds them (the library's grants, `cr.Provider`,
 * `lambda.Function`), land in one customer managed policy attached to it (`<role>/Policy`,
 * created with the first statement) instead of an inline `DefaultPolicy`: the HIPAA, NIST and
 * PCI packs refuse inline policies (IAMNoInlinePolicy). Functions depend on their role, and so
 * on this policy, which is its child.
 */
class ManagedPolicyRole extends iam.Role {
  private managedPolicy: iam.ManagedPolicy | undefined;
  private readonly policyPath: string | undefined;
  private readonly policyDescription: string | undefined;

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
    this.policyPath = props.path;
    this.policyDescription = props.description;
  }

  /** The role's managed policy, once a statement was added. */
  public get policy(): iam.ManagedPolicy | undefined {
    return this.managedPolicy;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.managedPolicy ??= new iam.ManagedPolicy(this, 'Policy', {
      description: this.policyDescription,
      path: this.policyPath,
      roles: [this],
    });
    this.managedPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.managedPolicy };
  }
}

/**
 * Refuses, before anything is built, a registration that could not share the stack's provider
 * (another permissions boundary or role path than the stack's other registrations).
 */
export function checkSharedRegistrationProvider(
  scope: Construct,
  boundary: iam.IManagedPolicy | undefined,
  rolePath: string | undefined,
): void {
  RegistrationProvider.checkShared(scope, boundary, rolePath);
}

/** The stack's one registration provider; created by the first registration. */
class RegistrationProvider extends Construct {
  public static of(scope: Construct, boundary: iam.IManagedPolicy | undefined, rolePath: string | undefined) {
    RegistrationProvider.checkShared(scope, boundary, rolePath);
    return stackSingleton(
      scope,
      PROVIDER_ID,
      RegistrationProvider,
      (stack, id) => new RegistrationProvider(stack, id, boundary, rolePath),
    );
  }

  /** The stack's registrations share one provider: they must agree on its boundary and path. */
  public static checkShared(scope: Construct, boundary: iam.IManagedPolicy | undefined, rolePath: string | undefined) {
    const existing = Stack.of(scope).node.tryFindChild(PROVIDER_ID);
    if (!(existing instanceof RegistrationProvider)) return;
    const boundaryArn = boundary?.managedPolicyArn;
    if (boundaryArn !== existing.boundaryArn) {
      throw new EcsRunnerValidationError(
        'permissionsBoundary',
        boundaryArn ?? 'none',
        `the permissions boundary of the stack's other registrations (${existing.boundaryArn ?? 'none'}): they share one provider`,
      );
    }
    if ((rolePath ?? '/') !== existing.rolePath) {
      throw new EcsRunnerValidationError(
        'rolePath',
        rolePath ?? '/',
        `the role path of the stack's other registrations ("${existing.rolePath}"): they share one provider`,
      );
    }
  }

  public readonly serviceToken: string;
  public readonly handler: lambda.IFunction;
  private readonly handlerRole: ManagedPolicyRole;
  private readonly boundaryArn: string | undefined;
  private readonly rolePath: string;
  private readonly logGroups: logs.LogGroup[];
  private readonly logGroupArnPattern: string;
  private logKey: kms.IKey | undefined;

  private constructor(
    scope: Construct,
    id: string,
    boundary: iam.IManagedPolicy | undefined,
    rolePath: string | undefined,
  ) {
    super(scope, id);
    if (!existsSync(path.join(HANDLER_ASSET, 'index.js'))) {
      throw new Error(
        `The registration handler bundle is missing at ${HANDLER_ASSET}/index.js: run "npm run bundle" (a published package includes it)`,
      );
    }
    const stack = Stack.of(this);
    this.boundaryArn = boundary?.managedPolicyArn;
    this.rolePath = rolePath ?? '/';
    const roleProps = { permissionsBoundary: boundary, path: rolePath };
    const lambdaPrincipal = new iam.ServicePrincipal('lambda.amazonaws.com');

    // Log groups named after the stack's UUID: stable across updates, unique per stack creation
    // (a retained group never blocks a redeployment), and known before the groups exist, so a
    // key policy can name them (see encryptLogs).
    const logGroupBase = `/platform-orchestrator/registration/${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`;
    this.logGroupArnPattern = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${logGroupBase}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logGroup = (logGroupId: string, name: string) =>
      new logs.LogGroup(this, logGroupId, {
        logGroupName: `${logGroupBase}/${name}`,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    // The handler: reads the token secret(s) and writes its own logs, nothing else.
    const handlerLogs = logGroup('HandlerLogGroup', 'handler');
    this.handlerRole = new ManagedPolicyRole(this, 'HandlerRole', {
      ...roleProps,
      description: 'Registers Platform Orchestrator runners: reads the API token secret, writes its logs',
      assumedBy: lambdaPrincipal,
    });
    handlerLogs.grantWrite(this.handlerRole);
    const handler = new lambda.Function(this, 'Handler', {
      description: 'Registers Platform Orchestrator runners (custom resource onEvent handler)',
      code: lambda.Code.fromAsset(HANDLER_ASSET),
      handler: 'index.onEvent',
      runtime: lambda.Runtime.NODEJS_24_X,
      memorySize: 256,
      // The client's overall deadline, plus time for the secret and a clean error report. The
      // handler cuts every deadline to its remaining time less an undo (45 s) and the report
      // (10 s), so it throws its own error before this timeout (runtime/registration.lambda.ts, Budget).
      timeout: Duration.millis(DEFAULT_DEADLINE_MS + 60_000),
      role: this.handlerRole,
      logGroup: handlerLogs,
      environment: { PO_API_DEADLINE_MS: String(DEFAULT_DEADLINE_MS) },
    });
    handler.node.addDependency(this.handlerRole);
    this.handler = handler;

    // The provider framework's function: invokes the handler, writes its own logs. Its role is
    // ours, so what cr.Provider grants it lands in the role's managed policy too.
    const frameworkLogs = logGroup('FrameworkLogGroup', 'framework');
    const frameworkRole = new ManagedPolicyRole(this, 'FrameworkRole', {
      ...roleProps,
      description: 'Custom resource provider framework of the Platform Orchestrator runner registration',
      assumedBy: lambdaPrincipal,
    });
    frameworkLogs.grantWrite(frameworkRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    this.serviceToken = provider.serviceToken;
    tagManagedBy(this);
    this.logGroups = [handlerLogs, frameworkLogs];

    // Compliance rules that do not apply, on the resources they are about.
    acknowledgeFunction(handler, HANDLER_REASONS);
    acknowledgeFunction(provider.node.findChild('framework-onEvent'), FRAMEWORK_REASONS);
    acknowledgeWildcardResource(frameworkRole.policy!, `${handler.functionArn}:*`, FRAMEWORK_INVOKE_VERSIONS_REASON);

    // Both roles get boundary and path above; the aspect also covers any role the provider
    // framework may add itself, and sets the path of the managed policies.
    applyRoleGovernance(this, boundary, rolePath);
  }

  public grantSecretRead(secret: secretsmanager.ISecret): void {
    secret.grantRead(this.handlerRole);
    if (secret.encryptionKey !== undefined) {
      // grantRead grants kms:Decrypt through a ViaServicePrincipal, which lands only in a key
      // policy the CDK manages: an imported key would get nothing, and the handler could not
      // decrypt the token. So the role gets the same permission, still only via Secrets Manager.
      this.handlerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secret.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${secret.env.region}.amazonaws.com` } },
        }),
      );
    }
  }

  /**
   * Encrypt both log groups with `key`, unless an earlier registration of the stack gave one,
   * and let CloudWatch Logs use it for them (key policy statement, or a warning naming it).
   */
  public encryptLogs(key: kms.IKey, requester: Construct): void {
    if (this.logKey !== undefined) return;
    this.logKey = key;
    for (const group of this.logGroups) {
      (group.node.defaultChild as logs.CfnLogGroup).kmsKeyId = key.keyArn;
    }
    allowLogsToUseKey(requester, {
      key,
      logGroupArn: this.logGroupArnPattern,
      sidPrefix: 'CloudWatchLogsForRunnerRegistration',
      property: 'encryptionKey',
      what: "the registration's log groups",
      warningId: 'registrationKeyPolicy',
    });
  }
}

/** Acknowledge the Lambda rules that do not apply to one of the provider's functions, on the function. */
function acknowledgeFunction(fn: Construct, reasons: FunctionReasons): void {
  acknowledgeInPacks(fn, LAMBDA_PACKS, 'LambdaConcurrency', reasons.concurrency);
  acknowledgeInPacks(fn, LAMBDA_PACKS, 'LambdaDLQ', reasons.dlq);
  acknowledgeInPacks(fn, REGULATORY_PACKS, 'LambdaInsideVPC', reasons.vpc);
  acknowledge(fn, controlTower('lambda_inside_vpc_check'), reasons.vpc);
}

const RULE_ID = /^[a-z](?:-?[a-z0-9]+)+$/;

function validate(scope: Construct, props: RunnerRegistrationProps): void {
  for (const name of ['runnerId', 'orgId', 'body'] as const) {
    if (typeof props[name] !== 'string') {
      throw new EcsRunnerValidationError(name, props[name], 'a string');
    }
  }
  if (props.apiTokenSecret === undefined || props.apiTokenSecret === null) {
    throw new EcsRunnerValidationError(
      'apiTokenSecret',
      props.apiTokenSecret,
      'a Secrets Manager secret holding the API token',
    );
  }
  v.checkRunnerId('runnerId', props.runnerId);
  v.checkOrgId('orgId', props.orgId);

  if (!Token.isUnresolved(props.body)) {
    let body: unknown;
    try {
      body = JSON.parse(props.body);
    } catch {
      throw new EcsRunnerValidationError(
        'body',
        props.body,
        'a JSON RunnerCreateBody, e.g. EcsRunner.registrationBody',
      );
    }
    if (!isRunnerCreateBody(body)) {
      throw new EcsRunnerValidationError('body', props.body, `a JSON RunnerCreateBody: ${RUNNER_CREATE_BODY_SHAPE}`);
    }
    if (!Token.isUnresolved(body.id) && !Token.isUnresolved(props.runnerId) && body.id !== props.runnerId) {
      throw new EcsRunnerValidationError('body', props.body, `a body whose id is the runnerId "${props.runnerId}"`);
    }
  }

  if (props.apiUrl !== undefined && !Token.isUnresolved(props.apiUrl)) {
    const accepted = 'an absolute https URL without credentials, query or fragment, e.g. "https://api.humanitec.dev"';
    let url: URL;
    try {
      url = new URL(props.apiUrl);
    } catch {
      throw new EcsRunnerValidationError('apiUrl', props.apiUrl, accepted);
    }
    if (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.username ||
      url.password ||
      url.search ||
      url.hash
    ) {
      throw new EcsRunnerValidationError('apiUrl', props.apiUrl, accepted);
    }
    if (url.protocol === 'http:') {
      Annotations.of(scope).addWarningV2(
        'platform-orchestrator-ecs-runner:plainHttpApiUrl',
        `apiUrl ${props.apiUrl} is plain http: the API token travels unencrypted. Use https outside a local test installation.`,
      );
    }
  }

  checkRemovalPolicy('removalPolicy', props.removalPolicy);
  checkRunnerRules('rules', props.rules);
  v.checkRolePath('rolePath', props.rolePath);
}

/**
 * A registration's removal policy: DESTROY or RETAIN. `property` is the name the caller's user
 * wrote (`removalPolicy` here, `registration.removalPolicy` on `EcsRunner`).
 */
export function checkRemovalPolicy(property: string, policy: RemovalPolicy | undefined): void {
  if (policy !== undefined && policy !== RemovalPolicy.DESTROY && policy !== RemovalPolicy.RETAIN) {
    throw new EcsRunnerValidationError(property, policy, 'RemovalPolicy.DESTROY or RemovalPolicy.RETAIN');
  }
}

/**
 * Runner rules: ids the API accepts, no two alike. `property` is the name the caller's user wrote
 * (`rules` here, `registration.rules` on `EcsRunner`).
 */
export function checkRunnerRules(property: string, rules: RunnerRuleProps[] | undefined): void {
  if (rules === undefined) return;
  if (!Array.isArray(rules)) {
    throw new EcsRunnerValidationError(property, rules, 'a list of runner rules ({ environmentType?, projectId? })');
  }
  const seen = new Set<string>();
  for (const [i, rule] of rules.entries()) {
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
      throw new EcsRunnerValidationError(`${property}[${i}]`, rule, 'a runner rule ({ environmentType?, projectId? })');
    }
    const accepted = 'an id of lowercase letters and digits, single dashes between them (^[a-z](?:-?[a-z0-9]+)+$)';
    for (const field of ['environmentType', 'projectId'] as const) {
      const value = rule[field];
      if (value !== undefined && typeof value !== 'string') {
        throw new EcsRunnerValidationError(`${property}[${i}].${field}`, value, accepted);
      }
      v.checkPattern(`${property}[${i}].${field}`, value, RULE_ID, accepted);
    }
    if (Token.isUnresolved(rule.environmentType) || Token.isUnresolved(rule.projectId)) continue;
    const key = JSON.stringify([rule.environmentType ?? '', rule.projectId ?? '']);
    if (seen.has(key)) {
      throw new EcsRunnerValidationError(
        `${property}[${i}]`,
        rule,
        'rules that differ in environmentType or projectId',
      );
    }
    seen.add(key);
  }
}
