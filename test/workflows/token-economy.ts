/** Test workflows of the token-economy, Retry-After and redirect suites. */
import { sleep } from '@temporalio/workflow';
import { webServiceCall, type WebServiceCallInput, type WebServiceCallResult } from '../../src/workflow';

/** What became of one call of `callMany`: its HTTP status, or the failure that ended it. */
export type CallOutcome = { status: number } | { failure: string };

/**
 * Fires `count` identical calls at once, each a single attempt (a retry would hide a failure), and
 * reports every outcome rather than the first failure, so that a test sees all of them.
 */
export async function callMany(call: WebServiceCallInput, count: number): Promise<CallOutcome[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => webServiceCall(call, { retry: { maximumAttempts: 1 } })));
  return settled.map((outcome) => (outcome.status === 'fulfilled' ? { status: outcome.value.status } : { failure: describe(outcome.reason) }));
}

/**
 * Steady traffic for at least `durationMs` of workflow time: `callers` lanes, each making one call
 * (a single attempt) and then pausing `pauseMs`, reporting every outcome as `callMany` does.
 */
export async function callSteadily(call: WebServiceCallInput, { callers, pauseMs, durationMs }: { callers: number; pauseMs: number; durationMs: number }): Promise<CallOutcome[]> {
  const outcomes: CallOutcome[] = [];
  const until = Date.now() + durationMs;
  const lane = async () => {
    while (Date.now() < until) {
      const [outcome] = await Promise.allSettled([webServiceCall(call, { retry: { maximumAttempts: 1 } })]);
      outcomes.push(outcome.status === 'fulfilled' ? { status: outcome.value.status } : { failure: describe(outcome.reason) });
      await sleep(pauseMs);
    }
  };
  await Promise.all(Array.from({ length: callers }, lane));
  return outcomes;
}

/** A workflow author's call with the helper's default options, retry policy included. */
export async function callWithDefaults(call: WebServiceCallInput): Promise<WebServiceCallResult> {
  return webServiceCall(call);
}

function describe(error: unknown): string {
  const messages: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages.join(': ') || String(error);
}
