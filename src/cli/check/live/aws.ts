/**
 * The AWS clients of the live check and how their errors are read. Every call the check makes is
 * read-only. Endpoints follow the SDK's own configuration (`AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_<SERVICE>`), which is how the tests point them at a local server. EC2 is
 * called through {@link Ec2QueryClient} (see ec2-query.ts for why).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { Ec2QueryClient } from './ec2-query';

/** The clients the live check uses. */
export interface LiveClients {
  readonly sts: STSClient;
  readonly cloudformation: CloudFormationClient;
  readonly iam: IAMClient;
  readonly ec2: Ec2QueryClient;
  readonly secretsmanager: SecretsManagerClient;
}

/** Clients for a region (`undefined`: the SDK's configuration, e.g. AWS_REGION or the profile). */
export function createClients(region: string | undefined): LiveClients {
  const config = region !== undefined ? { region } : {};
  const sts = new STSClient(config);
  return {
    sts,
    cloudformation: new CloudFormationClient(config),
    iam: new IAMClient(config),
    ec2: new Ec2QueryClient(sts),
    secretsmanager: new SecretsManagerClient(config),
  };
}

export function destroyClients(clients: LiveClients): void {
  [clients.sts, clients.cloudformation, clients.iam, clients.secretsmanager].forEach((c) => c.destroy());
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'UnauthorizedException',
]);
const BAD_CREDENTIALS = new Set([
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'AuthFailure',
  'InvalidSignatureException',
]);

/** How an error of one of the check's own calls is read. */
export type ErrorKind = 'throttled' | 'denied' | 'credentials' | 'other';

export function errorKind(e: unknown): ErrorKind {
  const err = e as { name?: string; Code?: string; message?: string } | undefined;
  const name = err?.name ?? err?.Code ?? '';
  if (THROTTLING.has(name)) return 'throttled';
  if (DENIED.has(name)) return 'denied';
  if (BAD_CREDENTIALS.has(name) || /could not load credentials/i.test(err?.message ?? '')) return 'credentials';
  return 'other';
}

/** One line for a failed call of the check itself: `iam:GetRole: AccessDenied (...)`. */
export function describeError(call: string, e: unknown): string {
  const err = e as { name?: string; message?: string };
  const kind = errorKind(e);
  const why =
    kind === 'throttled'
      ? 'throttled by AWS (retries exhausted); run the check again later'
      : kind === 'denied'
        ? `your credentials may not call ${call}: the check needs the read-only permissions listed in docs/VERIFY-LIVE.md`
        : 'unexpected error';
  return `${call}: ${err?.name ?? 'Error'}: ${oneLine(err?.message ?? String(e))} (${why})`;
}

export function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The error of a failed check call, kept so the finding can say "could not check". */
export class CheckCallError extends Error {
  constructor(
    readonly call: string,
    readonly cause: unknown,
  ) {
    super(describeError(call, cause));
  }
}

/** Runs one of the check's own calls; any error becomes a {@link CheckCallError} naming the call. */
export async function checkCall<T>(call: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw new CheckCallError(call, e);
  }
}
