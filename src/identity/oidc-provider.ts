import { createHash } from 'crypto';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tagManagedBy } from '../managed-by';
import { stackSingleton } from '../singletons';

/** The audience the orchestrator puts in its OIDC tokens for AWS. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** The issuer of Humanitec's hosted orchestrator. */
export const DEFAULT_ISSUER = 'oidc.humanitec.dev';

/**
 * The IAM OIDC identity provider of the orchestrator's token issuer.
 *
 * An AWS account holds exactly one IAM OIDC provider per issuer URL, so every runner in a
 * stack shares one provider per issuer: `PlatformOrchestratorOidcProvider.forIssuer` creates it
 * on first use and returns the same construct afterwards. Runners in other stacks of the same
 * account pass its ARN (`EcsRunnerProps.oidcProviderArn`) instead of creating another.
 *
 * It is a native `AWS::IAM::OIDCProvider` (no custom resource, no Lambda). IAM obtains and
 * trusts the issuer's TLS certificate chain itself, so no thumbprint is pinned.
 */
export class PlatformOrchestratorOidcProvider extends Construct {
  /**
   * The stack's provider for `issuer`, created the first time it is asked for.
   *
   * @param scope any construct in the stack
   * @param issuer the issuer host (and optional path) without scheme, e.g. `oidc.humanitec.dev`
   */
  public static forIssuer(scope: Construct, issuer: string): PlatformOrchestratorOidcProvider {
    return stackSingleton(
      scope,
      providerId(issuer),
      PlatformOrchestratorOidcProvider,
      (stack, id) => new PlatformOrchestratorOidcProvider(stack, id, issuer),
    );
  }

  /** The ARN of the provider. */
  public readonly providerArn: string;

  /** The issuer host (and path), without scheme. */
  public readonly issuer: string;

  private constructor(scope: Construct, id: string, issuer: string) {
    super(scope, id);
    this.issuer = issuer;
    const provider = new iam.OidcProviderNative(this, 'Resource', {
      url: `https://${issuer}`,
      clientIds: [STS_AUDIENCE],
    });
    this.providerArn = provider.oidcProviderArn;
    tagManagedBy(this);
  }
}

/** Construct id of the provider: stable per issuer, so logical ids never change. */
function providerId(issuer: string): string {
  if (issuer === DEFAULT_ISSUER) {
    return 'PlatformOrchestratorOidcProvider';
  }
  const slug = issuer.replace(/[^A-Za-z0-9]/g, '').slice(0, 40);
  const hash = createHash('sha256').update(issuer).digest('hex').slice(0, 8);
  return `PlatformOrchestratorOidcProvider${slug}${hash}`;
}
