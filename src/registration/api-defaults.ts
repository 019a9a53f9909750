/**
 * Defaults shared by the registration construct (deploy-time configuration of its handler) and
 * the API client the handler and the CLI use. A module of its own so construct code never loads
 * the client.
 */

/** Humanitec's hosted orchestrator. A self-hosted Stellwerk installation has its own URL. */
export const DEFAULT_API_URL = 'https://api.humanitec.dev';
/** Time all calls of one client (one CloudFormation event, one CLI command) may take together. */
export const DEFAULT_DEADLINE_MS = 240_000;
