/**
 * The three read-only EC2 calls of the live check (DescribeSubnets, DescribeRouteTables,
 * DescribeVpcEndpoints), made as EC2 Query requests signed with SigV4 (`@smithy/signature-v4`)
 * with the region, credentials and hash of the check's STS client, and parsed with the SDK's own
 * XML parser. Not `@aws-sdk/client-ec2`: its ~840 kB of models would be two thirds of the CLI.
 *
 * Endpoint: AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL, else `https://ec2.<region>.<dns suffix>`.
 * Retries: throttling, 5xx and network errors, up to AWS_MAX_ATTEMPTS (default 3) attempts.
 */
import * as http from 'http';
import * as https from 'https';
import type { STSClient } from '@aws-sdk/client-sts';
import { parseXML } from '@aws-sdk/xml-builder';
import { SignatureV4 } from '@smithy/signature-v4';

type Json = any;

/** An EC2 error answer, named by its code like the SDK's exceptions (`RequestLimitExceeded`, `UnauthorizedOperation`). */
export class Ec2Error extends Error {
  constructor(
    readonly name: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Ec2Filter {
  readonly Name: string;
  readonly Values: readonly string[];
}

export interface Ec2Route {
  readonly DestinationCidrBlock?: string;
  readonly GatewayId?: string;
  readonly NatGatewayId?: string;
  readonly TransitGatewayId?: string;
  readonly InstanceId?: string;
  readonly NetworkInterfaceId?: string;
  readonly CoreNetworkArn?: string;
  readonly LocalGatewayId?: string;
  readonly CarrierGatewayId?: string;
  readonly VpcPeeringConnectionId?: string;
  readonly State?: string;
}

export interface Ec2RouteTable {
  readonly RouteTableId?: string;
  readonly VpcId?: string;
  readonly Routes: Ec2Route[];
  readonly Associations: { readonly SubnetId?: string; readonly Main: boolean }[];
}

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled']);
const asArray = (x: Json): Json[] => (x === undefined || x === '' ? [] : Array.isArray(x) ? x : [x]);

export class Ec2QueryClient {
  private readonly maxAttempts: number;

  constructor(
    private readonly sts: STSClient,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    const n = Number(env.AWS_MAX_ATTEMPTS);
    this.maxAttempts = Number.isInteger(n) && n >= 1 ? n : 3;
  }

  public async describeSubnets(filters: Ec2Filter[]): Promise<{ SubnetId?: string; VpcId?: string }[]> {
    const items = await this.paged('DescribeSubnets', filters, 'subnetSet');
    return items.map((s) => ({ SubnetId: s.subnetId, VpcId: s.vpcId }));
  }

  public async describeRouteTables(filters: Ec2Filter[]): Promise<Ec2RouteTable[]> {
    const items = await this.paged('DescribeRouteTables', filters, 'routeTableSet');
    return items.map((t) => ({
      RouteTableId: t.routeTableId,
      VpcId: t.vpcId,
      Routes: asArray(t.routeSet?.item).map((r) => ({
        DestinationCidrBlock: r.destinationCidrBlock,
        GatewayId: r.gatewayId,
        NatGatewayId: r.natGatewayId,
        TransitGatewayId: r.transitGatewayId,
        InstanceId: r.instanceId,
        NetworkInterfaceId: r.networkInterfaceId,
        CoreNetworkArn: r.coreNetworkArn,
        LocalGatewayId: r.localGatewayId,
        CarrierGatewayId: r.carrierGatewayId,
        VpcPeeringConnectionId: r.vpcPeeringConnectionId,
        State: r.state,
      })),
      Associations: asArray(t.associationSet?.item).map((a) => ({ SubnetId: a.subnetId, Main: a.main === 'true' })),
    }));
  }

  public async describeVpcEndpoints(
    filters: Ec2Filter[],
  ): Promise<{ VpcEndpointId?: string; ServiceName?: string; State?: string }[]> {
    const items = await this.paged('DescribeVpcEndpoints', filters, 'vpcEndpointSet');
    return items.map((e) => ({ VpcEndpointId: e.vpcEndpointId, ServiceName: e.serviceName, State: e.state }));
  }

  private async paged(action: string, filters: Ec2Filter[], set: string): Promise<Json[]> {
    const out: Json[] = [];
    let token: string | undefined;
    do {
      const params: Record<string, string> = { Action: action, Version: '2016-11-15' };
      filters.forEach((f, i) => {
        params[`Filter.${i + 1}.Name`] = f.Name;
        f.Values.forEach((v, j) => (params[`Filter.${i + 1}.Value.${j + 1}`] = v));
      });
      if (token !== undefined) params.NextToken = token;
      const res = (await this.call(params))[`${action}Response`] ?? {};
      out.push(...asArray(res[set]?.item));
      token = typeof res.nextToken === 'string' && res.nextToken !== '' ? res.nextToken : undefined;
    } while (token !== undefined);
    return out;
  }

  private async endpoint(region: string): Promise<URL> {
    const override = this.env.AWS_ENDPOINT_URL_EC2 ?? this.env.AWS_ENDPOINT_URL;
    if (override !== undefined && override !== '') return new URL(override);
    const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    return new URL(`https://ec2.${region}.${suffix}/`);
  }

  private async call(params: Record<string, string>): Promise<Json> {
    const config = this.sts.config as Json;
    const region: string = await config.region();
    const url = await this.endpoint(region);
    const body = new URLSearchParams(params).toString();
    const signer = new SignatureV4({ service: 'ec2', region, credentials: config.credentials, sha256: config.sha256 });
    for (let attempt = 1; ; attempt++) {
      try {
        const signed = await signer.sign({
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: url.pathname === '' ? '/' : url.pathname,
          query: {},
          headers: {
            host: url.host,
            'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
            'content-length': String(Buffer.byteLength(body)),
          },
          body,
        });
        const res = await send(url, signed.headers, body);
        const parsed = parseXML(res.text) as Json;
        if (res.status >= 200 && res.status < 300) return parsed;
        const error = asArray(parsed?.Response?.Errors?.Error)[0] ?? {};
        throw new Ec2Error(
          String(error.Code ?? `Http${res.status}`),
          String(error.Message ?? res.text.slice(0, 200)),
          res.status,
        );
      } catch (e) {
        const retryable =
          (e instanceof Ec2Error && (THROTTLING.has(e.name) || (e.status ?? 0) >= 500)) ||
          (!(e instanceof Ec2Error) && (e as NodeJS.ErrnoException)?.code !== undefined);
        if (!retryable || attempt >= this.maxAttempts) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(20_000, 100 * 2 ** attempt)));
      }
    }
  }
}

function send(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? http : https).request(
      { method: 'POST', hostname: url.hostname, port: url.port, path: url.pathname || '/', headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('EC2 request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}
