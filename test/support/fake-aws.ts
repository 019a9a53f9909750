/**
 * A local (loopback) server that speaks the AWS APIs the live check calls, in their real wire
 * formats, for SDK v3 clients pointed at it (`endpoint`, or AWS_ENDPOINT_URL in a child process):
 * - Query protocol (form-encoded POST, XML answers): STS GetCallerIdentity; CloudFormation
 *   DescribeStacks, DescribeStackResources, GetTemplate; IAM GetRole, SimulatePrincipalPolicy,
 *   GetOpenIDConnectProvider (`member` lists); EC2 DescribeSubnets, DescribeRouteTables,
 *   DescribeVpcEndpoints (EC2's dialect: `Filter.N.Value.M` in, `item` lists and `<Response><Errors>` out).
 * - JSON 1.1 (`X-Amz-Target`): Secrets Manager DescribeSecret.
 * Every request must be SigV4-signed for the service its action belongs to (checked from the
 * credential scope). Errors are scripted per action (throttling, access denied).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';

type Json = any;

export interface FakeStack {
  readonly name: string;
  readonly status: string;
  readonly outputs: { OutputKey: string; OutputValue: string; Description?: string }[];
  readonly resources: { logicalId: string; type: string; physicalId: string }[];
  readonly template: Json;
}

export interface SimulationRequest {
  readonly policySourceArn: string;
  readonly action: string;
  readonly resource?: string;
  readonly context: { name: string; values: string[]; type: string }[];
}

export interface SimulationAnswer {
  readonly decision: 'allowed' | 'implicitDeny' | 'explicitDeny';
  readonly matched?: string[];
  readonly missingContext?: string[];
  readonly boundaryAllows?: boolean;
}

export interface FakeRouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly main?: boolean;
  readonly subnets: string[];
  readonly routes: { destination: string; target: Record<string, string>; state?: 'active' | 'blackhole' }[];
}

export interface FakeAwsState {
  readonly account: string;
  readonly callerArn: string;
  stacks: FakeStack[];
  /** Roles by name: ARN and trust policy. */
  roles: Record<string, { arn: string; trust: Json }>;
  /** The IAM simulator: decides each (role, action, resource, context). */
  simulate: (req: SimulationRequest) => SimulationAnswer;
  oidcProviders: Record<string, { url: string; clientIds: string[] }>;
  subnets: Record<string, string>;
  routeTables: FakeRouteTable[];
  vpcEndpoints: { id: string; service: string; state: string }[];
  secrets: Record<string, { kmsKeyId?: string; deleted?: boolean }>;
}

export interface ScriptedError {
  readonly action: string;
  readonly code: string;
  /** @default 400 */
  readonly status?: number;
  /** @default every request */
  readonly times?: number;
}

export interface RecordedAwsRequest {
  readonly service: string;
  readonly action: string;
  readonly params: Record<string, string>;
  readonly json?: Json;
}

const SERVICE_OF: Record<string, string> = {
  GetCallerIdentity: 'sts',
  DescribeStacks: 'cloudformation',
  DescribeStackResources: 'cloudformation',
  GetTemplate: 'cloudformation',
  GetRole: 'iam',
  SimulatePrincipalPolicy: 'iam',
  GetOpenIDConnectProvider: 'iam',
  DescribeSubnets: 'ec2',
  DescribeRouteTables: 'ec2',
  DescribeVpcEndpoints: 'ec2',
  DescribeSecret: 'secretsmanager',
};
const NAMESPACE: Record<string, string> = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
};

