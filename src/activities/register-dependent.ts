import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { failureFromClientError } from '../contract/client-errors';
import { serverWorkflowId, type ServerAvailability } from '../contract/definitions';
import { nonRetryable, ServerFailure } from '../contract/failures';
import type { DependentRegistrations } from './dependent-registrations';

export interface RegisterDependentInput {
  server: string;
  workflowId: string;
}

/**
 * Workflows cannot send updates to each other, so a dependent registers with its OAuth server
 * through this activity, and gets the server's availability in the same step.
 */
export function createRegisterOAuthDependent(registrations: () => DependentRegistrations) {
  return async function registerOAuthDependent({ server, workflowId }: RegisterDependentInput): Promise<ServerAvailability> {
    const { client, cancellationSignal } = Context.current();
    try {
      return await registrations().register(client, server, workflowId, cancellationSignal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError && (await wasDeleted(client, server))) {
        throw nonRetryable(ServerFailure.Deleted, `OAuth server ${server} has been deleted`);
      }
      throw failureFromClientError(server, error);
    }
  };
}

/** A deleted server's workflow has ended but is still there: registering with it says deleted, as a call does. */
async function wasDeleted(client: Client, server: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(serverWorkflowId(server)).describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}
