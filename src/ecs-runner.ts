import { Annotations, CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IDependable } from 'constructs';
import { RunnerCluster } from './compute/runner-cluster';
import { NetworkConfig, resolveRunnerConfig, RunnerConfig } from './config/runner-config';
import { createRunnerKey } from './encryption/runner-encryption';
import { EcsRunnerValidationError } from './errors';
import { PlatformOrchestratorOidcProvider } from './identity/oidc-provider';
import { grantJobSecrets, jobSecretArns } from './identity/job-secrets';
import { RunnerRoles } from './identity/runner-roles';
import { applyRoleGovernance } from './identity/role-governance';
import type { IEcsRunner } from './i-ecs-runner';
import { EcsRunnerProps } from './ecs-runner-props';
import { MANAGED_BY } from './managed-by';
import { RunnerMonitoring, RunnerMonitoringOptions } from './monitoring/runner-monitoring';
import { RunnerVpc } from './networking/runner-vpc';
import { Orchestrator } from './orchestrator';
import { runnerCreateBody } from './registration/runner-create-body';
import { RunnerRegistration } from './registration/runner-registration';
import { RUNNER_METADATA_KEY, RUNNER_METADATA_VERSION, RunnerMetadata } from './runner-metadata';
import { claimRunnerId } from './runner-ids';
import { RunnerAccessLogsBucket, RunnerStateStore } from './state/runner-state';
import { tagRunner } from './tagging';

export { MANAGED_BY };

/** Construct id of the RunnerMonitoring that `addMonitoring` adds (a public contract: it decides logical ids). */
const MONITORING_ID = 'Monitoring';

/**
 * A serverless ECS runner for the Platform Orchestrator.
 *
 * The orchestrator authenticates with an OIDC token, assumes the runner's task-manager role
 * and runs Terraform jobs as Fargate tasks on the runner's cluster, with the runner's
 * execution and task roles, keeping Terraform state in the runner's S3 bucket.
 * `registrationBody` (also a stack output) is what to register with the orchestrator.
 */
export class EcsRunner extends Construct implements IEcsRunner, ec2.IConnectable {
  /**
   * The value of the `ManagedBy` tag on every resource the library creates (also exported as
   * `MANAGED_BY` for TypeScript; this static is what the other jsii languages see).
   */
  public static readonly MANAGED_BY: string = MANAGED_BY;

  /** The runner's id in the orchestrator. */
  public readonly runnerId: string;
  /** The orchestrator organization. */
  public readonly orgId: string;
  /** The ECS cluster the jobs run on. */
  public readonly cluster: ecs.ICluster;
  /** The cluster's name. */
  public readonly clusterName: string;
  /** The cluster's ARN. */
  public readonly clusterArn: string;
  /** The Terraform state bucket. */
  public readonly stateBucket: s3.IBucket;
  /** Key prefix of the state objects in the bucket ('' for the whole bucket). */
  public readonly statePathPrefix: string;
  /** The role the orchestrator assumes with its OIDC token. */
  public readonly taskManagerRole: iam.IRole;
  /** The role ECS uses to start jobs (image, secrets). */
  public readonly executionRole: iam.IRole;
  /** The jobs' own role: Terraform state and whatever Terraform deploys. */
  public readonly taskRole: iam.IRole;
  /** ARN of the IAM OIDC provider the task-manager role trusts. */
  public readonly oidcProviderArn: string;
  /** The orchestrator the runner serves. */
  public readonly orchestrator: Orchestrator;
  /** The runner's customer managed KMS key, when it has one. */
  public readonly encryptionKey?: kms.IKey;
  /** The jobs' security groups. */
  public readonly connections: ec2.Connections;
  /** The VPC of the jobs, when it is known: `RunnerNetwork.fromVpc`'s, or the one the runner created. */
  public readonly vpc?: ec2.IVpc;
  /** The VPC the runner created (`RunnerNetwork.createVpc()`, the default). */
  public readonly createdVpc?: RunnerVpc;
  /** The subnets' ids, as registered. */
  public readonly subnetIds: string[];
  /** The security groups' ids, as registered. */
  public readonly securityGroupIds: string[];
  /**
   * The orchestrator API's `RunnerCreateBody` for this runner, as a JSON string (with
   * CloudFormation references resolved at deploy time). Also the stack output
   * `RunnerCreateBody`.
   */
  public readonly registrationBody: string;
  /** The stack output that carries `registrationBody`. */
  public readonly registrationBodyOutput: CfnOutput;
  /** The registration with the orchestrator, when `registration` is given. */
  public readonly registration?: RunnerRegistration;

