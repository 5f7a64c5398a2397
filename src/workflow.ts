/**
 * What workflow code imports: safe for the workflow sandbox (no I/O, no Node modules).
 * `import { webServiceCall } from 'temporal-oauth/workflow'`
 */
export { webServiceCall } from './workflows/web-service-call';
export type { WebServiceCallInput, WebServiceCallResult, WebServiceCallBody } from './activities/web-service-call-types';
export { WebServiceCallFailure } from './contract/failures';
export { OAuthServerDependency } from './workflows/oauth-dependency';
export { importSourceWorkflow, importProgressQuery, DEFAULT_SINK_ACTIVITY } from './workflows/import-source';
export type { ImportBatch, ImportSourceInput, ImportProgress } from './workflows/import-source';
export { withEncryptedInputTags } from './codec/encrypted-input-converter';
