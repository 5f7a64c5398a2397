/** The workflows the plugin adds to a worker. */
export { oauthServerWorkflow } from './oauth-server';
export { importSourceWorkflow } from './import-source';
