// The registration's public construct API (what src/index.ts re-exports for jsii).
export {
  RegistrationOptions,
  RunnerRegistration,
  RunnerRegistrationProps,
  RunnerRuleProps,
} from './runner-registration';