  private readonly state: RunnerStateStore;

  constructor(scope: Construct, id: string, props: EcsRunnerProps) {
    super(scope, id);
    const config = resolveRunnerConfig(this, props);
    this.orchestrator = config.orchestrator;
    this.orgId = config.orgId;
    this.runnerId = config.runnerId;
    claimRunnerId(this, this.orgId, this.runnerId);

    this.encryptionKey = config.encryption.createKey ? createRunnerKey(this, this.runnerId) : config.encryption.key;
    this.oidcProviderArn =
      config.oidcProviderArn ?? PlatformOrchestratorOidcProvider.forIssuer(this, config.issuer).providerArn;
    this.createdVpc = this.createVpc(config);
    this.vpc = config.network.vpc ?? this.createdVpc?.vpc;
    this.subnetIds = jobSubnetIds(config.network, this.vpc);
    const securityGroups = this.securityGroups(config);
    this.connections = new ec2.Connections({ securityGroups });
    this.securityGroupIds = config.securityGroupIdList ?? securityGroups.map((sg) => sg.securityGroupId);
    const createdCluster = config.cluster
      ? undefined
      : new RunnerCluster(this, 'Cluster', { containerInsights: config.containerInsights, vpc: this.vpc });
    this.cluster = config.cluster ?? createdCluster!.cluster;
    this.clusterName = config.cluster?.clusterName ?? createdCluster!.clusterName;
    this.clusterArn = config.cluster?.clusterArn ?? createdCluster!.clusterArn;
    this.state = this.createState(config);
    this.stateBucket = this.state.bucket;
    this.statePathPrefix = this.state.pathPrefix;
    const roles = this.createRoles(config);
    this.taskManagerRole = roles.taskManagerRole;
    this.executionRole = roles.executionRole;
    this.taskRole = roles.taskRole;
    if (config.state.restrictAccess) {
      this.state.restrictObjectAccess([this.taskRole, ...config.state.administrators]);
    }

    this.registrationBody = Stack.of(this).toJsonString(this.createBody(config));
    this.registrationBodyOutput = new CfnOutput(this, 'RunnerCreateBody', {
      value: this.registrationBody,
      description: `Platform Orchestrator RunnerCreateBody of runner ${this.runnerId} (org ${this.orgId})`,
    });
    this.registration = this.createRegistration(config, [
      roles,
      this.state,
      ...(createdCluster ? [createdCluster] : []),
      ...(this.createdVpc ? [this.createdVpc] : []),
      ...securityGroups.filter((sg) => sg.node.scope === this),
    ]);
    this.applyGovernance(config);
    tagRunner(this, this.taskRole, config.tags, config.requiredTagKeys);
  }

