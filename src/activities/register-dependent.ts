import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ServerAvailability } from '../workflows/definitions';
import type { DependentRegistrations } from './dependent-registrations';
import { nonRetryable, WebServiceCallFailure } from './failures';

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
    try {
      const { client, cancellationSignal } = Context.current();
      return await registrations().register(client, server, workflowId, cancellationSignal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw nonRetryable(WebServiceCallFailure.ServerNotFound, `OAuth server ${server} does not exist`);
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        throw nonRetryable(error.cause.type ?? 'OAuthServerRegistrationRefused', error.cause.message);
      }
      throw error;
    }
  };
}
