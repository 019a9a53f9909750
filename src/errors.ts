/**
 * Thrown at synth time when a property of a construct in this library is invalid.
 *
 * The message names the property, the rejected value and the accepted form, so the
 * user can fix the configuration before anything is deployed.
 */
export class EcsRunnerValidationError extends Error {
  /** The property that was rejected, e.g. `runnerId` or `environment.FOO`. */
  public readonly property: string;

  constructor(property: string, value: unknown, accepted: string) {
    super(`Invalid ${property}: ${describe(value)}. Expected ${accepted}.`);
    this.name = 'EcsRunnerValidationError';
    this.property = property;
    Object.setPrototypeOf(this, EcsRunnerValidationError.prototype);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 120 ? `${value.slice(0, 117)}...` : value;
    return `${JSON.stringify(shown)} (${value.length} characters)`;
  }
  if (Array.isArray(value)) {
    return `a list of ${value.length} item(s)`;
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * Helpers to recognise the library's errors from any jsii language, where the error class
 * itself cannot be exported (jsii types cannot extend the built-in `Error`).
 */
export class RunnerErrors {
  /** True when `x` is the error the library throws for an invalid property. */
  public static isValidationError(x: any): boolean {
    return x instanceof EcsRunnerValidationError;
  }

  /** The property an invalid-property error names, or undefined for any other value. */
  public static propertyOf(x: any): string | undefined {
    return x instanceof EcsRunnerValidationError ? x.property : undefined;
  }

  private constructor() {}
}
