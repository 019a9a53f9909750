/**
 * The live checks that are not IAM questions: the jobs' network (routes and the runner's VPC
 * endpoints), the account's OIDC provider, the job secrets, and the orchestrator's registration.
 * Each returns findings; an error of the check's own call is "could not check", never "ok".
 */
import { GetOpenIDConnectProviderCommand, GetRoleCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CheckCallError, LiveClients, checkCall, describeError } from './aws';
import type { Ec2Route as Route, Ec2RouteTable as RouteTable } from './ec2-query';
import { Proxy, cidrCovers } from './proxy';
import { DeployedRunner, DeployedStack } from './stack';
import { OrchestratorApiError, OrchestratorClient, diffRunner } from '../../../registration/runtime/api-client';

type Json = any;

/** One line of the live check's report. */
export interface LiveFinding {
  /** What was checked: `iam`, `network`, `endpoint`, `oidc`, `secret`, `registration`, `stack`. */
  readonly check: string;
  /** What it was checked on, e.g. a call id, a subnet id, a secret's variable name. */
  readonly subject: string;
  /** `skipped`: not checked by choice (e.g. no API token); not a failure. */
  readonly status: 'ok' | 'failed' | 'could-not-check' | 'skipped';
  readonly detail: string;
}

const ok = (check: string, subject: string, detail: string): LiveFinding => ({ check, subject, status: 'ok', detail });
const failed = (check: string, subject: string, detail: string): LiveFinding => ({
  check,
  subject,
  status: 'failed',
  detail,
});
function cannot(check: string, subject: string, e: unknown): LiveFinding {
  return {
    check,
    subject,
    status: 'could-not-check',
    detail: e instanceof CheckCallError ? e.message : describeError(check, e),
  };
}

const job = (runner: DeployedRunner): Json => (runner.body.runner_configuration as Json)?.job ?? {};

/** The target of an internet route, or undefined when the route does not reach the internet. */
function internetTarget(route: Route): string | undefined {
  return (
    (route.GatewayId?.startsWith('igw-') ? route.GatewayId : undefined) ??
    route.NatGatewayId ??
    route.TransitGatewayId ??
    route.InstanceId ??
    route.NetworkInterfaceId ??
    route.CoreNetworkArn ??
    route.LocalGatewayId ??
    route.CarrierGatewayId ??
    (route.GatewayId?.startsWith('vpce-') ? route.GatewayId : undefined) // Gateway Load Balancer endpoint (inspection)
  );
}

/** Each job subnet routes to the internet, or to the proxy (`ec2:DescribeSubnets`, `ec2:DescribeRouteTables`). */
export async function checkSubnets(
  clients: LiveClients,
  runner: DeployedRunner,
  proxy?: Proxy,
): Promise<LiveFinding[]> {
  const subnets: string[] = job(runner).subnets ?? [];
  const publicIp = job(runner).is_public_ip_enabled === true;
  if (subnets.length === 0)
    return [
      failed(
        'network',
        'subnets',
        'the RunnerCreateBody names no subnets: give network: RunnerNetwork.fromSubnets or .fromSubnetIds',
      ),
    ];
  let described;
  try {
    described = await checkCall('ec2:DescribeSubnets', () =>
      clients.ec2.describeSubnets([{ Name: 'subnet-id', Values: subnets }]),
    );
  } catch (e) {
    return subnets.map((s) => cannot('network', s, e));
  }
  const vpcOf = new Map(described.map((s) => [s.SubnetId!, s.VpcId!]));
  const vpcs = [...new Set(vpcOf.values())];
  let tables: RouteTable[];
  try {
    const explicit = await checkCall('ec2:DescribeRouteTables', () =>
      clients.ec2.describeRouteTables([{ Name: 'association.subnet-id', Values: subnets }]),
    );
    const main =
      vpcs.length === 0
        ? []
        : await checkCall('ec2:DescribeRouteTables', () =>
            clients.ec2.describeRouteTables([
              { Name: 'vpc-id', Values: vpcs },
              { Name: 'association.main', Values: ['true'] },
            ]),
          );
    tables = [...explicit, ...main];
  } catch (e) {
    return subnets.map((s) => cannot('network', s, e));
  }

  return subnets.map((subnet) => {
    const vpc = vpcOf.get(subnet);
    if (vpc === undefined) {
      return failed(
        'network',
        subnet,
        `subnet ${subnet} does not exist in this account and region: fix network (RunnerNetwork.fromSubnets/fromSubnetIds)`,
      );
    }
    const table =
      tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnet)) ??
      tables.find((t) => t.VpcId === vpc && (t.Associations ?? []).some((a) => a.Main === true));
    if (table === undefined) return failed('network', subnet, `no route table found for subnet ${subnet} (VPC ${vpc})`);
    const how = (table.Associations ?? []).some((a) => a.SubnetId === subnet) ? 'route table' : 'main route table';
    const active = (table.Routes ?? []).filter((r) => r.State !== 'blackhole');
    if (proxy !== undefined) {
      const route = active.find(
        (r) => r.DestinationCidrBlock !== undefined && cidrCovers(r.DestinationCidrBlock, proxy),
      );
      return route
        ? ok(
            'network',
            subnet,
            `proxy ${proxy.text} reachable via ${how} ${table.RouteTableId} (${route.DestinationCidrBlock} → ${route.GatewayId ?? internetTarget(route) ?? 'local'})`,
          )
        : failed(
            'network',
            subnet,
            `no route to proxy ${proxy.text} in ${how} ${table.RouteTableId}: add one, or choose other subnets (network)`,
          );
    }
    const route = active.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && internetTarget(r) !== undefined);
    const blackhole = (table.Routes ?? []).find(
      (r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State === 'blackhole',
    );
    if (route === undefined) {
      return failed(
        'network',
        subnet,
        `no route to the internet: ${how} ${table.RouteTableId} has no ${blackhole ? 'working (its 0.0.0.0/0 is a blackhole) ' : ''}0.0.0.0/0 route to an internet, NAT or transit gateway or an instance, so jobs cannot pull their image or reach the orchestrator (reported "stuck" after 2 minutes); give network subnets with a NAT gateway route, or pass --proxy <ip> when jobs use a proxy`,
      );
    }
    const target = internetTarget(route)!;
    if (target.startsWith('igw-') && !publicIp) {
      return failed(
        'network',
        subnet,
        `public subnet (0.0.0.0/0 → ${target} in ${how} ${table.RouteTableId}) but jobs get no public IP, so they cannot reach the internet: set assignPublicIp: true, or use private subnets with a NAT gateway`,
      );
    }
    return ok('network', subnet, `0.0.0.0/0 → ${target} (${how} ${table.RouteTableId})`);
  });
}

