import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { TokenFailureDetails } from '../activities/acquire-token';
import type { DisabledReason } from '../contract/definitions';
import { tokenFailureWords, withNetworkWords } from '../oauth/plain-words';

/** Turns the failure of a whole token acquisition into the reason an admin sees. */
export function disabledReasonFrom(failure: ActivityFailure, elapsedMs: number, at: number, maxWaitMs: number): DisabledReason {
  const cause = failure.cause;
  let reason: Omit<DisabledReason, 'message' | 'elapsedMs' | 'at'>;
  if (cause instanceof ApplicationFailure && isTokenFailureDetails(cause.details?.[0])) {
    const details = cause.details[0];
    reason = { code: details.code, description: details.description, httpStatus: details.status, attempts: details.attempt };
  } else if (cause instanceof TimeoutFailure) {
    // The activity normally fails on its own just before the deadline; this is the rare case where Temporal's timer won.
    reason = { code: 'timeout', description: `no token within the maximum wait of ${formatSeconds(maxWaitMs)}` };
  } else {
    reason = { code: 'unexpected_error', description: cause?.message ?? failure.message };
  }
  return { ...reason, elapsedMs, at: new Date(at).toISOString(), message: describe(reason, elapsedMs) };
}

function isTokenFailureDetails(value: unknown): value is TokenFailureDetails {
  return typeof value === 'object' && value !== null && 'code' in value && 'attempt' in value;
}

function describe(reason: Omit<DisabledReason, 'message' | 'elapsedMs' | 'at'>, elapsedMs: number): string {
  const status = reason.httpStatus === undefined ? '' : ` (HTTP ${reason.httpStatus})`;
  const description = reason.description ? `: ${withNetworkWords(reason.description)}` : '';
  const attempts = reason.attempts === undefined ? '' : ` ${reason.attempts} attempt${reason.attempts === 1 ? '' : 's'} in`;
  const { what, todo } = tokenFailureWords(reason.code);
  return `${what}. ${todo}. Details: ${reason.code}${status}${description}; gave up after${attempts} ${formatSeconds(elapsedMs)}`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
