export * from './ecs-runner';
export { RunnerErrors } from './errors';
export { CapacityStrategy, ContainerInsightsMode } from './compute/runner-cluster';
export { PlatformOrchestratorOidcProvider } from './identity/oidc-provider';
export { StateReplication } from './state/runner-state';
export * from './monitoring/runner-monitoring';
export * from './networking/runner-vpc-endpoints';
export * from './registration';
export { RunnerVpc, RunnerVpcProps } from './networking/runner-vpc';
