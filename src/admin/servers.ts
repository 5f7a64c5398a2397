import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ServerAlreadyExistsError } from './errors';
import { parseOAuthServerConfig } from '../oauth/config';
import { authorizeUpdate, OAUTH_SERVER_WORKFLOW_TYPE, serverViewQuery, serverWorkflowId, type ServerView } from '../workflows/definitions';
import type { oauthServerWorkflow } from '../workflows/oauth-server';
import { OAUTH_SERVER_CATEGORY, OAUTH_SERVER_NAME, OAUTH_SERVER_STATUS } from '../workflows/search-attributes';

export interface AdminOptions {
  /** The task queue of the workers that run the plugin. */
  taskQueue: string;
}

/**
 * Saves a new OAuth server and waits for its first token request. The server is saved even when
 * that request fails: the returned view then shows status Error and the reason.
 */
export async function createServer(client: Client, input: unknown, { taskQueue }: AdminOptions): Promise<ServerView> {
  const config = parseOAuthServerConfig(input);
  const start = new WithStartWorkflowOperation<typeof oauthServerWorkflow>(OAUTH_SERVER_WORKFLOW_TYPE, {
    workflowId: serverWorkflowId(config.name),
    taskQueue,
    args: [{ config }],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: OAUTH_SERVER_NAME, value: config.name },
      { key: OAUTH_SERVER_CATEGORY, value: config.category },
      { key: OAUTH_SERVER_STATUS, value: 'NotAuthorized' },
    ],
  });
  try {
    return await client.workflow.executeUpdateWithStart(authorizeUpdate, { startWorkflowOperation: start });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ServerAlreadyExistsError(config.name);
    throw error;
  }
}

export function showServer(client: Client, name: string): Promise<ServerView> {
  return client.workflow.getHandle(serverWorkflowId(name)).query(serverViewQuery);
}

/** Asks the server for a token now; after a disable this is the admin's re-authorization. */
export function authorizeServer(client: Client, name: string): Promise<ServerView> {
  return client.workflow.getHandle(serverWorkflowId(name)).executeUpdate(authorizeUpdate);
}
