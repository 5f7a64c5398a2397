/** Test workflows of the token-economy, Retry-After and redirect suites. */
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

/** A workflow author's call with the helper's default options, retry policy included. */
export async function callWithDefaults(call: WebServiceCallInput): Promise<WebServiceCallResult> {
  return webServiceCall(call);
}

function describe(error: unknown): string {
  const messages: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages.join(': ') || String(error);
}
