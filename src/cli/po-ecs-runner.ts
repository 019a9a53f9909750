/*
 * po-ecs-runner: register, deregister and check a serverless ECS runner in the Platform
 * Orchestrator, from a deployed stack's `RunnerCreateBody` output or a JSON file.
 * Bundled (with commander and the CloudFormation client) into bin/po-ecs-runner.js.
 *
 * Exit codes: 0 success (status: in sync), 1 the operation failed, 2 usage or configuration
 * error, 3 status: the runner differs from the stack or is not registered.
 * The API token is never printed.
 */
import { readFileSync } from 'fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import {
  DEFAULT_API_URL,
  FieldDifference,
  OrchestratorApiError,
  OrchestratorClient,
  RunnerCreateBody,
  diffRunner,
  flattenRunner,
  tuningFromEnv,
} from '../registration/api-client';
import { RunnerExistsError, ensureRunner } from '../registration/runner-sync';
import { registerLiveCheckCommand } from './check/live/command';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_OUT_OF_SYNC = 3;

/** A mistake in the command line or the environment. */
class UsageError extends Error {}

interface CommonOptions {
  readonly stack?: string;
  readonly region?: string;
  readonly runnerId?: string;
  readonly bodyFile?: string;
  readonly org?: string;
  readonly apiUrl?: string;
  readonly token?: string;
  readonly verbose?: boolean;
}

interface Context {
  readonly client: OrchestratorClient;
  readonly body: RunnerCreateBody;
  readonly orgId: string;
  readonly source: string;
}

type Out = { out: (s: string) => void; err: (s: string) => void };

const io: Out = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

/** The token being used, so that every line printed can be checked for it. */
let activeToken: string | undefined;

function addCommon(cmd: Command): Command {
  return cmd
    .option('--stack <name>', 'deployed CloudFormation stack whose RunnerCreateBody output describes the runner')
    .option('--region <region>', 'region of the stack (default: AWS_REGION or your AWS configuration)')
    .option('--runner-id <id>', 'which runner, when the stack (or file) has several')
    .option('--body-file <path>', 'JSON file with the RunnerCreateBody, instead of --stack')
    .option('--org <id>', 'orchestrator organization (default: $HUMANITEC_ORG)')
    .option(
      '--api-url <url>',
      `orchestrator API base URL (default: $HUMANITEC_API_URL, then $PO_API_URL for Stellwerk, then ${DEFAULT_API_URL})`,
    )
    .option(
      '--token <token>',
      'API token (default: $HUMANITEC_AUTH_TOKEN; prefer the variable, arguments are visible to other processes)',
    )
    .option('-v, --verbose', 'log every API call (method, path, status, attempt) to stderr');
}

