import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { failureFromClientError } from '../contract/client-errors';
import { freshTokenUpdate, serverWorkflowId, tokenGrantQuery, type TokenGrant } from '../contract/definitions';

/** Where workers get tokens from: always the server's workflow, never a token request of their own. */
export interface TokenSource {
  /** A read that writes nothing to history. */
  current(server: string): Promise<TokenGrant>;
  /** Waits for the workflow to settle on a usable token, replacing `rejectedSerial` if it is still current. */
  fresh(server: string, rejectedSerial?: number): Promise<TokenGrant>;
}

export function workflowTokenSource(client: () => Client): TokenSource {
  const handle = (server: string) => client().workflow.getHandle(serverWorkflowId(server));
  const current = (server: string) =>
    handle(server)
      .query(tokenGrantQuery)
      .catch((error: unknown) => {
        throw failureFromClientError(server, error);
      });
  return {
    current,
    fresh: (server, rejectedSerial) =>
      handle(server)
        .executeUpdate(freshTokenUpdate, { args: [{ rejectedSerial }] })
        .catch(async (error: unknown) => {
          // A deleted server's workflow has closed and takes no update, but still answers that it was deleted.
          if (error instanceof WorkflowNotFoundError) {
            const grant = await current(server).catch(() => undefined);
            if (grant?.status === 'Deleted') return grant;
          }
          throw failureFromClientError(server, error);
        }),
  };
}
