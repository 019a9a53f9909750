/**
 * Every CDK app under examples/ (found on disk, so a new example is never forgotten) is
 * synthesized as a user would run it, with its cdk.json context, and checked:
 *
 * - it has app.ts, cdk.json (whose `app` runs app.ts with tsx) and README.md, and app.ts exports `buildApp`;
 * - every stack synthesizes without errors and without lookups (no credentials, no network);
 * - every runner's `RunnerCreateBody` output is a valid RunnerCreateBody of the orchestrator's OpenAPI spec;
 * - the facts the example exists to show (FACTS below; an example without an entry fails);
 * - one snapshot of its templates (asset hashes normalised: the registration handler bundle
 *   changes with src/registration, which the example does not).
 *
 * The account is fixed (CDK_DEFAULT_ACCOUNT, as the CDK CLI sets it) so that templates do not
 * depend on who runs the tests.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsRunner, MANAGED_BY, RunnerVpcEndpoints } from 'platform-orchestrator-ecs-runner';
import { ensureBundled } from '../support/bundles';
import { registrationBodies, render } from '../support/cfn';
import { withCdkDefaultAccount } from '../support/env';
import { assertValid } from '../support/openapi';
import { statementsOfRole } from '../support/stacks';

const EXAMPLES_DIR = path.join(__dirname, '..', '..', 'examples');
const ACCOUNT = '123456789012';
const CDK_JSON_APP = 'npx tsx --tsconfig ../../tsconfig.dev.json app.ts';

const EXAMPLES = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/**
 * Warnings an example may show, by acknowledgement id. examples/basic is the smallest runner, with
 * subnet ids only: the library warns that ECS then uses the VPC's default security group.
 */
const ACCEPTED_WARNINGS: Record<string, string[]> = {
  basic: ['platform-orchestrator-ecs-runner:defaultSecurityGroup'],
};

/** One synthesized stack. */
interface SynthStack {
  readonly stack: Stack;
  readonly name: string;
  readonly region: string;
  readonly template: any;
  readonly dependencies: string[];
  readonly stackTags: Record<string, string>;
}

/** One synthesized example. */
interface Synth {
  readonly name: string;
  readonly context: Record<string, any>;
  readonly stacks: SynthStack[];
  readonly runners: EcsRunner[];
  /** RunnerCreateBody outputs by runner id, rendered as CloudFormation would deploy them. */
  readonly bodies: Map<string, any>;
  stackNamed(name: string): SynthStack;
}

function cdkJson(example: string): { app: string; context?: Record<string, any> } {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, example, 'cdk.json'), 'utf8'));
}

function loadBuildApp(example: string): (app?: App) => App {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(EXAMPLES_DIR, example, 'app.ts')).buildApp;
}

