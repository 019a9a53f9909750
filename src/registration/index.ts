// The registration's public construct API (what src/index.ts re-exports for jsii).
export { RunnerRegistration, RunnerRegistrationProps, RunnerRuleProps } from './runner-registration';
