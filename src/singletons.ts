import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { EcsRunnerValidationError } from './errors';

/** The class of a singleton construct (its constructor may be private: only its prototype is used). */
export interface SingletonType<T extends IConstruct> {
  readonly prototype: T;
  readonly name: string;
}

/**
 * The one construct of `type` with construct id `id` directly under `parent`, created by `create`
 * the first time it is asked for. The construct tree is the only state: nothing is kept at module
 * level, so two apps (or two test cases) never see each other's singletons. A child of that id
 * that is not a `type` is refused (it would otherwise be used through an unchecked cast).
 */
function singletonUnder<T extends IConstruct>(
  parent: Construct,
  id: string,
  type: SingletonType<T>,
  create: (parent: Construct, id: string) => T,
): T {
  const existing = parent.node.tryFindChild(id);
  if (existing === undefined) return create(parent, id);
  if (Object.prototype.isPrototypeOf.call(type.prototype, existing)) return existing as T;
  throw new EcsRunnerValidationError(
    'construct id',
    `${parent.node.path || '<root>'}/${id}`,
    `an id the library can use for its ${type.name} (the construct there is a ${existing.constructor.name}): rename that construct`,
  );
}

/**
 * The stack's one construct of `type` with id `id`, a child of the stack of `scope`. The id is a
 * public contract (it decides the logical ids under it).
 */
export function stackSingleton<T extends IConstruct>(
  scope: IConstruct,
  id: string,
  type: SingletonType<T>,
  create: (stack: Stack, id: string) => T,
): T {
  const stack = Stack.of(scope);
  return singletonUnder(stack, id, type, (_, childId) => create(stack, childId));
}

/**
 * The app's one construct of `type` with id `id`, a child of the root of `scope`'s tree (the
 * `App`, or the stack itself when it has no app). For app-wide bookkeeping that synthesizes
 * nothing (no resources in any template).
 */
export function appSingleton<T extends IConstruct>(
  scope: IConstruct,
  id: string,
  type: SingletonType<T>,
  create: (root: Construct, id: string) => T,
): T {
  return singletonUnder(scope.node.root as Construct, id, type, create);
}