export class FakeAws {
  public static async start(state: FakeAwsState): Promise<FakeAws> {
    const fake = new FakeAws(state);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  public readonly requests: RecordedAwsRequest[] = [];
  /** Requests this fake could not understand (each answered 400): should stay empty. */
  public readonly violations: string[] = [];
  private errors: { rule: ScriptedError; left: number }[] = [];
  private readonly server: http.Server;

  private constructor(public state: FakeAwsState) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          this.handle(req, Buffer.concat(chunks).toString('utf8'), res);
        } catch (e) {
          this.violations.push(`handler error: ${(e as Error).message}`);
          res.writeHead(500).end();
        }
      });
    });
  }

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forgets requests and scripted errors (between tests). */
  public reset(state: FakeAwsState): void {
    this.state = state;
    this.requests.length = 0;
    this.violations.length = 0;
    this.errors = [];
  }

  public failWith(rule: ScriptedError): void {
    this.errors.push({ rule, left: rule.times ?? Infinity });
  }

  public actions(): string[] {
    return this.requests.map((r) => `${r.service}:${r.action}`);
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      String(req.headers.authorization ?? ''),
    );
    const target = req.headers['x-amz-target'];
    let action: string;
    let params: Record<string, string> = {};
    let json: Json;
    if (typeof target === 'string') {
      action = target.split('.').pop()!;
      json = JSON.parse(body || '{}');
    } else {
      params = Object.fromEntries(new URLSearchParams(body));
      action = params.Action;
    }
    const service = SERVICE_OF[action];
    if (service === undefined) return this.reject(res, `unknown action ${action}`);
    if (scope?.[2] !== service) return this.reject(res, `${action} signed for service ${scope?.[2]}, not ${service}`);
    this.requests.push({ service, action, params, json });

    const scripted = this.errors.find((e) => e.rule.action === action && e.left > 0);
    if (scripted) {
      scripted.left--;
      return this.error(
        res,
        service,
        scripted.rule.status ?? 400,
        scripted.rule.code,
        `scripted ${scripted.rule.code}`,
      );
    }
    if (service === 'secretsmanager') return this.describeSecret(res, json);
    const handler = (this as Json)[`on${action}`] as (
      p: Record<string, string>,
    ) => string | { status: number; code: string; message: string };
    const out = handler.call(this, params);
    if (typeof out !== 'string') return this.error(res, service, out.status, out.code, out.message);
    const requestId = service === 'ec2' ? `<requestId>${randomUUID()}</requestId>` : '';
    const metadata =
      service === 'ec2' ? '' : `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
    const inner = service === 'ec2' ? out : `<${action}Result>${out}</${action}Result>`;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<${action}Response xmlns="${NAMESPACE[service]}">${requestId}${inner}${metadata}</${action}Response>`);
  }

  private reject(res: http.ServerResponse, why: string): void {
    this.violations.push(why);
    res.writeHead(400, { 'content-type': 'text/plain' }).end(why);
  }

  private error(res: http.ServerResponse, service: string, status: number, code: string, message: string): void {
    if (service === 'secretsmanager') {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ __type: code, message }));
      return;
    }
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(
      service === 'ec2'
        ? `<Response><Errors><Error><Code>${x(code)}</Code><Message>${x(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`
        : `<ErrorResponse xmlns="${NAMESPACE[service]}"><Error><Type>Sender</Type><Code>${x(code)}</Code><Message>${x(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
  }

  private stack(name: string): FakeStack | undefined {
    return this.state.stacks.find((s) => s.name === name || this.stackId(s) === name);
  }

  private stackId(s: FakeStack): string {
    return `arn:aws:cloudformation:eu-central-1:${this.state.account}:stack/${s.name}/0f0f0f0f-1111-2222-3333-444444444444`;
  }

  protected onGetCallerIdentity(): string {
    return `<Arn>${x(this.state.callerArn)}</Arn><UserId>AIDAFAKE</UserId><Account>${this.state.account}</Account>`;
  }

  protected onDescribeStacks(p: Record<string, string>) {
    const s = this.stack(p.StackName);
    if (!s) return { status: 400, code: 'ValidationError', message: `Stack with id ${p.StackName} does not exist` };
    const outputs = s.outputs
      .map(
        (o) =>
          `<member><OutputKey>${x(o.OutputKey)}</OutputKey><OutputValue>${x(o.OutputValue)}</OutputValue>${
            o.Description !== undefined ? `<Description>${x(o.Description)}</Description>` : ''
          }</member>`,
      )
      .join('');
    return `<Stacks><member><StackName>${x(s.name)}</StackName><StackId>${this.stackId(s)}</StackId><CreationTime>2026-11-01T10:00:00.000Z</CreationTime><StackStatus>${s.status}</StackStatus><Outputs>${outputs}</Outputs></member></Stacks>`;
  }

  protected onDescribeStackResources(p: Record<string, string>) {
    const s = this.stack(p.StackName);
    if (!s) return { status: 400, code: 'ValidationError', message: `Stack ${p.StackName} does not exist` };
    const members = s.resources
      .map(
        (r) =>
          `<member><StackName>${x(s.name)}</StackName><StackId>${this.stackId(s)}</StackId><LogicalResourceId>${x(r.logicalId)}</LogicalResourceId><PhysicalResourceId>${x(r.physicalId)}</PhysicalResourceId><ResourceType>${x(r.type)}</ResourceType><Timestamp>2026-11-01T10:00:00.000Z</Timestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>`,
      )
      .join('');
    return `<StackResources>${members}</StackResources>`;
  }

  protected onGetTemplate(p: Record<string, string>) {
    const s = this.stack(p.StackName);
    if (!s) return { status: 400, code: 'ValidationError', message: `Stack ${p.StackName} does not exist` };
    return `<TemplateBody>${x(JSON.stringify(s.template))}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>`;
  }

  protected onGetRole(p: Record<string, string>) {
    const role = this.state.roles[p.RoleName];
    if (!role)
      return { status: 404, code: 'NoSuchEntity', message: `The role with name ${p.RoleName} cannot be found.` };
    return `<Role><Path>/</Path><RoleName>${x(p.RoleName)}</RoleName><RoleId>AROAFAKE${p.RoleName.length}</RoleId><Arn>${x(role.arn)}</Arn><CreateDate>2026-11-01T10:00:00Z</CreateDate><AssumeRolePolicyDocument>${x(encodeURIComponent(JSON.stringify(role.trust)))}</AssumeRolePolicyDocument></Role>`;
  }

  protected onSimulatePrincipalPolicy(p: Record<string, string>) {
    const list = (prefix: string) =>
      Object.keys(p)
        .filter((k) => new RegExp(`^${prefix}\\.member\\.\\d+$`).test(k))
        .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
        .map((k) => p[k]);
    const actions = list('ActionNames');
    const resources = list('ResourceArns');
    const context: SimulationRequest['context'] = [];
    for (let i = 1; p[`ContextEntries.member.${i}.ContextKeyName`] !== undefined; i++) {
      context.push({
        name: p[`ContextEntries.member.${i}.ContextKeyName`],
        values: list(`ContextEntries\\.member\\.${i}\\.ContextKeyValues`),
        type: p[`ContextEntries.member.${i}.ContextKeyType`],
      });
    }
    if (!/^arn:aws:iam::\d{12}:role\//.test(p.PolicySourceArn ?? '') || actions.length !== 1) {
      return { status: 400, code: 'InvalidInput', message: 'PolicySourceArn and one action expected by this fake' };
    }
    const known = [
      'string',
      'stringList',
      'numeric',
      'numericList',
      'boolean',
      'booleanList',
      'ip',
      'ipList',
      'date',
      'dateList',
    ];
    const bad = context.find((c) => !known.includes(c.type) || c.values.length === 0);
    if (bad) return { status: 400, code: 'InvalidInput', message: `context entry ${bad.name}: bad type or no value` };
    const answer = this.state.simulate({
      policySourceArn: p.PolicySourceArn,
      action: actions[0],
      resource: resources[0],
      context,
    });
    const matched = (answer.matched ?? (answer.decision === 'allowed' ? ['FakePolicy'] : []))
      .map(
        (id) =>
          `<member><SourcePolicyId>${x(id)}</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType></member>`,
      )
      .join('');
    const missing = (answer.missingContext ?? []).map((m) => `<member>${x(m)}</member>`).join('');
    return `<IsTruncated>false</IsTruncated><EvaluationResults><member><EvalActionName>${x(actions[0])}</EvalActionName><EvalResourceName>${x(resources[0] ?? '*')}</EvalResourceName><EvalDecision>${answer.decision}</EvalDecision><MatchedStatements>${matched}</MatchedStatements><MissingContextValues>${missing}</MissingContextValues>${
      answer.boundaryAllows !== undefined
        ? `<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>${answer.boundaryAllows}</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>`
        : ''
    }</member></EvaluationResults>`;
  }

  protected onGetOpenIDConnectProvider(p: Record<string, string>) {
    const provider = this.state.oidcProviders[p.OpenIDConnectProviderArn];
    if (!provider)
      return {
        status: 404,
        code: 'NoSuchEntity',
        message: `OpenIDConnect Provider not found for arn ${p.OpenIDConnectProviderArn}`,
      };
    return `<Url>${x(provider.url)}</Url><ClientIDList>${provider.clientIds.map((c) => `<member>${x(c)}</member>`).join('')}</ClientIDList><ThumbprintList><member>0123456789abcdef0123456789abcdef01234567</member></ThumbprintList><CreateDate>2026-11-01T10:00:00Z</CreateDate>`;
  }

  /** EC2's `Filter.N.Name` / `Filter.N.Value.M`. */
  private filters(p: Record<string, string>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (let i = 1; p[`Filter.${i}.Name`] !== undefined; i++) {
      const values: string[] = [];
      for (let j = 1; p[`Filter.${i}.Value.${j}`] !== undefined; j++) values.push(p[`Filter.${i}.Value.${j}`]);
      out[p[`Filter.${i}.Name`]] = values;
    }
    return out;
  }

  protected onDescribeSubnets(p: Record<string, string>) {
    const f = this.filters(p);
    const ids = f['subnet-id'] ?? [];
    const items = ids
      .filter((id) => id in this.state.subnets)
      .map(
        (id) =>
          `<item><subnetId>${id}</subnetId><vpcId>${this.state.subnets[id]}</vpcId><state>available</state><cidrBlock>10.0.0.0/24</cidrBlock></item>`,
      )
      .join('');
    return `<subnetSet>${items}</subnetSet>`;
  }

  protected onDescribeRouteTables(p: Record<string, string>) {
    const f = this.filters(p);
    const tables = this.state.routeTables.filter(
      (t) =>
        (f['association.subnet-id'] === undefined || t.subnets.some((s) => f['association.subnet-id'].includes(s))) &&
        (f['vpc-id'] === undefined || f['vpc-id'].includes(t.vpcId)) &&
        (f['association.main'] === undefined || (t.main === true) === (f['association.main'][0] === 'true')),
    );
    const tag = (k: string) => k[0].toLowerCase() + k.slice(1);
    const items = tables
      .map((t) => {
        const routes = [{ destination: '10.0.0.0/16', target: { GatewayId: 'local' }, state: 'active' }, ...t.routes]
          .map(
            (r) =>
              `<item><destinationCidrBlock>${r.destination}</destinationCidrBlock>${Object.entries(r.target)
                .map(([k, v]) => `<${tag(k)}>${x(v)}</${tag(k)}>`)
                .join('')}<state>${r.state ?? 'active'}</state><origin>CreateRoute</origin></item>`,
          )
          .join('');
        const assoc = [
          ...(t.main
            ? [
                `<item><routeTableAssociationId>rtbassoc-main${t.id}</routeTableAssociationId><routeTableId>${t.id}</routeTableId><main>true</main></item>`,
              ]
            : []),
          ...t.subnets.map(
            (s) =>
              `<item><routeTableAssociationId>rtbassoc-${s}</routeTableAssociationId><routeTableId>${t.id}</routeTableId><subnetId>${s}</subnetId><main>false</main></item>`,
          ),
        ].join('');
        return `<item><routeTableId>${t.id}</routeTableId><vpcId>${t.vpcId}</vpcId><ownerId>${this.state.account}</ownerId><routeSet>${routes}</routeSet><associationSet>${assoc}</associationSet></item>`;
      })
      .join('');
    return `<routeTableSet>${items}</routeTableSet>`;
  }

  protected onDescribeVpcEndpoints(p: Record<string, string>) {
    const ids = this.filters(p)['vpc-endpoint-id'] ?? [];
    const items = this.state.vpcEndpoints
      .filter((e) => ids.includes(e.id))
      .map(
        (e) =>
          `<item><vpcEndpointId>${e.id}</vpcEndpointId><vpcEndpointType>Interface</vpcEndpointType><vpcId>vpc-0a</vpcId><serviceName>${x(e.service)}</serviceName><state>${e.state}</state></item>`,
      )
      .join('');
    return `<vpcEndpointSet>${items}</vpcEndpointSet>`;
  }

  private describeSecret(res: http.ServerResponse, json: Json): void {
    const secret = this.state.secrets[json.SecretId];
    if (!secret)
      return this.error(
        res,
        'secretsmanager',
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(
      JSON.stringify({
        ARN: json.SecretId,
        Name: String(json.SecretId)
          .split(':')
          .pop()!
          .replace(/-[A-Za-z0-9]{6}$/, ''),
        ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
        ...(secret.deleted ? { DeletedDate: 1764000000 } : {}),
        CreatedDate: 1760000000,
      }),
    );
  }
}

function x(s: string): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
