/**
 * The synthesized templates the conformance suite replays the contract against: every stack of
 * every example under examples/ (found on disk, with its cdk.json context, as
 * test/examples/examples.test.ts synthesizes them) and of each compliance profile.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, AppProps, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as runnerLibrary from 'platform-orchestrator-ecs-runner';
import { withCdkDefaultAccount } from '../support/env';
import { allProfiles } from '../support/profiles';

export const EXAMPLES_DIR = path.join(__dirname, '..', '..', 'examples');
export const ACCOUNT = '123456789012';

export interface SynthesizedStack {
  /** `examples/<name>` or `profile <name>`. */
  readonly source: string;
  readonly stackName: string;
  readonly template: any;
}

export const EXAMPLES = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function synthApp(source: string, build: (props: AppProps) => App, context: Record<string, any>): SynthesizedStack[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'conformance-'));
  try {
    return withCdkDefaultAccount(ACCOUNT, () => {
      const assembly = build({ outdir, context }).synth();
      return assembly.stacks.map((a) => ({ source, stackName: a.stackName, template: a.template }));
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every stack of examples/<name>, synthesized with its cdk.json context. */
export function synthesizeExample(name: string): SynthesizedStack[] {
  const dir = path.join(EXAMPLES_DIR, name);
  const context = JSON.parse(readFileSync(path.join(dir, 'cdk.json'), 'utf8')).context ?? {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const buildApp: (app: App) => App = require(path.join(dir, 'app.ts')).buildApp;
  return synthApp(`examples/${name}`, (props) => buildApp(new App(props)), context);
}

/** Every stack of each compliance profile. */
export function synthesizeProfiles(): SynthesizedStack[] {
  return allProfiles().flatMap((p) => synthApp(`profile ${p.name}`, (props) => p.build(props), {}));
}

export const STELLWERK_ISSUER = 'oidc.stellwerk.example.com/platform';
export const STELLWERK_API_URL = 'https://api.stellwerk.example.com';

/**
 * A Stellwerk runner made the documented way (README: `orchestrator: Orchestrator.stellwerk(...)`),
 * with what no example has: job secrets from Secrets Manager (customer managed key) and SSM, a
 * private ECR image and a state path prefix, on a runner-created KMS key.
 */
export function synthesizeStellwerkFixture(): SynthesizedStack[] {
  return synthApp(
    'fixture stellwerk',
    (props) => {
      const app = new App(props);
      const stack = new Stack(app, 'StellwerkEcsRunner', { env: { account: ACCOUNT, region: 'eu-west-1' } });
      const secretKey = new kms.Key(stack, 'SecretKey', { enableKeyRotation: true });
      const secret = new secretsmanager.Secret(stack, 'GitToken', { encryptionKey: secretKey });
      const orchestrator = {
        orchestrator: runnerLibrary.Orchestrator.stellwerk({ oidcIssuer: STELLWERK_ISSUER, apiUrl: STELLWERK_API_URL }),
      };
      new runnerLibrary.EcsRunner(stack, 'Runner', {
        orgId: 'self-hosted-org',
        runnerId: 'stellwerk-runner',
        network: runnerLibrary.RunnerNetwork.fromSubnetIds(['subnet-0123456789abcdef0']),
        encryption: runnerLibrary.RunnerEncryption.createKey(),
        state: { pathPrefix: 'platform/state' },
        image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/platform/runner:2.0.0`,
        secrets: {
          GIT_TOKEN: ecs.Secret.fromSecretsManager(secret),
          TF_VAR_db_password: ecs.Secret.fromSsmParameter(
            ssm.StringParameter.fromStringParameterAttributes(stack, 'DbPassword', {
              parameterName: '/platform/db-password',
            }),
          ),
        },
        secretsEncryptionKeys: [secretKey],
        ...orchestrator,
      });
      return app;
    },
    {},
  );
}
