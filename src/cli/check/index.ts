/**
 * The conformance engine (run-time code, excluded from jsii): the contract's calls for the
 * runners of a synthesized template, and their offline evaluation.
 */
export * from './contract';
export { contractCalls, stateKey, taskFamily, SAMPLE } from './calls';
export { evaluate, wildcardMatch, describeStatement } from './evaluator';
export type { Evaluation, EvaluationRequest, LocatedStatement, RequestPrincipal, Statement } from './evaluator';
export { readTemplate, knownOrchestrator, TemplateError, HUMANITEC_ISSUER } from './model';
export type { ModelOptions, OrchestratorName, RunnerModel, TemplateModel } from './model';
export { contractCallsFromTemplate, evaluateOffline, evaluateCall, evaluationRequest } from './offline';
export type { RunnerCalls, RunnerResults } from './offline';
