/**
 * Environment variables set for the duration of one call, and put back as they were afterwards
 * (set again, or removed when they were unset), whether the call returns or throws.
 */

/** Runs `fn` with each of `vars` set to its value (or removed, for `undefined`); restores them after. */
export function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => T): T {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  try {
    for (const [name, value] of Object.entries(vars)) setEnv(name, value);
    return fn();
  } finally {
    for (const [name, value] of saved) setEnv(name, value);
  }
}

/**
 * Runs `fn` as the CDK CLI would for an app in `account`: `CDK_DEFAULT_ACCOUNT` set, and no
 * `CDK_DEFAULT_REGION`, so that synthesized templates do not depend on who runs the tests.
 */
export function withCdkDefaultAccount<T>(account: string, fn: () => T): T {
  return withEnv({ CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: undefined }, fn);
}

function setEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
