/*
 * Desired (the stack's RunnerCreateBody) against actual (the orchestrator's Runner): the
 * comparison behind "exists exactly as sent", adoption and the CLI's status. Pure functions,
 * no calls.
 */
import type { RunnerCreateBody } from '../runner-create-body';
import type { components } from '../api-types.generated';

type Runner = components['schemas']['Runner'];
type RunnerUpdateBody = components['schemas']['RunnerUpdateBody'];

/** One field whose desired (stack) and actual (orchestrator) values differ. */
export interface FieldDifference {
  /** Dotted path, e.g. `runner_configuration.job.subnets`. */
  readonly path: string;
  readonly desired: unknown;
  readonly actual: unknown;
}

/** Fields the orchestrator sets itself: never compared. */
const READ_ONLY_FIELDS: ReadonlySet<string> = new Set(['org_id', 'created_at', 'updated_at']);

/**
 * The leaf fields of a runner body: primitives, and arrays of primitives as a whole, keyed by
 * dotted path. Read-only fields are left out.
 */
export function flattenRunner(value: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (path === '' && READ_ONLY_FIELDS.has(k)) continue;
        walk(x, path === '' ? k : `${path}.${k}`);
      }
    } else if (path !== '') {
      out.set(path, v);
    }
  };
  walk(value, '');
  return out;
}

/**
 * Absent, null, '', false, [] and {} all mean "not set" (the API returns empty defaults for
 * optional fields); arrays of primitives are sets (subnets, security groups).
 */
function normalize(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '' || v === false) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : JSON.stringify([...v].map((x) => JSON.stringify(x)).sort());
  return JSON.stringify(v);
}

/** The fields in which the orchestrator's runner differs from the desired create body. */
export function diffRunner(desired: RunnerCreateBody, actual: Runner): FieldDifference[] {
  const d = flattenRunner(desired);
  const a = flattenRunner(actual);
  const paths = [...new Set([...d.keys(), ...a.keys()])].sort();
  return paths
    .filter((p) => normalize(d.get(p)) !== normalize(a.get(p)))
    .map((p) => ({ path: p, desired: d.get(p), actual: a.get(p) }));
}

/** The update that brings an existing runner to a create body's state (description cleared when absent). */
export function updateBodyFromCreateBody(body: RunnerCreateBody): RunnerUpdateBody {
  return {
    description: body.description ?? '',
    runner_configuration: body.runner_configuration as RunnerUpdateBody['runner_configuration'],
    state_storage_configuration: body.state_storage_configuration,
  };
}