/** The VPC endpoints of the stack exist and are available (`ec2:DescribeVpcEndpoints`). */
export async function checkEndpoints(clients: LiveClients, stack: DeployedStack): Promise<LiveFinding[]> {
  const endpoints = Object.entries<Json>(stack.template?.Resources ?? {})
    .filter(([, r]) => r?.Type === 'AWS::EC2::VPCEndpoint')
    .map(([logicalId]) => ({ logicalId, id: stack.resources.get(logicalId)?.physicalId }));
  if (endpoints.length === 0) return [];
  const ids = endpoints.map((e) => e.id).filter((id): id is string => id !== undefined);
  let found: Map<string, Json>;
  try {
    const res =
      ids.length === 0
        ? []
        : await checkCall('ec2:DescribeVpcEndpoints', () =>
            clients.ec2.describeVpcEndpoints([{ Name: 'vpc-endpoint-id', Values: ids }]),
          );
    found = new Map(res.map((e) => [e.VpcEndpointId!, e]));
  } catch (e) {
    return endpoints.map((ep) => cannot('endpoint', ep.logicalId, e));
  }
  return endpoints.map(({ logicalId, id }) => {
    const ep = id !== undefined ? found.get(id) : undefined;
    const subject = `${logicalId}${id ? ` (${id})` : ''}`;
    if (ep === undefined) {
      return failed(
        'endpoint',
        subject,
        'the VPC endpoint the stack created does not exist (deleted outside CloudFormation?): redeploy the stack, or leave it out with RunnerVpcEndpoints exclude',
      );
    }
    const state = String(ep.State ?? '').toLowerCase();
    return state === 'available'
      ? ok('endpoint', subject, `${ep.ServiceName} available`)
      : failed('endpoint', subject, `${ep.ServiceName} is ${ep.State}, not available: jobs relying on it fail`);
  });
}

/**
 * The OIDC provider the deployed task-manager role trusts (its trust policy's `Federated`
 * principal, `iam:GetRole`) exists and lists `sts.amazonaws.com` (`iam:GetOpenIDConnectProvider`),
 * and is the provider of the orchestrator's issuer when that is known.
 */
