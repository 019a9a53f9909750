/**
 * The environment the registration handler runs in under test: its AWS SDK pointed at the fake
 * orchestrator's Secrets Manager, fake static credentials, no profile or instance metadata, and
 * short API timeouts and retries; every console line captured, so a test can check what was
 * logged. Restores the environment and the console after the suite.
 */
import { FakeOrchestrator, sampleBody } from './fake-orchestrator';

export interface HandlerEnvironment {
  /** Every console line logged during the current test. */
  readonly logs: string[];
}

/**
 * Sets the handler's environment for the suite (`beforeAll`/`afterAll`) and captures the console
 * per test (`beforeEach`/`afterEach`). `overrides` replace the defaults (e.g. `PO_API_MAX_ATTEMPTS`).
 */
export function useHandlerEnvironment(
  fake: () => FakeOrchestrator,
  overrides: Record<string, string> = {},
): HandlerEnvironment {
  const savedEnv = { ...process.env };
  const logs: string[] = [];
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake().url,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      PO_API_TIMEOUT_MS: '1000',
      PO_API_RETRY_BASE_MS: '5',
      PO_API_RETRY_MAX_MS: '20',
      PO_API_MAX_ATTEMPTS: '3',
      PO_API_DEADLINE_MS: '10000',
      ...overrides,
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
  });
  afterAll(() => {
    process.env = savedEnv;
  });
  beforeEach(() => {
    logs.length = 0;
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logs.push(args.map(String).join(' '));
      });
    }
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
  return { logs };
}

/**
 * The registration custom resource's properties as `RunnerRegistration` writes them, for a runner
 * of `orgId` whose API token is in `tokenSecretArn`, against the fake at `apiUrl`.
 */
export function registrationProps(
  target: { readonly orgId: string; readonly apiUrl: string; readonly tokenSecretArn: string },
  runnerId: string,
  rules: readonly Record<string, string>[] = [],
  over: Record<string, string> = {},
  bodyOver: Record<string, unknown> = {},
): Record<string, string> {
  return {
    ServiceToken: 'arn:aws:lambda:eu-central-1:123456789012:function:framework-onEvent',
    OrgId: target.orgId,
    ApiUrl: target.apiUrl,
    RunnerId: runnerId,
    Body: JSON.stringify(sampleBody(runnerId, bodyOver)),
    TokenSecretArn: target.tokenSecretArn,
    AdoptExisting: 'false',
    RetainOnDelete: 'false',
    Rules: JSON.stringify(rules),
    ...over,
  };
}
