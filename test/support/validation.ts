import { EcsRunnerValidationError } from '../../src/errors';

/** Runs `fn` and expects the library's validation error naming `property`; returns the error. */
export function expectValidationError(fn: () => unknown, property: string): EcsRunnerValidationError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EcsRunnerValidationError);
  expect((caught as EcsRunnerValidationError).property).toBe(property);
  expect((caught as Error).message).toContain(`Invalid ${property}`);
  return caught as EcsRunnerValidationError;
}
