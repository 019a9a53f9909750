/**
 * The `check --stack` command line: flags, the status command's token and API URL variables,
 * output and exit codes. Exit codes: 0 everything checked is ok; 1 a check failed or could not be
 * made (a check that did not run proves nothing, so it never passes); 2 usage or configuration
 * (no credentials, no region, unknown stack, bad flags).
 */
import { Command } from 'commander';
import { ContractCallSource, LiveCheckReport, formatReport, runLiveCheck } from './index';
import { LiveCheckUsageError, parseProxy } from './proxy';
import { DEFAULT_API_URL, tuningFromEnv } from '../../../registration/runtime/api-client';

export interface LiveCheckOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly runnerId?: string;
  readonly proxy?: string;
  readonly org?: string;
  readonly apiUrl?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

type Out = { out: (s: string) => void; err: (s: string) => void };
const stdio: Out = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);

/**
 * Adds the live check's own flags to the `check` command, which `--template` shares (it owns
 * `--runner-id` and `--json`, which the live check reads too).
 */
export function addLiveCheckOptions(cmd: Command): Command {
  return cmd
    .option('--stack <name>', 'deployed stack to check live, with your AWS credentials (read-only calls)')
    .option('--region <region>', 'region of the stack (default: AWS_REGION or your AWS configuration)')
    .option(
      '--proxy <ip-or-cidr>',
      'the jobs reach the internet through this proxy: require a route to it instead of 0.0.0.0/0',
    )
    .option(
      '--org <id>',
      'orchestrator organization for the registration check (default: $HUMANITEC_ORG, then the stack)',
    )
    .option(
      '--api-url <url>',
      `orchestrator API base URL (default: $HUMANITEC_API_URL, then $PO_API_URL, then ${DEFAULT_API_URL})`,
    )
    .option(
      '--token <token>',
      'API token for the registration check (default: $HUMANITEC_AUTH_TOKEN); without one it is skipped',
    )
    .option('-v, --verbose', 'log every orchestrator API call to stderr');
}

/** Runs the live check from parsed flags; resolves to the exit code, having printed the report. */
export async function liveCheckAction(
  opts: LiveCheckOptions,
  env: Record<string, string | undefined>,
  calls?: ContractCallSource,
  io: Out = stdio,
): Promise<number> {
  const token = opts.token ?? nonEmpty(env.HUMANITEC_AUTH_TOKEN);
  const redact = (s: string) => (token ? s.split(token).join('***') : s);
  try {
    if (opts.stack === undefined) throw new LiveCheckUsageError('say which stack: --stack <name>');
    const proxy = opts.proxy === undefined ? undefined : parseProxy(opts.proxy);
    if (opts.proxy !== undefined && proxy === undefined) {
      throw new LiveCheckUsageError(
        `--proxy "${opts.proxy}" is not an IPv4 address or CIDR (e.g. 10.0.0.10 or 10.0.0.0/24)`,
      );
    }
    let tuning;
    try {
      tuning = tuningFromEnv(env);
    } catch (e) {
      throw new LiveCheckUsageError((e as Error).message);
    }
    const report: LiveCheckReport = await runLiveCheck({
      stackName: opts.stack,
      region: opts.region,
      runnerId: opts.runnerId,
      proxy,
      calls,
      registration: {
        token,
        apiUrl: opts.apiUrl ?? nonEmpty(env.HUMANITEC_API_URL) ?? nonEmpty(env.PO_API_URL) ?? DEFAULT_API_URL,
        orgId: opts.org ?? nonEmpty(env.HUMANITEC_ORG),
        tuning,
        log: opts.verbose ? io.err : undefined,
      },
    });
    if (opts.json) io.out(redact(JSON.stringify(report, null, 2)));
    else formatReport(report).forEach((l) => io.out(redact(l)));
    return report.exitCode;
  } catch (e) {
    io.err(`po-ecs-runner: ${redact((e as Error)?.message ?? String(e))}`);
    return e instanceof LiveCheckUsageError ? 2 : 1;
  }
}