  /**
   * Alarms, an alarm topic and a section on the stack's shared runner dashboard
   * (`PlatformOrchestratorRunnersDashboard`) for this runner's jobs and state (see
   * {@link RunnerMonitoring}). The topic and the events log group are encrypted with the runner's
   * key when it has one, and the registration handler's errors are alarmed on when the runner
   * registers itself. Call it once per runner: a second call is an error (its options would
   * otherwise be silently ignored, and a second monitoring would count every job twice).
   */
  public addMonitoring(options?: RunnerMonitoringOptions): RunnerMonitoring {
    // A plain JavaScript caller may pass null: no options, as undefined is.
    const given = options ?? {};
    const existing = this.node.tryFindChild(MONITORING_ID);
    if (existing !== undefined) {
      throw new EcsRunnerValidationError(
        'addMonitoring',
        existing.node.path,
        'one addMonitoring() call per runner: keep the RunnerMonitoring the first call returned and pass every option to that call',
      );
    }
    return new RunnerMonitoring(this, MONITORING_ID, {
      ...given,
      runner: this,
      encryptionKey: given.encryptionKey ?? this.encryptionKey,
      registrationFunction: given.registrationFunction ?? this.registration?.handlerFunction,
    });
  }

  /** Grant read and write access to this runner's Terraform state (objects, lock files, key). */
  public grantStateReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.state.grantStateReadWrite(grantee);
  }

  /** The VPC of the runner's own (`RunnerNetwork.createVpc()`, the default). */
  private createVpc(config: RunnerConfig): RunnerVpc | undefined {
    const options = config.network.createVpc;
    if (options === undefined) return undefined;
    return new RunnerVpc(this, 'Network', {
      natGateways: options.natGateways,
      flowLogGroupName: `/platform-orchestrator/${this.runnerId}/vpc-flow-logs`,
      retention: options.flowLogRetention,
      encryptionKey: this.encryptionKey,
    });
  }

  /** The given security groups and ids, or an egress-only group in a known VPC, or none (a warning). */
  private securityGroups(config: RunnerConfig): ec2.ISecurityGroup[] {
    const groups = [
      ...config.securityGroups,
      ...config.securityGroupIds.map((sgId, i) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `ImportedSecurityGroup${i}`, sgId, { mutable: false }),
      ),
    ];
    if (groups.length > 0 || config.securityGroupIdList) return groups;
    if (this.vpc) {
      return [
        new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
          vpc: this.vpc,
          description: 'Platform Orchestrator runner jobs: no inbound, outbound for images, providers and AWS APIs',
          allowAllOutbound: true,
        }),
      ];
    }
    Annotations.of(this).addWarningV2(
      'platform-orchestrator-ecs-runner:defaultSecurityGroup',
      'No security group: ECS attaches the VPC default security group to jobs. Pass RunnerNetwork.fromVpc(vpc) to get an egress-only group, or `securityGroups`.',
    );
    return groups;
  }

  private createState(config: RunnerConfig): RunnerStateStore {
    const state = config.state;
    const accessLogs = state.accessLogs;
    return new RunnerStateStore(this, 'State', {
      bucket: state.bucket,
      pathPrefix: state.pathPrefix,
      destroyOnRemoval: state.destroyOnRemoval,
      noncurrentVersionTransitionDays: state.noncurrentVersionTransitionDays,
      noncurrentVersionExpirationDays: state.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: state.abortIncompleteMultipartUploadDays,
      encryptionKey: this.encryptionKey,
      accessLogsBucket:
        accessLogs && (accessLogs.bucket ?? RunnerAccessLogsBucket.forStack(this, accessLogs.retentionDays)),
      accessLogsPrefix: `${this.runnerId}/`,
      replication: state.replication,
    });
  }

  /** The three roles, the metadata template readers need, and the execution role's secrets. */
  private createRoles(config: RunnerConfig): RunnerRoles {
    const familyScope = this.orchestrator.taskDefinitionFamilyScope(this.orgId);
    const roles = new RunnerRoles(this, 'Roles', {
      oidcProviderArn: this.oidcProviderArn,
      issuer: config.issuer,
      orgId: this.orgId,
      runnerId: this.runnerId,
      clusterArn: this.clusterArn,
      clusterName: this.clusterName,
      taskDefinitionFamilyScope: familyScope,
      maxTaskCpu: config.maxTaskCpu,
      maxTaskMemoryMiB: config.maxTaskMemoryMiB,
      secretsEncryptionKeys: config.secretsEncryptionKeys,
      image: config.image,
      assumableRoleArns: config.assumableRoleArns,
      taskRoleStatements: config.taskRoleStatements,
      taskRoleManagedPolicies: config.taskRoleManagedPolicies,
      stateStatements: this.state.stateAccessStatements(),
      stateWildcardReasons: RunnerStateStore.WILDCARD_REASONS,
    });
    // What tools that read only the template (po-ecs-runner check, the conformance tests) need.
    const metadata: RunnerMetadata = {
      version: RUNNER_METADATA_VERSION,
      orgId: this.orgId,
      runnerId: this.runnerId,
      orchestrator: {
        name: this.orchestrator.name,
        issuer: config.issuer,
        apiUrl: this.orchestrator.apiUrl,
        taskDefinitionFamilyPrefix: this.orchestrator.taskDefinitionFamilyPrefix,
        taskDefinitionFamilyScope: familyScope,
      },
    };
    (roles.taskManagerRole.node.defaultChild as iam.CfnRole).addMetadata(RUNNER_METADATA_KEY, metadata);
    grantJobSecrets(config.secrets, roles.executionRole);
    return roles;
  }

  private createBody(config: RunnerConfig) {
    return runnerCreateBody({
      runnerId: this.runnerId,
      description: config.description,
      taskManagerRoleArn: this.taskManagerRole.roleArn,
      sessionName: config.sessionName,
      stsRegion: config.stsRegion,
      region: Stack.of(this).region,
      clusterName: this.clusterName,
      subnetIds: this.subnetIds,
      securityGroupIds: this.securityGroupIds,
      assignPublicIp: config.assignPublicIp,
      executionRoleArn: this.executionRole.roleArn,
      taskRoleArn: this.taskRole.roleArn,
      image: config.image,
      environment: config.environment,
      secrets: jobSecretArns(config.secrets),
      bucketName: this.stateBucket.bucketName,
      pathPrefix: this.statePathPrefix === '' ? undefined : this.statePathPrefix,
    });
  }

  /**
   * The registration on deploy. The orchestrator may start jobs as soon as the runner is
   * registered and until it is deregistered: register after, and deregister before, everything a
   * job needs (`jobNeeds`: the roles' policies, the cluster, the security group, the state bucket
   * and its policy), not only what the body references.
   */
  private createRegistration(config: RunnerConfig, jobNeeds: IDependable[]): RunnerRegistration | undefined {
    if (config.registration === undefined) return undefined;
    const registration = new RunnerRegistration(this, 'Registration', {
      ...config.registration,
      runnerId: this.runnerId,
      orgId: this.orgId,
      body: this.registrationBody,
      apiUrl: this.orchestrator.apiUrl,
      permissionsBoundary: config.permissionsBoundary,
      rolePath: config.rolePath,
      encryptionKey: this.encryptionKey,
    });
    registration.node.addDependency(...jobNeeds);
    return registration;
  }

  /**
   * Boundary and path on every role under the runner, and on the stack-level providers it uses:
   * the one that deletes a test stack's state objects, and the one that empties the created VPC's
   * default security group.
   */
  private applyGovernance(config: RunnerConfig): void {
    const stack = Stack.of(this);
    const providers = [
      config.state.destroyOnRemoval && stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider'),
      this.createdVpc && stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider'),
    ];
    for (const scope of [this, ...providers]) {
      if (scope) applyRoleGovernance(scope, config.permissionsBoundary, config.rolePath);
    }
  }
}

/**
 * The jobs' subnets: the given ones, or the private subnets with egress of the known VPC (the
 * runner's own, or `RunnerNetwork.fromVpc`'s).
 */
function jobSubnetIds(network: NetworkConfig, vpc: ec2.IVpc | undefined): string[] {
  if (network.subnetIds) return network.subnetIds;
  if (network.subnets) return network.subnets.map((s) => s.subnetId);
  return vpc!.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
}
