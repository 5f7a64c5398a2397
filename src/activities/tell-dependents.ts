import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { serverAvailabilitySignal, type ServerAvailability } from '../contract/definitions';

export interface TellDependentsInput {
  message: ServerAvailability;
  workflowIds: string[];
}

export interface TellDependentsResult {
  /** Dependents that no longer run: the server forgets them. */
  ended: string[];
}

/**
 * Signals in flight at once. FACTS: a client signalling 1,000 waiting workflows at once is the
 * baseline a fan-out is measured against; this many keeps the client that fast without opening
 * thousands of calls at a time.
 */
const SIGNALS_IN_FLIGHT = 200;

/**
 * Tells a server's dependents of a change in its availability, from the worker, so that the server's
 * own history grows by a few events per change whatever the number of dependents. A retry after a
 * crash signals everyone again: each message carries its sequence number, so a repeat is harmless.
 */
export function createTellOAuthDependents() {
  return async function tellOAuthDependents({ message, workflowIds }: TellDependentsInput): Promise<TellDependentsResult> {
    const context = Context.current();
    return tellAll(context.client, message, workflowIds, () => context.heartbeat());
  };
}

export async function tellAll(client: Client, message: ServerAvailability, workflowIds: readonly string[], heartbeat: () => void): Promise<TellDependentsResult> {
  const ended: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < workflowIds.length) {
      const workflowId = workflowIds[next++]!;
      try {
        await client.workflow.getHandle(workflowId).signal(serverAvailabilitySignal, message);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        ended.push(workflowId);
      }
      heartbeat();
    }
  };
  await Promise.all(Array.from({ length: Math.min(SIGNALS_IN_FLIGHT, workflowIds.length) }, lane));
  return { ended };
}
