import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { registerDependentUpdate, serverWorkflowId, type ServerAvailability } from '../workflows/definitions';
import { nonRetryable, WebServiceCallFailure } from './failures';

export interface RegisterDependentInput {
  server: string;
  workflowId: string;
}

/**
 * Workflows cannot send updates to each other, so a dependent registers with its OAuth server
 * through this activity, and gets the server's availability in the same step.
 */
export async function registerOAuthDependent({ server, workflowId }: RegisterDependentInput): Promise<ServerAvailability> {
  try {
    return await Context.current()
      .client.workflow.getHandle(serverWorkflowId(server))
      .executeUpdate(registerDependentUpdate, { args: [{ workflowId }] });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw nonRetryable(WebServiceCallFailure.ServerNotFound, `OAuth server ${server} does not exist`);
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      throw nonRetryable(error.cause.type ?? 'OAuthServerRegistrationRefused', error.cause.message);
    }
    throw error;
  }
}