export async function checkOidcProvider(
  clients: LiveClients,
  stack: DeployedStack,
  runner: DeployedRunner,
  issuer: string | undefined,
): Promise<LiveFinding[]> {
  const roleArn: string | undefined = (runner.body.runner_configuration as Json)?.auth?.role_arn;
  if (roleArn === undefined) return [failed('oidc', 'auth.role_arn', 'the RunnerCreateBody has no task-manager role')];
  let trusted: string[];
  try {
    const role = await checkCall('iam:GetRole', () =>
      clients.iam.send(new GetRoleCommand({ RoleName: roleArn.split('/').pop()! })),
    );
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '{}'));
    trusted = [
      ...new Set(
        ([] as Json[])
          .concat(trust.Statement ?? [])
          .filter(
            (st: Json) =>
              st.Effect === 'Allow' &&
              ([] as string[]).concat(st.Action ?? []).includes('sts:AssumeRoleWithWebIdentity'),
          )
          .flatMap((st: Json) => ([] as string[]).concat(st.Principal?.Federated ?? [])),
      ),
    ];
  } catch (e) {
    return [cannot('oidc', roleArn, e)];
  }
  if (trusted.length === 0) {
    return [
      failed(
        'oidc',
        roleArn,
        'the task-manager role trusts no OIDC provider for sts:AssumeRoleWithWebIdentity: redeploy the stack (its trust policy was changed outside it)',
      ),
    ];
  }
  const expected =
    issuer === undefined ? undefined : `arn:${stack.partition}:iam::${stack.account}:oidc-provider/${issuer}`;
  const out: LiveFinding[] = [];
  if (expected !== undefined && !trusted.includes(expected)) {
    out.push(
      failed(
        'oidc',
        roleArn,
        `the task-manager role trusts ${trusted.join(', ')}, not the provider of the orchestrator's issuer ${issuer}: set orchestrator (Orchestrator.humanitec(), or Orchestrator.stellwerk({ oidcIssuer, apiUrl })) to the orchestrator's issuer, and oidcProviderArn to its provider`,
      ),
    );
  }
  for (const arn of trusted) {
    try {
      const res = await checkCall('iam:GetOpenIDConnectProvider', () =>
        clients.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      );
      const ids = res.ClientIDList ?? [];
      out.push(
        ids.includes('sts.amazonaws.com')
          ? ok('oidc', arn, `lists sts.amazonaws.com (client ids: ${ids.join(', ')})`)
          : failed(
              'oidc',
              arn,
              `the provider's client ids (${ids.join(', ') || 'none'}) lack sts.amazonaws.com, the token's audience, so AssumeRoleWithWebIdentity fails: add it (aws iam add-client-id-to-open-id-connect-provider --client-id sts.amazonaws.com), or let the runner create the provider (leave oidcProviderArn out in the first runner of the account)`,
            ),
      );
    } catch (e) {
      if (e instanceof CheckCallError && /^NoSuchEntity(Exception)?$/.test((e.cause as Error)?.name ?? '')) {
        const host = arn.replace(/^.*:oidc-provider\//, '');
        out.push(
          failed(
            'oidc',
            arn,
            `the account has no OIDC provider for ${host}: set oidcProviderArn to the account's provider of the issuer "${host}", or let the runner create it (leave oidcProviderArn out)`,
          ),
        );
      } else {
        out.push(cannot('oidc', arn, e));
      }
    }
  }
  return out;
}

/**
 * Each job secret exists (`secretsmanager:DescribeSecret`) and, when a customer managed key
 * encrypts it, the execution role may decrypt with that key through Secrets Manager
 * (`iam:SimulatePrincipalPolicy` of kms:Decrypt with kms:ViaService).
 */
