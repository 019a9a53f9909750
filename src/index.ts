export * from './ecs-runner';
export { RunnerErrors } from './errors';
export { CapacityStrategy } from './compute/runner-cluster';
export { PlatformOrchestratorOidcProvider } from './identity/oidc-provider';
export { StateReplication } from './state/runner-state';
