import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { freshTokenUpdate, serverWorkflowId, tokenGrantQuery, type TokenGrant } from '../workflows/definitions';
import { nonRetryable, WebServiceCallFailure } from './failures';

/** Where workers get tokens from: always the server's workflow, never a token request of their own. */
export interface TokenSource {
  /** A read that writes nothing to history. */
  current(server: string): Promise<TokenGrant>;
  /** Waits for the workflow to settle on a usable token, replacing `rejectedSerial` if it is still current. */
  fresh(server: string, rejectedSerial?: number): Promise<TokenGrant>;
}

export function workflowTokenSource(client: () => Client): TokenSource {
  const handle = (server: string) => client().workflow.getHandle(serverWorkflowId(server));
  return {
    current: (server) =>
      handle(server)
        .query(tokenGrantQuery)
        .catch((error: unknown) => {
          throw explain(server, error);
        }),
    fresh: (server, rejectedSerial) =>
      handle(server)
        .executeUpdate(freshTokenUpdate, { args: [{ rejectedSerial }] })
        .catch((error: unknown) => {
          throw explain(server, error);
        }),
  };
}

function explain(server: string, error: unknown): unknown {
  if (error instanceof WorkflowNotFoundError) {
    return nonRetryable(WebServiceCallFailure.ServerNotFound, `OAuth server ${server} does not exist`);
  }
  // The workflow refuses a fresh-token request with the disabled or not-authorized failure itself.
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type) {
    return nonRetryable(error.cause.type, error.cause.message);
  }
  return error;
}
