import { Token } from 'aws-cdk-lib';
import { EcsRunnerValidationError } from './errors';
import { FAMILY_PREFIX_PATTERN, ISSUER_PATTERN } from './validation';

/** Options of {@link Orchestrator.stellwerk}. */
export interface StellwerkOrchestratorOptions {
  /**
   * Host (and optional path), without `https://`, of the installation's OIDC token issuer,
   * e.g. `stellwerk.example.com/oidc`.
   */
  readonly oidcIssuer: string;

  /** Base URL of the installation's API, e.g. `https://stellwerk.example.com/api`. */
  readonly apiUrl: string;
}

/** Options of {@link Orchestrator.custom}. */
export interface CustomOrchestratorOptions {
  /** Host (and optional path), without `https://`, of the orchestrator's OIDC token issuer. */
  readonly oidcIssuer: string;

  /** Base URL of the orchestrator's API (https). */
  readonly apiUrl: string;

  /**
   * Prefix of the task definition families the orchestrator registers: the task-manager role
   * may only register, delete and run task definitions of `<prefix>*`.
   */
  readonly taskDefinitionFamilyPrefix: string;
}

/**
 * The Platform Orchestrator a runner serves: who issues its OIDC tokens, where its API is, and
 * which task definition families it registers.
 *
 * - `Orchestrator.humanitec()`: Humanitec's hosted orchestrator (the default).
 * - `Orchestrator.stellwerk({ oidcIssuer, apiUrl })`: a self-hosted Stellwerk installation.
 * - `Orchestrator.custom({ oidcIssuer, apiUrl, taskDefinitionFamilyPrefix })`: anything else.
 */
export class Orchestrator {
  /** Issuer host of Humanitec's hosted orchestrator. */
  public static readonly HUMANITEC_OIDC_ISSUER: string = 'oidc.humanitec.dev';
  /** API of Humanitec's hosted orchestrator. */
  public static readonly HUMANITEC_API_URL: string = 'https://api.humanitec.dev';
  /** Family prefix of the task definitions Humanitec's hosted orchestrator registers. */
  public static readonly HUMANITEC_FAMILY_PREFIX: string = 'humanitec_';
  /** Family prefix of the task definitions a Stellwerk installation registers. */
  public static readonly STELLWERK_FAMILY_PREFIX: string = 'platform_orchestrator_';

  /**
   * Humanitec's hosted orchestrator: issuer `oidc.humanitec.dev`, API
   * `https://api.humanitec.dev`, task definition families `humanitec_*`.
   */
  public static humanitec(): Orchestrator {
    return new Orchestrator(
      'humanitec',
      Orchestrator.HUMANITEC_OIDC_ISSUER,
      Orchestrator.HUMANITEC_API_URL,
      Orchestrator.HUMANITEC_FAMILY_PREFIX,
    );
  }

  /**
   * A self-hosted Stellwerk installation. It registers one task definition family per
   * environment, `platform_orchestrator_env_<orgId>_<envUuid>`, so the task-manager role is
   * scoped to the runner's organization: `task-definition/platform_orchestrator_env_<orgId>_*`.
   */
  public static stellwerk(options: StellwerkOrchestratorOptions): Orchestrator {
    return new Orchestrator('stellwerk', options.oidcIssuer, options.apiUrl, Orchestrator.STELLWERK_FAMILY_PREFIX);
  }

  /** Any other orchestrator: all three values given. */
  public static custom(options: CustomOrchestratorOptions): Orchestrator {
    return new Orchestrator('custom', options.oidcIssuer, options.apiUrl, options.taskDefinitionFamilyPrefix);
  }

  /** `humanitec`, `stellwerk` or `custom`. */
  public readonly name: string;
  /** Issuer host and optional path, without scheme. */
  public readonly oidcIssuer: string;
  /** Base URL of the orchestrator's API. */
  public readonly apiUrl: string;
  /** Prefix of the task definition families the orchestrator registers. */
  public readonly taskDefinitionFamilyPrefix: string;

  private constructor(name: string, oidcIssuer: string, apiUrl: string, taskDefinitionFamilyPrefix: string) {
    checkIssuer('orchestrator.oidcIssuer', oidcIssuer);
    checkApiUrl('orchestrator.apiUrl', apiUrl);
    if (!Token.isUnresolved(taskDefinitionFamilyPrefix) && !FAMILY_PREFIX_PATTERN.test(taskDefinitionFamilyPrefix)) {
      throw new EcsRunnerValidationError(
        'orchestrator.taskDefinitionFamilyPrefix',
        taskDefinitionFamilyPrefix,
        '1 to 200 letters, digits, "_" or "-", e.g. "humanitec_"',
      );
    }
    this.name = name;
    this.oidcIssuer = oidcIssuer;
    this.apiUrl = apiUrl;
    this.taskDefinitionFamilyPrefix = taskDefinitionFamilyPrefix;
  }

  /**
   * The task definition families of `orgId` the task-manager role may register, delete and run:
   * the part of the ARN after `task-definition/`, without the revision, e.g. `humanitec_*`.
   * Stellwerk's families carry the org id (`platform_orchestrator_env_<orgId>_<envUuid>`), so its
   * scope is `platform_orchestrator_env_<orgId>_*`; the others are `<prefix>*`.
   */
  public taskDefinitionFamilyScope(orgId: string): string {
    if (this.name === 'stellwerk') return `${this.taskDefinitionFamilyPrefix}env_${orgId}_*`;
    return `${this.taskDefinitionFamilyPrefix}*`;
  }
}

function checkIssuer(property: string, issuer: string): void {
  if (Token.isUnresolved(issuer)) {
    throw new EcsRunnerValidationError(
      property,
      issuer,
      "a concrete host name, known at synth time: the issuer is part of the names of the trust policy's condition keys (<issuer>:aud, <issuer>:sub), and a token cannot be a condition key",
    );
  }
  if (typeof issuer !== 'string' || !ISSUER_PATTERN.test(issuer)) {
    throw new EcsRunnerValidationError(
      property,
      issuer,
      'a host name with an optional path and no scheme or trailing slash, e.g. "oidc.humanitec.dev" or "stellwerk.example.com/oidc"',
    );
  }
}

function checkApiUrl(property: string, apiUrl: string): void {
  if (Token.isUnresolved(apiUrl)) return;
  const accepted = 'an absolute https URL without credentials, query or fragment, e.g. "https://api.humanitec.dev"';
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new EcsRunnerValidationError(property, apiUrl, accepted);
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new EcsRunnerValidationError(property, apiUrl, accepted);
  }
}
