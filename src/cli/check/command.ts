/**
 * `po-ecs-runner check --template <file>`: the offline check. Replays the orchestrator's calls and
 * the job's state access (the contract) against the template's own policies, with the evaluator the
 * conformance tests use, and prints one line per call. No credentials, no network.
 *
 * Exit codes: 0 every real call allowed and every attack denied; 1 otherwise; 2 usage (no or
 * unreadable template, not a runner template, unknown orchestrator).
 */
import { readFileSync } from 'fs';
import { Command, Option } from 'commander';
import { CallResult } from './contract';
import { ModelOptions, OrchestratorName, TemplateError } from './model';
import { RunnerResults, evaluateOffline } from './offline';

export interface CheckOptions {
  readonly template?: string;
  readonly orchestrator?: OrchestratorName;
  readonly oidcIssuer?: string;
  readonly runnerId?: string;
  readonly json?: boolean;
}

export interface CheckIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const CHECK_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The live mode (`check --stack`), when the CLI has one. */
export interface LiveCheck {
  /** Adds the live mode's own flags (`--stack`, `--region`, ...) to the `check` command. */
  readonly addOptions: (command: Command) => Command;
  /** Runs the live check with the parsed flags; resolves to the exit code. */
  readonly run: (opts: CheckOptions & { readonly stack: string }) => Promise<number>;
}

/**
 * Adds the `check` command to the CLI program: `--template` (offline) always; `--stack` and
 * `--region` when a live mode is given, which then runs instead of the offline check.
 */
export function registerCheckCommand(program: Command, io: CheckIo, live?: LiveCheck): Command {
  const command = program
    .command('check')
    .description(
      "prove a runner will work before the orchestrator sends it a job: replay the orchestrator's calls and the job's state access, and the attacks that must fail, against a synthesized template (offline, no credentials)",
    )
    .option('--template <file>', 'synthesized CloudFormation template, e.g. cdk.out/<Stack>.template.json')
    .addOption(
      new Option('--orchestrator <name>', "which orchestrator's calls (default: from the template)").choices([
        'humanitec',
        'stellwerk',
      ]),
    )
    .option('--oidc-issuer <host>', "the orchestrator's OIDC issuer, with --orchestrator (default: the template's)")
    .option('--runner-id <id>', 'check only this runner (default: every runner in the template)')
    .option('--json', 'print the results as JSON');
  if (live !== undefined) live.addOptions(command);
  return command.action(async (opts: CheckOptions & { stack?: string }) => {
    if (opts.stack !== undefined && live !== undefined) {
      if (opts.template !== undefined) {
        io.err('po-ecs-runner: give either --template or --stack, not both');
        process.exitCode = CHECK_EXIT.usage;
        return;
      }
      process.exitCode = await live.run({ ...opts, stack: opts.stack });
      return;
    }
    process.exitCode = runCheck(opts, io);
  });
}

/** Runs the offline check; returns the exit code. */
export function runCheck(opts: CheckOptions, io: CheckIo): number {
  if (opts.template === undefined) {
    io.err('po-ecs-runner: say which template: check --template cdk.out/<Stack>.template.json');
    return CHECK_EXIT.usage;
  }
  let template: unknown;
  try {
    template = JSON.parse(readFileSync(opts.template, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.err(
      `po-ecs-runner: cannot read --template ${opts.template}: ${err.code ?? (e instanceof SyntaxError ? 'not JSON' : err.message)}`,
    );
    return CHECK_EXIT.usage;
  }
  const options: ModelOptions = {
    runnerId: opts.runnerId,
    orchestrator: opts.orchestrator,
    oidcIssuer: opts.oidcIssuer,
  };
  let checked: RunnerResults[];
  try {
    checked = evaluateOffline(template, options);
  } catch (e) {
    if (e instanceof TemplateError) {
      io.err(`po-ecs-runner: --template ${opts.template}: ${e.message}`);
      return CHECK_EXIT.usage;
    }
    throw e;
  }
  const allOk = checked.every((r) => r.results.every((x) => x.ok));
  if (opts.json) {
    io.out(JSON.stringify(checked.map(toJson), null, 2));
  } else {
    for (const r of checked) printRunner(r, io);
  }
  return allOk ? CHECK_EXIT.ok : CHECK_EXIT.failed;
}

function toJson(r: RunnerResults) {
  return {
    runnerId: r.runner.runnerId,
    orgId: r.runner.orgId,
    orchestrator: r.runner.orchestrator,
    orchestratorSource: r.runner.orchestratorSource,
    ok: r.results.every((x) => x.ok),
    results: r.results.map((x) => ({
      id: x.call.id,
      principal: x.call.principal,
      action: x.call.action,
      resource: x.call.resource,
      expect: x.call.expect,
      decision: x.decision,
      ok: x.ok,
      detail: x.detail,
    })),
    notes: r.notes,
  };
}

function line(x: CallResult): string {
  const head = `${x.ok ? 'ok  ' : 'FAIL'} ${x.decision.padEnd(7)} ${x.call.id}`;
  return x.ok ? head : `${head}: ${x.detail}`;
}

function printRunner(r: RunnerResults, io: CheckIo): void {
  const { runner, results } = r;
  io.out(
    `Runner ${runner.runnerId} (org ${runner.orgId}), orchestrator ${runner.orchestrator.name} (issuer ${runner.orchestrator.issuer}, families ${runner.orchestrator.taskDefinitionFamilyScope}; from the ${runner.orchestratorSource})`,
  );
  for (const x of results) io.out(`  ${line(x)}`);
  for (const note of r.notes) io.out(`  note: ${note}`);
  const calls = results.filter((x) => x.call.expect === 'allowed');
  const attacks = results.filter((x) => x.call.expect === 'denied');
  const failed = results.filter((x) => !x.ok);
  io.out(
    `  ${calls.filter((x) => x.ok).length}/${calls.length} calls allowed, ${attacks.filter((x) => x.ok).length}/${attacks.length} attacks denied: ${
      failed.length === 0 ? 'the runner conforms' : `${failed.length} ${failed.length === 1 ? 'failure' : 'failures'}`
    }.`,
  );
}
