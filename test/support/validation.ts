import { EcsRunnerValidationError } from '../../src/errors';

/** Runs `fn` and expects the library's validation error naming `property`. */
export function expectValidationError(fn: () => unknown, property: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EcsRunnerValidationError);
  expect((caught as EcsRunnerValidationError).property).toBe(property);
  expect((caught as Error).message).toContain(`Invalid ${property}`);
}