export function buildProgram(env: Record<string, string | undefined>): Command {
  const program = new Command('po-ecs-runner')
    .description('Register a serverless ECS runner with the Platform Orchestrator (Humanitec or self-hosted Stellwerk)')
    .version(version)
    .showHelpAfterError()
    .exitOverride();

  addCommon(
    program
      .command('register')
      .description('create the runner in the orchestrator from the stack (or file)')
      .option('--adopt-existing', 'when the runner id is taken, update that runner to this configuration'),
  ).action(async (opts: CommonOptions & { adoptExisting?: boolean }) => {
    const ctx = await context(opts, env);
    const { outcome } = await ensureRunner(ctx.client, ctx.body, opts.adoptExisting ?? false, '--adopt-existing');
    io.out(
      outcome === 'created'
        ? `Registered runner ${ctx.body.id} in organization ${ctx.orgId} (${ctx.client.apiUrl}).`
        : `Adopted runner ${ctx.body.id} in organization ${ctx.orgId} and updated it to the configuration of ${ctx.source}.`,
    );
  });

  addCommon(
    program
      .command('deregister')
      .description('delete the runner from the orchestrator (succeeds when it is not there)'),
  ).action(async (opts: CommonOptions) => {
    const ctx = await context(opts, env);
    const existed = await ctx.client.deleteRunner(ctx.body.id);
    io.out(
      existed
        ? `Deregistered runner ${ctx.body.id} from organization ${ctx.orgId}.`
        : `Runner ${ctx.body.id} is not registered in organization ${ctx.orgId}: nothing to do.`,
    );
  });

  addCommon(
    program
      .command('status')
      .description(
        "compare the orchestrator's runner with the stack's; exit 0 when in sync, 3 when they differ or it is missing",
      )
      .option('--json', 'print the comparison as JSON'),
  ).action(async (opts: CommonOptions & { json?: boolean }) => {
    const ctx = await context(opts, env);
    const actual = await ctx.client.getRunner(ctx.body.id);
    const differences = actual ? diffRunner(ctx.body, actual) : [];
    const inSync = actual !== undefined && differences.length === 0;
    if (opts.json) {
      io.out(
        JSON.stringify(
          {
            runnerId: ctx.body.id,
            orgId: ctx.orgId,
            apiUrl: ctx.client.apiUrl,
            registered: actual !== undefined,
            inSync,
            differences,
            stack: ctx.body,
            orchestrator: actual ?? null,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(`Runner ${ctx.body.id} in organization ${ctx.orgId} (${ctx.client.apiUrl}), compared with ${ctx.source}:`);
      if (!actual) {
        io.out('  not registered in the orchestrator. Run "po-ecs-runner register" to register it.');
      } else {
        printComparison(ctx.body, actual, differences);
        io.out(
          inSync
            ? 'In sync.'
            : `Out of sync: ${differences.length === 1 ? '1 field differs' : `${differences.length} fields differ`}: ${differences
                .map((d) => d.path)
                .join(', ')}. Run "po-ecs-runner register --adopt-existing" to update the orchestrator.`,
        );
      }
    }
    process.exitCode = inSync ? EXIT_OK : EXIT_OUT_OF_SYNC;
  });
  registerLiveCheckCommand(program, env);
  return program;
}

function printComparison(desired: RunnerCreateBody, actual: unknown, differences: FieldDifference[]): void {
  const d = flattenRunner(desired);
  const a = flattenRunner(actual);
  const differing = new Set(differences.map((x) => x.path));
  const paths = [...new Set([...d.keys(), ...a.keys()])].sort();
  const show = (v: unknown) => (v === undefined ? '-' : JSON.stringify(v));
  const rows = paths.map((p) => [differing.has(p) ? '*' : ' ', p, show(d.get(p)), show(a.get(p))]);
  const header = [' ', 'FIELD', 'STACK', 'ORCHESTRATOR'];
  const widths = [1, 2, 3].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0]} ${r[1].padEnd(widths[0])}  ${r[2].padEnd(widths[1])}  ${r[3]}`.trimEnd();
  io.out(line(header));
  rows.forEach((r) => io.out(line(r)));
}

async function context(opts: CommonOptions, env: Record<string, string | undefined>): Promise<Context> {
  if (opts.stack !== undefined && opts.bodyFile !== undefined) {
    throw new UsageError('give either --stack or --body-file, not both');
  }
  if (opts.stack === undefined && opts.bodyFile === undefined) {
    throw new UsageError('say which runner: --stack <name> (reads its RunnerCreateBody output) or --body-file <path>');
  }
  const token = opts.token ?? nonEmpty(env.HUMANITEC_AUTH_TOKEN);
  if (token === undefined || token.trim() === '') {
    throw new UsageError('no API token: set HUMANITEC_AUTH_TOKEN (or pass --token)');
  }
  activeToken = token;
  const apiUrl = opts.apiUrl ?? nonEmpty(env.HUMANITEC_API_URL) ?? nonEmpty(env.PO_API_URL) ?? DEFAULT_API_URL;

  const found =
    opts.stack !== undefined
      ? await bodyFromStack(opts.stack, opts.region, opts.runnerId)
      : bodyFromFile(opts.bodyFile!, opts.runnerId);
  const envOrg = nonEmpty(env.HUMANITEC_ORG);
  if (
    opts.org === undefined &&
    envOrg !== undefined &&
    found.orgFromStack !== undefined &&
    envOrg !== found.orgFromStack
  ) {
    // The task-manager role trusts the OIDC subject <org>+<runner id> of the stack's org only:
    // registering in another org (e.g. a stale HUMANITEC_ORG) would give a runner that cannot start jobs.
    throw new UsageError(
      `HUMANITEC_ORG is "${envOrg}" but the stack's runner belongs to org "${found.orgFromStack}"; pass --org to choose explicitly`,
    );
  }
  const orgId = opts.org ?? envOrg ?? found.orgFromStack;
  if (orgId === undefined) throw new UsageError('no organization: pass --org or set HUMANITEC_ORG');

  let client: OrchestratorClient;
  try {
    client = new OrchestratorClient({
      orgId,
      token,
      apiUrl,
      log: opts.verbose ? io.err : undefined,
      ...definedOnly(tuningFromEnv(env)),
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { client, body: found.body, orgId, source: found.source };
}

interface FoundBody {
  readonly body: RunnerCreateBody;
  readonly source: string;
  readonly orgFromStack?: string;
}

function bodyFromFile(file: string, runnerId: string | undefined): FoundBody {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read --body-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const body = parseBody(text, `--body-file ${file}`);
  if (runnerId !== undefined && body.id !== runnerId) {
    throw new UsageError(`--body-file ${file} describes runner "${body.id}", not --runner-id "${runnerId}"`);
  }
  return { body, source: file };
}

async function bodyFromStack(
  stackName: string,
  region: string | undefined,
  runnerId: string | undefined,
): Promise<FoundBody> {
  const cfn = new CloudFormationClient(region !== undefined ? { region } : {});
  let outputs: { OutputKey?: string; OutputValue?: string; Description?: string }[];
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    const err = e as Error;
    if (err.name === 'ValidationError') {
      throw new UsageError(`stack "${stackName}" not found${region ? ` in ${region}` : ''}: ${err.message}`);
    }
    if (/region is missing/i.test(err.message)) {
      throw new UsageError('no AWS region: pass --region or set AWS_REGION');
    }
    throw new Error(`cannot read stack "${stackName}": ${err.name}: ${err.message}`);
  } finally {
    cfn.destroy();
  }
  const candidates = outputs
    .filter((o) => (o.OutputKey ?? '').includes('RunnerCreateBody') && o.OutputValue !== undefined)
    .map((o) => ({
      key: o.OutputKey!,
      body: parseBody(o.OutputValue!, `output ${o.OutputKey} of stack ${stackName}`),
      org: /\(org ([^)\s]+)\)/.exec(o.Description ?? '')?.[1],
    }));
  if (candidates.length === 0) {
    const keys = outputs.map((o) => o.OutputKey).join(', ');
    throw new UsageError(
      `stack "${stackName}" has no output whose key contains "RunnerCreateBody" (outputs: ${keys === '' ? 'none' : keys})`,
    );
  }
  const chosen = runnerId === undefined ? candidates : candidates.filter((c) => c.body.id === runnerId);
  if (chosen.length === 0) {
    throw new UsageError(
      `stack "${stackName}" has no runner "${runnerId}"; its runners: ${candidates.map((c) => c.body.id).join(', ')}`,
    );
  }
  if (chosen.length > 1) {
    throw new UsageError(
      `stack "${stackName}" has several runners (${chosen.map((c) => c.body.id).join(', ')}): choose one with --runner-id`,
    );
  }
  return { body: chosen[0].body, source: `stack ${stackName} (output ${chosen[0].key})`, orgFromStack: chosen[0].org };
}

