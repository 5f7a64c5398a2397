import { Context } from '@temporalio/activity';
import { failureFromClientError } from '../contract/client-errors';
import type { ServerAvailability } from '../contract/definitions';
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
    try {
      const { client, cancellationSignal } = Context.current();
      return await registrations().register(client, server, workflowId, cancellationSignal);
    } catch (error) {
      throw failureFromClientError(server, error);
    }
  };
}
