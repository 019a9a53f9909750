/**
 * Replays CloudFormation stack operations against the real registration handler the way
 * `custom_resources.Provider`'s framework function delivers them (aws-cdk-lib
 * custom-resources/lib/provider-framework/runtime: framework.js and cfn-response.js):
 * - the handler gets the event with `ResponseURL` replaced by '...', and a Lambda context;
 * - a failed Create is reported with the physical id
 *   `AWSCDK::CustomResourceProviderFramework::CREATE_FAILED`, and the Delete CloudFormation
 *   sends for it in the rollback is answered by the framework itself: the handler never sees it;
 * - CloudFormation's side: a successful Update that returns a new physical id is followed, in
 *   the cleanup phase, by a Delete of the old id with the old properties; a failed Update is
 *   rolled back by an Update back to the old properties (physical id unchanged); an Update that
 *   succeeded is rolled back, when a later resource fails, by an Update to the old properties
 *   and then a Delete of the new physical id with the new properties.
 */
import { randomUUID } from 'crypto';
import { RegistrationEvent, RegistrationResult, onEvent } from '../../src/registration/runtime/registration.lambda';

export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

export type Props = Record<string, string>;

/** One delivery to the handler, and what came back. */
export interface Delivery {
  readonly event: RegistrationEvent;
  readonly result?: RegistrationResult;
  readonly error?: Error;
  /** True when the framework answered itself and the handler was not called. */
  readonly skipped?: boolean;
}

/** The registration resource of one stack, as CloudFormation tracks it. */
export class ReplayedResource {
  /** The physical id CloudFormation holds, undefined before a successful Create. */
  public physicalId: string | undefined;
  public props: Props | undefined;
  public readonly deliveries: Delivery[] = [];

  /** @param remainingMs what the Lambda context reports as the time left at the start of each invocation */
  constructor(private readonly remainingMs = 300_000) {}

  /** Create; on failure the stack rolls back, and the rollback Delete is the framework's no-op. */
  public async create(props: Props): Promise<Delivery> {
    const d = await this.deliver({ RequestType: 'Create', ResourceProperties: props });
    if (d.result) {
      this.physicalId = d.result.PhysicalResourceId;
      this.props = props;
    } else {
      await this.deliver({
        RequestType: 'Delete',
        PhysicalResourceId: CREATE_FAILED_MARKER,
        ResourceProperties: props,
      });
    }
    return d;
  }

  /**
   * Update to `props`. On success with a new physical id, `laterFailure` decides the rest of the
   * stack operation: false (default) runs the cleanup Delete of the old id; true means a later
   * resource fails, so CloudFormation rolls this one back to the old properties and then deletes
   * the new id. On failure CloudFormation rolls back to the old properties.
   */
  public async update(props: Props, laterFailure = false): Promise<Delivery> {
    const oldId = this.physicalId!;
    const oldProps = this.props!;
    const d = await this.deliver({
      RequestType: 'Update',
      PhysicalResourceId: oldId,
      ResourceProperties: props,
      OldResourceProperties: oldProps,
    });
    if (!d.result) {
      await this.deliver({
        RequestType: 'Update',
        PhysicalResourceId: oldId,
        ResourceProperties: oldProps,
        OldResourceProperties: props,
      });
      return d;
    }
    const newId = d.result.PhysicalResourceId;
    if (laterFailure) {
      const back = await this.deliver({
        RequestType: 'Update',
        PhysicalResourceId: newId,
        ResourceProperties: oldProps,
        OldResourceProperties: props,
      });
      const backId = back.result?.PhysicalResourceId ?? newId;
      if (backId !== newId) {
        await this.deliver({ RequestType: 'Delete', PhysicalResourceId: newId, ResourceProperties: props });
      }
      this.physicalId = backId;
      return d;
    }
    if (newId !== oldId) {
      await this.deliver({ RequestType: 'Delete', PhysicalResourceId: oldId, ResourceProperties: oldProps });
    }
    this.physicalId = newId;
    this.props = props;
    return d;
  }

  /** Delete (stack deletion). */
  public async delete(): Promise<Delivery> {
    return this.deliver({
      RequestType: 'Delete',
      PhysicalResourceId: this.physicalId,
      ResourceProperties: this.props!,
    });
  }

  /** One event as the framework hands it to the handler (the same event may be delivered twice). */
  public async deliver(
    event: Omit<RegistrationEvent, 'RequestId' | 'StackId' | 'LogicalResourceId'>,
    requestId: string = randomUUID(),
  ): Promise<Delivery> {
    const full: RegistrationEvent & { ResponseURL: string; ResourceType: string } = {
      ...event,
      RequestId: requestId,
      StackId: 'arn:aws:cloudformation:eu-central-1:123456789012:stack/replay/1',
      LogicalResourceId: 'Registration',
      ResourceType: 'Custom::PlatformOrchestratorRunnerRegistration',
      ResponseURL: '...',
    };
    if (full.RequestType === 'Delete' && full.PhysicalResourceId === CREATE_FAILED_MARKER) {
      const skipped: Delivery = { event: full, skipped: true };
      this.deliveries.push(skipped);
      return skipped;
    }
    const end = Date.now() + this.remainingMs;
    try {
      const result = await onEvent(full, { getRemainingTimeInMillis: () => end - Date.now() });
      const d: Delivery = { event: full, result };
      this.deliveries.push(d);
      return d;
    } catch (e) {
      const d: Delivery = { event: full, error: e as Error };
      this.deliveries.push(d);
      return d;
    }
  }

  /** The messages of every error the handler threw, with their stacks and JSON. */
  public errorTexts(): string[] {
    return this.deliveries
      .filter((d) => d.error !== undefined)
      .flatMap((d) => [d.error!.message, String(d.error!.stack), JSON.stringify(d.error)]);
  }
}