function parseBody(text: string, where: string): RunnerCreateBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(`${where} is not JSON`);
  }
  const b = body as Partial<RunnerCreateBody> | null;
  if (
    b === null ||
    typeof b !== 'object' ||
    typeof b.id !== 'string' ||
    typeof b.runner_configuration !== 'object' ||
    typeof b.state_storage_configuration !== 'object'
  ) {
    throw new UsageError(`${where} is not a RunnerCreateBody (id, runner_configuration, state_storage_configuration)`);
  }
  return b as RunnerCreateBody;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function redact(text: string): string {
  return activeToken !== undefined && activeToken.length > 0 ? text.split(activeToken).join('***') : text;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const program = buildProgram(env);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; commander has printed any usage error already.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`po-ecs-runner: ${redact(e.message)}`);
      return EXIT_USAGE;
    }
    if (e instanceof RunnerExistsError) {
      io.err(`po-ecs-runner: ${redact(e.message)}`);
      return EXIT_FAILED;
    }
    if (e instanceof OrchestratorApiError) {
      const hint =
        e.status === 401 || e.status === 403
          ? ' Check the API token and its permissions in the organization.'
          : e.status === 409 && e.operation === 'deleteRunner'
            ? ' The runner is still in use: move its environments and runner rules to another runner first.'
            : '';
      io.err(`po-ecs-runner: ${redact(e.message)}.${hint}`);
      return EXIT_FAILED;
    }
    io.err(`po-ecs-runner: ${redact((e as Error)?.message ?? String(e))}`);
    return EXIT_FAILED;
  }
}

if (require.main === module) {
  main(process.argv, process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      io.err(`po-ecs-runner: ${redact(String(e))}`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
