/** Stack-wide and app-wide singletons: one helper, the construct tree as the only state. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { appSingleton, stackSingleton } from '../src/singletons';
import { expectValidationError } from './support/validation';

class Shared extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new sns.Topic(this, 'Topic');
  }
}

const shared = (scope: Construct) => stackSingleton(scope, 'Shared', Shared, (stack, id) => new Shared(stack, id));

describe('stackSingleton', () => {
  test('creates the construct once per stack, as a child of the stack, whatever scope asks', () => {
    // GIVEN two stacks of one app
    const app = new App();
    const one = new Stack(app, 'One');
    const two = new Stack(app, 'Two');
    const deep = new Construct(new Construct(one, 'A'), 'B');

    // WHEN the singleton is asked for from several scopes
    const first = shared(one);
    const again = shared(deep);
    const other = shared(two);

    // THEN one per stack, each a direct child of its stack with the given id
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(first.node.path).toBe('One/Shared');
    expect(other.node.path).toBe('Two/Shared');
    Template.fromStack(one).resourceCountIs('AWS::SNS::Topic', 1);
  });

  test('a child of that id of another type is a library error, not an unchecked cast', () => {
    // GIVEN a stack whose child "Shared" is not a Shared
    const stack = new Stack(new App(), 'Stack');
    new Construct(stack, 'Shared');

    // WHEN / THEN
    const error = expectValidationError(() => shared(stack), 'construct id');
    expect(error.message).toContain('Stack/Shared');
    expect(error.message).toContain('Shared');
  });
});

describe('appSingleton', () => {
  test('one per app, at the root, shared by its stacks; another app has its own', () => {
    // GIVEN two apps, one with two stacks
    const app = new App();
    const one = new Stack(app, 'One');
    const two = new Stack(app, 'Two');
    const otherApp = new App();
    const elsewhere = new Stack(otherApp, 'One');
    const record = (scope: Construct) =>
      appSingleton(scope, 'Record', Construct, (root, id) => new Construct(root, id));

    // WHEN / THEN
    expect(record(one)).toBe(record(two));
    expect(record(one).node.scope).toBe(app);
    expect(record(elsewhere)).not.toBe(record(one));
    expect(record(elsewhere).node.scope).toBe(otherApp);
  });

  test('the app records of the library synthesize nothing', () => {
    // GIVEN a stack whose only construct is an app record
    const app = new App();
    const stack = new Stack(app, 'Stack');
    appSingleton(stack, 'Record', Construct, (root, id) => new Construct(root, id));

    // THEN the stack's template has no resources and the assembly only the stack
    expect(Template.fromStack(stack).toJSON().Resources).toBeUndefined();
    expect(app.synth().stacks.map((s) => s.stackName)).toEqual(['Stack']);
  });
});
