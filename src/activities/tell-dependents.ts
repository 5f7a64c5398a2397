import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { dependentsQuery, serverAvailabilitySignal, type ServerAvailability } from '../contract/definitions';

/**
 * Whom to tell: the dependents a server's workflow lists when the activity asks it (`dependentsOf`,
 * its workflow ID), so that the server's history records a few bytes per change whatever the number
 * of dependents; or, from runs begun before that, their IDs in the input itself.
 */
export type TellDependentsInput = { message: ServerAvailability } & ({ dependentsOf: string } | { workflowIds: string[] });

export interface TellDependentsResult {
  /** Dependents that no longer run: the server forgets them. */
  ended: string[];
}

/** The server's workflow answered the dependents query with something other than a list of workflow IDs. */
export class DependentsAnswerError extends Error {
  override readonly name = 'DependentsAnswerError';
  readonly code = 'OAUTH_DEPENDENTS_ANSWER_INVALID';

  constructor(
    readonly workflowId: string,
    rule: string,
  ) {
    super(`Invalid answer of ${workflowId} to the dependents query: ${rule}`);
  }
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
  return async function tellOAuthDependents(input: TellDependentsInput): Promise<TellDependentsResult> {
    const { message } = input;
    const context = Context.current();
    const workflowIds = 'workflowIds' in input ? input.workflowIds : await dependentsOf(context, input.dependentsOf);
    const send = (workflowId: string) => context.client.workflow.getHandle(workflowId).signal(serverAvailabilitySignal, message);
    return signalEach(workflowIds, send, { signalsInFlight: signalsInFlight ?? workflowIds.length, heartbeat: () => context.heartbeat() });
  };
}

/** A query can wait long for a busy worker to replay the server: the activity heartbeats meanwhile, so it is not taken for dead. */
const HEARTBEAT_WHILE_ASKING_MS = 5_000;
/** Past this, the attempt fails and Temporal retries it, rather than heartbeating over a query that hangs. */
const QUERY_DEADLINE_MS = 60_000;

async function dependentsOf(context: Context, serverWorkflowId: string): Promise<string[]> {
  const { client } = context;
  context.heartbeat();
  const beating = setInterval(() => context.heartbeat(), HEARTBEAT_WHILE_ASKING_MS);
  try {
    const ask = () => client.workflow.getHandle(serverWorkflowId).query(dependentsQuery);
    const answer: unknown = await client.withAbortSignal(context.cancellationSignal, () => client.withDeadline(Date.now() + QUERY_DEADLINE_MS, ask));
    if (!Array.isArray(answer)) throw new DependentsAnswerError(serverWorkflowId, 'must be a list');
    if (!answer.every((workflowId) => typeof workflowId === 'string' && workflowId.length > 0)) {
      throw new DependentsAnswerError(serverWorkflowId, 'every item must be a workflow ID (a non-empty string)');
    }
    return answer as string[];
  } finally {
    clearInterval(beating);
  }
}

/** Passes over the dependents still untold, each after a longer pause, before the activity fails and Temporal retries it whole. */
const SIGNAL_PASSES = 4;
const FIRST_PASS_PAUSE_MS = 500;

export interface SignalEachOptions {
  signalsInFlight: number;
  heartbeat: () => void;
  /** Between passes; a parameter so that the pure tests do not wait. */
  pause?: (ms: number) => Promise<void>;
}

/**
 * Sends `send` to every workflow ID, `signalsInFlight` at a time. Thousands of signals at once can
 * make the Temporal service drop a few (10,000 at once on the dev server here): those, and only
 * those, are sent again in the next pass, so one dropped signal does not cost the activity a retry
 * that signals everyone again. Workflows that no longer exist are reported as ended.
 */
export async function signalEach(
  workflowIds: readonly string[],
  send: (workflowId: string) => Promise<void>,
  { signalsInFlight, heartbeat, pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }: SignalEachOptions,
): Promise<TellDependentsResult> {
  const ended: string[] = [];
  let untold = workflowIds;
  let lastError: unknown;
  for (let pass = 0; untold.length > 0; pass += 1) {
    if (pass === SIGNAL_PASSES) {
      throw new Error(`could not signal ${untold.length} of ${workflowIds.length} dependents in ${SIGNAL_PASSES} passes`, { cause: lastError });
    }
    if (pass > 0) await pause(FIRST_PASS_PAUSE_MS * 2 ** (pass - 1));
    const failed: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < untold.length) {
        const workflowId = untold[next++]!;
        try {
          await send(workflowId);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) ended.push(workflowId);
          else {
            failed.push(workflowId);
            lastError = error;
          }
        }
        heartbeat();
      }
    };
    await Promise.all(Array.from({ length: Math.min(signalsInFlight, untold.length) }, lane));
    untold = failed;
  }
  return { ended };
}
