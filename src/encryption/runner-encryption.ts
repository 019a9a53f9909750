import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * How the runner encrypts what it keeps: the Terraform state, the created VPC's flow logs, the
 * registration handler's logs and, with monitoring, the alarm topic and the events log group.
 *
 * - `RunnerEncryption.s3Managed()` (the default): SSE-S3 for the state, the services' own
 *   encryption for logs and the topic. No KMS key, no key policy to maintain.
 * - `RunnerEncryption.createKey()`: a customer managed key of the runner's own.
 * - `RunnerEncryption.fromKey(key)`: your customer managed key.
 */
export class RunnerEncryption {
  /** SSE-S3 for the state and the services' own encryption for logs and the alarm topic: no KMS key. */
  public static s3Managed(): RunnerEncryption {
    return new RunnerEncryption('S3_MANAGED');
  }

  /**
   * A customer managed KMS key of the runner's own (construct id `EncryptionKey`): rotated yearly,
   * retained when the runner leaves the stack (the state's versions cannot be read without it), and
   * with a key policy that lets only AWS services acting for a resource create grants on it. The
   * key policy gets the CloudWatch Logs statements for exactly the runner's log groups.
   */
  public static createKey(): RunnerEncryption {
    return new RunnerEncryption('CREATE_KEY');
  }

  /**
   * Your customer managed KMS key. When it is a `kms.Key` of the runner's stack, the runner adds the
   * statements CloudWatch Logs (and, with monitoring, CloudWatch alarms) need to its policy; for any
   * other key a synth warning prints the exact statements its owner must add.
   */
  public static fromKey(key: kms.IKey): RunnerEncryption {
    return new RunnerEncryption('FROM_KEY', key);
  }

  /** Which choice this is: `S3_MANAGED`, `CREATE_KEY` or `FROM_KEY`. */
  public readonly kind: string;

  /** The key given to `fromKey`; undefined for the other choices. */
  public readonly key?: kms.IKey;

  private constructor(kind: string, key?: kms.IKey) {
    this.kind = kind;
    this.key = key;
  }
}

/**
 * The runner's own key (`RunnerEncryption.createKey()`), with the one statement the runner always
 * adds to it. Every other statement on a key the runner uses is added where the resource that
 * needs it is created, by the one rule of `key-policy.ts` ({@link addToKeyPolicy}; log groups
 * through its `allowLogsToUseKey`).
 */
export function createRunnerKey(scope: Construct, runnerId: string): kms.Key {
  const key = new kms.Key(scope, 'EncryptionKey', {
    description: `Platform Orchestrator runner ${runnerId}: Terraform state, alarms`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Nothing of the runner uses KMS grants: only AWS services acting for a resource may create them.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsExceptForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  return key;
}
