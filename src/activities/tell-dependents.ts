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

export class FanOutOptionError extends Error {
  override readonly name = 'FanOutOptionError';
  readonly code = 'OAUTH_FAN_OUT_OPTION_INVALID';

  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`Invalid plugin option ${field}: ${rule}`);
  }
}

/**
 * Tells a server's dependents of a change in its availability, from the worker, so that the server's
 * own history grows by a few events per change whatever the number of dependents. A retry after a
 * crash signals everyone again: each message carries its sequence number, so a repeat is harmless.
 * Left out, `signalsInFlight` is every dependent of the activity at once, as a client signalling them
 * all would (P3's baseline); lower it where the Temporal service limits requests per second.
 */
export function createTellOAuthDependents(signalsInFlight?: number) {
  if (signalsInFlight !== undefined && (!Number.isSafeInteger(signalsInFlight) || signalsInFlight < 1)) {
    throw new FanOutOptionError('fanOutSignalsInFlight', 'must be a positive whole number');
  }
  return async function tellOAuthDependents({ message, workflowIds }: TellDependentsInput): Promise<TellDependentsResult> {
    const context = Context.current();
    return tellAll(context.client, message, workflowIds, signalsInFlight ?? workflowIds.length, () => context.heartbeat());
  };
}

export async function tellAll(
  client: Client,
  message: ServerAvailability,
  workflowIds: readonly string[],
  signalsInFlight: number,
  heartbeat: () => void,
): Promise<TellDependentsResult> {
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
  await Promise.all(Array.from({ length: Math.min(signalsInFlight, workflowIds.length) }, lane));
  return { ended };
}