/** Synthesizes an example's app into a temporary directory with its cdk.json context (and overrides). */
function synthesize(example: string, contextOverrides: Record<string, any> = {}): Synth {
  const context = { ...(cdkJson(example).context ?? {}), ...contextOverrides };
  const outdir = mkdtempSync(path.join(tmpdir(), `example-${example}-`));
  try {
    const { app, assembly } = withCdkDefaultAccount(ACCOUNT, () => {
      const built = loadBuildApp(example)(new App({ outdir, context }));
      return { app: built, assembly: built.synth() };
    });
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const stackIds = new Set(assembly.stacks.map((a) => a.id));
    const stacks = assembly.stacks.map((artifact): SynthStack => {
      // No error, and no warning the example does not mean to show: a copied example synthesizes cleanly.
      const accepted = ACCEPTED_WARNINGS[example] ?? [];
      const problems = artifact.messages.filter(
        (m) =>
          m.level === 'error' ||
          (m.level === 'warning' && !accepted.some((ack) => String(m.entry.data).includes(`[ack: ${ack}]`))),
      );
      expect(problems.map((m) => `${m.level} ${m.id}: ${m.entry.data}`)).toEqual([]);
      return {
        stack: app.node.findAll().find((c): c is Stack => Stack.isStack(c) && c.artifactId === artifact.id)!,
        name: artifact.stackName,
        region: artifact.environment.region,
        template: artifact.template,
        dependencies: artifact.dependencies.map((d) => d.id).filter((id) => stackIds.has(id)),
        stackTags: artifact.tags,
      };
    });
    const runners = app.node.findAll().filter((c): c is EcsRunner => c instanceof EcsRunner);
    const bodies = new Map<string, any>();
    for (const s of stacks) {
      for (const body of registrationBodies(s.template, { account: ACCOUNT, region: s.region })) {
        bodies.set(body.id, body);
      }
    }
    return {
      name: example,
      context,
      stacks,
      runners,
      bodies,
      stackNamed(name: string) {
        const found = stacks.find((s) => s.name === name);
        if (!found) throw new Error(`${example} has no stack ${name}: ${stacks.map((s) => s.name).join(', ')}`);
        return found;
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Template helpers.

function resourcesOfType(template: any, type: string): [string, any][] {
  return Object.entries(template.Resources ?? {}).filter(([, r]: [string, any]) => r.Type === type) as [string, any][];
}

function countOfType(synth: Synth, type: string): number {
  return synth.stacks.reduce((n, s) => n + resourcesOfType(s.template, type).length, 0);
}

function only(template: any, type: string): [string, any] {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** The logical id of an EcsRunner's L1 child at `path` (e.g. 'Roles/TaskRole'). */
function logicalIdOf(runner: EcsRunner, childPath: string): string {
  const child = runner.node.findChild(childPath.split('/')[0]);
  const node = childPath
    .split('/')
    .slice(1)
    .reduce((c, id) => c.node.findChild(id), child);
  const cfn = (node.node.defaultChild ?? node) as CfnResource;
  return Stack.of(runner).getLogicalId(cfn);
}

/** The deployed value of a template expression in a stack. */
function rendered(s: SynthStack, value: any): any {
  return render(value, s.template, { account: ACCOUNT, region: s.region });
}

/**
 * The ARNs of the OIDC providers a runner's task-manager role trusts, as deployed: a provider of the
 * same stack is a Ref, whose value is the ARN `arn:<partition>:iam::<account>:oidc-provider/<issuer>`.
 */
function trustedProviderArns(s: SynthStack, runner: EcsRunner): string[] {
  const role = s.template.Resources[logicalIdOf(runner, 'Roles/TaskManagerRole')];
  return role.Properties.AssumeRolePolicyDocument.Statement.map((st: any) => {
    const federated = st.Principal.Federated;
    const provider = federated.Ref ? s.template.Resources[federated.Ref] : undefined;
    if (provider?.Type === 'AWS::IAM::OIDCProvider') {
      return `arn:aws:iam::${ACCOUNT}:oidc-provider/${provider.Properties.Url.replace('https://', '')}`;
    }
    return rendered(s, federated);
  });
}

/** Every taggable L1 resource in the stack's construct tree, with its construct path and its tags in the template. */
function taggableResources(s: SynthStack): { id: string; path: string; tags: Record<string, string> }[] {
  return s.stack.node
    .findAll()
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && TagManager.isTaggable(c))
    .map((cfn) => {
      const id = s.stack.getLogicalId(cfn);
      const raw = s.template.Resources[id]?.Properties?.Tags;
      const tags: Record<string, string> = Array.isArray(raw)
        ? Object.fromEntries(raw.map((t: any) => [t.Key, t.Value]))
        : (raw ?? {});
      return { id, path: cfn.node.path, tags };
    });
}

/** Asset hashes (64 hex characters) as a placeholder; everything else as synthesized. */
function normalised(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

// ---------------------------------------------------------------------------------------------
// What each example exists to show.

const FACTS: Record<string, (synth: Synth) => void> = {
  basic: (synth) => {
    expect(synth.stacks.map((s) => s.name)).toEqual(['BasicEcsRunner']);
    expect(synth.runners).toHaveLength(1);
    // scripts/synth.ts and the compliance profiles use the stack class and its runner.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { BasicRunnerStack } = require(path.join(EXAMPLES_DIR, 'basic', 'app.ts'));
    expect(synth.stacks[0].stack).toBeInstanceOf(BasicRunnerStack);
    expect((synth.stacks[0].stack as any).runner).toBe(synth.runners[0]);
    expect(countOfType(synth, 'AWS::IAM::OIDCProvider')).toBe(1);
    const [body] = synth.bodies.values();
    expect(body.runner_configuration.job.subnets).toEqual(synth.context.subnetIds);
    expect(body.runner_configuration.job.region).toBe(synth.context.region);
  },

  'complete-production': (synth) => {
    const [s] = synth.stacks;
    const ctx = synth.context;
    const [runner] = synth.runners;
    expect(runner.runnerId).toBe(ctx.runnerId);

    // Permissions boundary and path on every role of the stack, the registration provider's included.
    const roles = resourcesOfType(s.template, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThanOrEqual(6);
    for (const [id, role] of roles) {
      expect([id, rendered(s, role.Properties.PermissionsBoundary)]).toEqual([
        id,
        `arn:aws:iam::${ACCOUNT}:policy/${ctx.permissionsBoundaryName}`,
      ]);
      expect([id, role.Properties.Path]).toEqual([id, ctx.rolePath]);
    }
    for (const [id, policy] of resourcesOfType(s.template, 'AWS::IAM::ManagedPolicy')) {
      expect([id, policy.Properties.Path]).toEqual([id, ctx.rolePath]);
    }

    // Required tags on every taggable resource, and on the stack.
    const taggable = taggableResources(s);
    expect(taggable.length).toBeGreaterThan(15);
    for (const r of taggable) {
      expect({ id: r.id, tags: r.tags }).toEqual({ id: r.id, tags: expect.objectContaining(ctx.tags) });
    }
    expect(s.stackTags).toEqual(expect.objectContaining(ctx.tags));
    const runnerTaggable = taggable.filter((r) => r.path.startsWith(`${runner.node.path}/`));
    expect(runnerTaggable.length).toBeGreaterThanOrEqual(10);
    for (const r of runnerTaggable) expect([r.id, r.tags.ManagedBy]).toEqual([r.id, MANAGED_BY]);

    // The runner's CMK, with rotation, encrypts the state and the alarm topic.
    const [keyId, key] = only(s.template, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const stateBucket = s.template.Resources[logicalIdOf(runner, 'State/Bucket')];
    expect(stateBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
      BucketKeyEnabled: true,
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    const [topicId, topic] = only(s.template, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });

    // Alarms notify the topic, which has the email subscriptions.
    const alarms = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(
      resourcesOfType(s.template, 'AWS::SNS::Subscription').map(([, sub]) => [
        sub.Properties.Protocol,
        sub.Properties.Endpoint,
        sub.Properties.TopicArn,
      ]),
    ).toEqual(ctx.alarmEmails.map((email: string) => ['email', email, { Ref: topicId }]));

    // Server access logs and cross-region replication of the state.
    expect(stateBucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({
      Ref: expect.stringMatching(/^PlatformOrchestratorRunnerAccessLogs/),
    });
    const replication = stateBucket.Properties.ReplicationConfiguration;
    expect(replication.Rules).toHaveLength(1);
    expect(rendered(s, replication.Rules[0].Destination.Bucket)).toBe(`arn:aws:s3:::${ctx.replicaBucketName}`);
    expect(replication.Rules[0].Destination.EncryptionConfiguration).toEqual({ ReplicaKmsKeyID: ctx.replicaKeyArn });
    expect(replication.Rules[0].Status).toBe('Enabled');

    // Egress-only security group: no inbound rule at all.
    const [sgId, sg] = only(s.template, 'AWS::EC2::SecurityGroup');
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(resourcesOfType(s.template, 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
    expect(sg.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }),
    ]);
    expect(synth.bodies.get(ctx.runnerId).runner_configuration.job.security_groups).toEqual([
      rendered(s, { 'Fn::GetAtt': [sgId, 'GroupId'] }),
    ]);

    // Registration on deploy with the token secret (exactly that secret readable) and the rules.
    const [, registration] = only(s.template, 'Custom::PlatformOrchestratorRunner');
    expect(registration.Properties.TokenSecretArn).toBe(ctx.apiTokenSecretArn);
    expect(JSON.parse(rendered(s, registration.Properties.Rules))).toEqual([{ env_type_id: 'production' }]);
    const handlerRoleId = resourcesOfType(s.template, 'AWS::IAM::Role')
      .map(([id]) => id)
      .find((id) => id.startsWith('PlatformOrchestratorRegistrationProviderHandlerRole'))!;
    const secretStatements = statementsOfRole(Template.fromJSON(s.template), handlerRoleId).filter((st) =>
      [st.Action].flat().some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements.map((st) => st.Resource)).toEqual([ctx.apiTokenSecretArn]);
  },

  'existing-cluster': (synth) => {
    const [s] = synth.stacks;
    const [runner] = synth.runners;
    expect(countOfType(synth, 'AWS::ECS::Cluster')).toBe(0);
    expect(countOfType(synth, 'AWS::ECS::ClusterCapacityProviderAssociations')).toBe(0);
    const body = synth.bodies.get(runner.runnerId);
    expect(body.runner_configuration.job.cluster).toBe(synth.context.clusterName);
    expect(body.runner_configuration.job.subnets).toEqual(synth.context.privateSubnetIds);
    // RunTask only on that cluster, by its real ARN.
    const manager = s.template.Resources[logicalIdOf(runner, 'Roles/TaskManagerPolicy')];
    const runTask = manager.Properties.PolicyDocument.Statement.find((st: any) => st.Action === 'ecs:RunTask');
    expect(rendered(s, runTask.Condition)).toEqual(
      expect.objectContaining({
        ArnEquals: { 'ecs:cluster': `arn:aws:ecs:${s.region}:${ACCOUNT}:cluster/${synth.context.clusterName}` },
      }),
    );
    // The runner made an egress-only security group in the imported VPC.
    expect(only(s.template, 'AWS::EC2::SecurityGroup')[1].Properties.VpcId).toBe(synth.context.vpcId);
  },

  'second-runner-in-account': (synth) => {
    const platform = synth.stackNamed('PlatformEcsRunners');
    const team = synth.stackNamed('TeamEcsRunner');
    expect(resourcesOfType(platform.template, 'AWS::IAM::OIDCProvider')).toHaveLength(1);
    expect(resourcesOfType(team.template, 'AWS::IAM::OIDCProvider')).toHaveLength(0);
    expect(team.dependencies).toEqual([platform.stack.artifactId]);
    expect(synth.runners).toHaveLength(3);
    expect(new Set(synth.runners.map((r) => r.runnerId)).size).toBe(3);
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.humanitec.dev`;
    for (const runner of synth.runners) {
      const s = Stack.of(runner) === team.stack ? team : platform;
      expect([runner.node.path, trustedProviderArns(s, runner)]).toEqual([runner.node.path, [providerArn]]);
    }
    // Two runners in one stack share its one provider; no stack references another.
    for (const s of synth.stacks) expect(JSON.stringify(s.template)).not.toContain('Fn::ImportValue');

    // In an account that already has the provider, no stack creates it.
    const existing = synthesize(synth.name, { existingOidcProviderArn: providerArn });
    expect(countOfType(existing, 'AWS::IAM::OIDCProvider')).toBe(0);
    expect(existing.runners).toHaveLength(3);
    for (const runner of existing.runners) {
      const s = existing.stacks.find((x) => x.stack === Stack.of(runner))!;
      expect(trustedProviderArns(s, runner)).toEqual([providerArn]);
    }
  },

  'multi-region': (synth) => {
    const regions: { region: string }[] = synth.context.regions;
    expect(synth.stacks.map((s) => s.region)).toEqual(regions.map((r) => r.region));
    // One provider per account: in the first region's stack only.
    expect(countOfType(synth, 'AWS::IAM::OIDCProvider')).toBe(1);
    const [home, ...others] = synth.stacks;
    expect(resourcesOfType(home.template, 'AWS::IAM::OIDCProvider')).toHaveLength(1);
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.humanitec.dev`;
    for (const s of synth.stacks) {
      const [runner] = synth.runners.filter((r) => Stack.of(r) === s.stack);
      expect(trustedProviderArns(s, runner)).toEqual([providerArn]);
      expect(synth.bodies.get(runner.runnerId).runner_configuration.job.region).toBe(s.region);
      // No cross-region (or any cross-stack) reference.
      expect(JSON.stringify(s.template)).not.toContain('Fn::ImportValue');
    }
    for (const s of others) expect(s.dependencies).toEqual([home.stack.artifactId]);
    expect([...synth.bodies.keys()].sort()).toEqual(
      regions.map((r) => `${synth.context.runnerIdPrefix}-${r.region}`).sort(),
    );
  },

  'cross-account': (synth) => {
    const [s] = synth.stacks;
    const [runner] = synth.runners;
    const roleArns: string[] = synth.context.deploymentRoleArns;
    expect(new Set(roleArns.map((arn) => arn.split(':')[4])).size).toBe(roleArns.length);
    const taskRoleId = logicalIdOf(runner, 'Roles/TaskRole');
    const statements = statementsOfRole(Template.fromJSON(s.template), taskRoleId);
    const assume = statements.filter((st) => [st.Action].flat().includes('sts:AssumeRole'));
    expect(assume).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: roleArns }),
    ]);
    // Nothing else of the task role reaches outside the runner's own account.
    for (const st of statements.filter((x) => x !== assume[0])) {
      for (const resource of [rendered(s, st.Resource)].flat()) {
        expect(resource).not.toMatch(/^arn:aws:iam::(?!123456789012)/);
      }
    }
    expect(s.template.Outputs.TaskRoleArn.Value).toEqual({ 'Fn::GetAtt': [taskRoleId, 'Arn'] });
  },

  'private-networking': (synth) => {
    const [s] = synth.stacks;
    const [runner] = synth.runners;
    // An egress path: every job reaches the orchestrator's gateway and the provider registries over
    // HTTPS, which endpoints cannot carry. One NAT gateway in a public subnet.
    expect(countOfType(synth, 'AWS::EC2::NatGateway')).toBe(1);
    expect(countOfType(synth, 'AWS::EC2::InternetGateway')).toBe(1);
    const allSubnets = resourcesOfType(s.template, 'AWS::EC2::Subnet');
    expect(allSubnets).toHaveLength(4);
    const subnets = allSubnets.filter(([, subnet]) => subnet.Properties.MapPublicIpOnLaunch === false);
    expect(subnets).toHaveLength(2);
    // The jobs' subnets route 0.0.0.0/0 to the NAT gateway, not to the internet gateway.
    const routes = resourcesOfType(s.template, 'AWS::EC2::Route').map(([, r]) => r.Properties);
    const jobRouteTables = subnets.map(
      ([id]) =>
        resourcesOfType(s.template, 'AWS::EC2::SubnetRouteTableAssociation').find(
          ([, a]) => a.Properties.SubnetId.Ref === id,
        )![1].Properties.RouteTableId.Ref,
    );
    for (const table of jobRouteTables) {
      const defaults = routes.filter((r) => r.RouteTableId.Ref === table && r.DestinationCidrBlock === '0.0.0.0/0');
      expect(defaults).toEqual([expect.objectContaining({ NatGatewayId: expect.anything() })]);
    }
    // Jobs in the private subnets, without a public IP, with the ECR image.
    const job = synth.bodies.get(runner.runnerId).runner_configuration.job;
    expect(job.subnets).toEqual(subnets.map(([id]) => rendered(s, { Ref: id })));
    expect(job.is_public_ip_enabled).toBe(false);
    expect(job.image).toBe(synth.context.image);
    // The endpoints: every interface endpoint the construct knows, plus the S3 gateway.
    const endpoints = resourcesOfType(s.template, 'AWS::EC2::VPCEndpoint');
    const services = endpoints.map(([, e]) => rendered(s, e.Properties.ServiceName)).sort();
    expect(services).toEqual(
      [...RunnerVpcEndpoints.INTERFACE_ENDPOINT_NAMES, 's3'].map((n) => `com.amazonaws.${s.region}.${n}`).sort(),
    );
    for (const [, e] of endpoints.filter(([, x]) => x.Properties.VpcEndpointType === 'Interface')) {
      expect(e.Properties.PrivateDnsEnabled).toBe(true);
    }
    // Reachable on 443 from the runner's security group only.
    const runnerSg = logicalIdOf(runner, 'TaskSecurityGroup');
    const ingress = resourcesOfType(s.template, 'AWS::EC2::SecurityGroupIngress').map(([, i]) => i.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { 'Fn::GetAtt': [runnerSg, 'GroupId'] },
      }),
    ]);
    // The execution role may pull the private image.
    const pull = statementsOfRole(Template.fromJSON(s.template), logicalIdOf(runner, 'Roles/ExecutionRole')).find(
      (st) => st.Sid === 'PullJobImage',
    );
    const [, imageAccount, imageRegion, imageRepository] =
      /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(synth.context.image)!;
    expect(rendered(s, pull.Resource)).toBe(`arn:aws:ecr:${imageRegion}:${imageAccount}:repository/${imageRepository}`);
  },

  'migrate-from-terraform': (synth) => {
    const [s] = synth.stacks;
    const [runner] = synth.runners;
    const runnerId: string = synth.context.runnerId;
    expect(runner.runnerId).toBe(runnerId);
    // The module's bucket is kept: no bucket in the stack at all (no state, no access-logs bucket).
    expect(countOfType(synth, 'AWS::S3::Bucket')).toBe(0);
    const body = synth.bodies.get(runnerId);
    expect(body.id).toBe(runnerId);
    expect(body.state_storage_configuration).toEqual({ type: 's3', bucket: `${runnerId}-state` });
    expect(body.runner_configuration.job.security_groups).toEqual(synth.context.securityGroupIds);
    // The existing registration is updated in place.
    const [, registration] = only(s.template, 'Custom::PlatformOrchestratorRunner');
    expect(registration.Properties.AdoptExisting).toBe('true');
    expect(registration.Properties.RetainOnDelete).toBe('true');
    expect(registration.Properties.RunnerId).toBe(runnerId);
    // The module's OIDC provider is reused.
    expect(countOfType(synth, 'AWS::IAM::OIDCProvider')).toBe(0);
    expect(trustedProviderArns(s, runner)).toEqual([`arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.humanitec.dev`]);
  },
};