export async function checkSecrets(clients: LiveClients, runner: DeployedRunner): Promise<LiveFinding[]> {
  const secrets: Record<string, string> = job(runner).secrets ?? {};
  const executionRole: string | undefined = job(runner).execution_role_arn;
  const out: LiveFinding[] = [];
  for (const [name, arn] of Object.entries(secrets)) {
    const subject = `secrets.${name}`;
    if (/^arn:[^:]+:ssm:/.test(arn)) {
      out.push({
        check: 'secret',
        subject,
        status: 'skipped',
        detail: `${arn}: SSM parameters are not read by the live check (the execution role's ssm:GetParameters is simulated with the IAM calls)`,
      });
      continue;
    }
    const region = arn.split(':')[3];
    let described;
    try {
      described = await checkCall('secretsmanager:DescribeSecret', () =>
        clients.secretsmanager.send(new DescribeSecretCommand({ SecretId: arn })),
      );
    } catch (e) {
      if (e instanceof CheckCallError && (e.cause as Error)?.name === 'ResourceNotFoundException') {
        out.push(
          failed(
            'secret',
            subject,
            `${arn} does not exist: jobs fail to start (ResourceInitializationError); fix secrets.${name}`,
          ),
        );
      } else {
        out.push(cannot('secret', subject, e));
      }
      continue;
    }
    if (described.DeletedDate !== undefined) {
      out.push(failed('secret', subject, `${arn} is scheduled for deletion: restore it or fix secrets.${name}`));
      continue;
    }
    const key = described.KmsKeyId;
    if (key === undefined || key === 'alias/aws/secretsmanager' || /:alias\/aws\/secretsmanager$/.test(key)) {
      out.push(ok('secret', subject, `${arn} exists, encrypted with the AWS managed key (no grant needed)`));
      continue;
    }
    if (/(^|:)alias\//.test(key)) {
      out.push({
        check: 'secret',
        subject,
        status: 'could-not-check',
        detail: `${arn} is encrypted with ${key}, named by alias: the check cannot tell which key that is; name the key by ARN in the secret, and in secretsEncryptionKeys`,
      });
      continue;
    }
    const keyArn = key.startsWith('arn:')
      ? key
      : `arn:${arn.split(':')[1]}:kms:${region}:${arn.split(':')[4]}:key/${key}`;
    if (executionRole === undefined) {
      out.push({
        check: 'secret',
        subject,
        status: 'could-not-check',
        detail: 'the RunnerCreateBody has no execution role',
      });
      continue;
    }
    try {
      const sim = await checkCall('iam:SimulatePrincipalPolicy', () =>
        clients.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: executionRole,
            ActionNames: ['kms:Decrypt'],
            ResourceArns: [keyArn],
            ContextEntries: [
              {
                ContextKeyName: 'kms:ViaService',
                ContextKeyType: 'string',
                ContextKeyValues: [`secretsmanager.${region}.amazonaws.com`],
              },
            ],
          }),
        ),
      );
      const decision = sim.EvaluationResults?.[0]?.EvalDecision;
      out.push(
        decision === 'allowed'
          ? ok(
              'secret',
              subject,
              `${arn} exists; the execution role may decrypt with ${keyArn} through Secrets Manager (the key policy must let IAM decide or allow the role)`,
            )
          : failed(
              'secret',
              subject,
              `${arn} is encrypted with ${keyArn}, which the execution role may not use (IAM simulator: ${decision}): add the key to secretsEncryptionKeys`,
            ),
      );
    } catch (e) {
      out.push(cannot('secret', subject, e));
    }
  }
  return out;
}

/** Where the orchestrator is, and the token for it (the status command's flags and variables). */
export interface RegistrationTarget {
  readonly token?: string;
  readonly apiUrl: string;
  readonly orgId?: string;
  /** Client tuning (timeouts, retries), as the status command reads it from the environment. */
  readonly tuning?: Record<string, number | undefined>;
  readonly log?: (line: string) => void;
}

/** The orchestrator's registration equals the stack's body: the status command's getRunner and diffRunner. */
export async function checkRegistration(runner: DeployedRunner, target: RegistrationTarget): Promise<LiveFinding[]> {
  const subject = runner.runnerId;
  if (target.token === undefined) {
    return [
      {
        check: 'registration',
        subject,
        status: 'skipped',
        detail: 'no API token (HUMANITEC_AUTH_TOKEN or --token): the registration was not compared',
      },
    ];
  }
  const orgId = target.orgId ?? runner.orgId;
  if (orgId === undefined) {
    return [
      {
        check: 'registration',
        subject,
        status: 'could-not-check',
        detail: 'no organization: pass --org or set HUMANITEC_ORG',
      },
    ];
  }
  try {
    const client = new OrchestratorClient({
      orgId,
      token: target.token,
      apiUrl: target.apiUrl,
      log: target.log,
      ...Object.fromEntries(Object.entries(target.tuning ?? {}).filter(([, v]) => v !== undefined)),
    });
    const actual = await client.getRunner(runner.runnerId);
    if (actual === undefined) {
      return [
        failed(
          'registration',
          subject,
          `not registered in organization ${orgId} (${target.apiUrl}): run "po-ecs-runner register --stack <name>", or give registration.apiTokenSecret so the stack registers it`,
        ),
      ];
    }
    const differences = diffRunner(runner.body, actual);
    return differences.length === 0
      ? [ok('registration', subject, `the orchestrator's runner in ${orgId} equals the stack's RunnerCreateBody`)]
      : [
          failed(
            'registration',
            subject,
            `the orchestrator's runner differs from the stack in ${differences.map((d) => d.path).join(', ')}: run "po-ecs-runner register --adopt-existing --stack <name>" (or redeploy with registration.apiTokenSecret) to update it`,
          ),
        ];
  } catch (e) {
    const detail =
      e instanceof OrchestratorApiError
        ? `${e.message}${e.status === 401 || e.status === 403 ? ' (check the API token and its permissions in the organization)' : ''}`
        : `orchestrator API: ${(e as Error)?.message ?? String(e)}`;
    return [{ check: 'registration', subject, status: 'could-not-check', detail }];
  }
}
