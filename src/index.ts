export * from './ecs-runner';
export { RunnerErrors } from './errors';
export { ContainerInsightsMode } from './compute/runner-cluster';
export * from './orchestrator';
export { PlatformOrchestratorOidcProvider } from './identity/oidc-provider';
export { StateReplication } from './state/runner-state';
export * from './monitoring/runner-monitoring';
export * from './networking/runner-vpc-endpoints';
export * from './registration';