// ---------------------------------------------------------------------------------------------

beforeAll(() => ensureBundled());

test('examples/ has the examples of issue 5', () => {
  expect(EXAMPLES).toEqual(
    expect.arrayContaining([
      'basic',
      'complete-production',
      'existing-cluster',
      'second-runner-in-account',
      'multi-region',
      'cross-account',
      'private-networking',
      'migrate-from-terraform',
    ]),
  );
});

describe.each(EXAMPLES)('examples/%s', (example) => {
  const dir = path.join(EXAMPLES_DIR, example);
  let synth: Synth;

  test('has app.ts, cdk.json running it, README.md, and exports buildApp', () => {
    for (const file of ['app.ts', 'cdk.json', 'README.md']) {
      expect([file, existsSync(path.join(dir, file))]).toEqual([file, true]);
    }
    expect(cdkJson(example).app).toBe(CDK_JSON_APP);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('npx cdk deploy');
    // A fresh clone has no node_modules and no bundles: the README says what to run at the root first.
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('at the repository root: `npm ci');
    expect(typeof loadBuildApp(example)).toBe('function');
  });

  test('synthesizes offline; every RunnerCreateBody is valid', () => {
    synth = synthesize(example);
    expect(synth.stacks.length).toBeGreaterThan(0);
    expect(synth.runners.length).toBeGreaterThan(0);
    for (const s of synth.stacks) expect(Object.keys(s.template.Resources ?? {}).length).toBeGreaterThan(0);
    // One output per runner, each a valid body of its own runner in its stack's region.
    expect([...synth.bodies.keys()].sort()).toEqual(synth.runners.map((r) => r.runnerId).sort());
    for (const runner of synth.runners) {
      const body = synth.bodies.get(runner.runnerId);
      assertValid('RunnerCreateBody', body);
      expect(body.runner_configuration.job.region).toBe(Stack.of(runner).region);
    }
  });

  /** The synthesized example; the tests after the synth test need it. */
  const synthesized = (): Synth => {
    if (synth === undefined) throw new Error(`examples/${example} did not synthesize (see the test above)`);
    return synth;
  };

  test('shows what it is for', () => {
    const facts = FACTS[example];
    if (facts === undefined) {
      throw new Error(`examples/${example} has no entry in FACTS of ${path.basename(__filename)}: say what it shows`);
    }
    facts(synthesized());
  });

  test('templates match the snapshot', () => {
    const { stacks } = synthesized();
    expect(normalised(Object.fromEntries(stacks.map((s) => [s.name, s.template])))).toMatchSnapshot();
  });
});
