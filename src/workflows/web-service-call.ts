import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES } from '../contract/failures';
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from '../contract/web-service-call-limits';
import { MAX_MAX_WAIT_MS } from '../oauth/config-bounds';
import type { WebServiceCallInput, WebServiceCallResult } from '../activities/web-service-call-types';

interface WebServiceCallActivity {
  webServiceCall(input: WebServiceCallInput): Promise<WebServiceCallResult>;
}

/**
 * The activity heartbeats while it waits for a token and while its request runs: a task lost by
 * the server or a worker that died is retried after this long, whatever the call's own timeout.
 */
const HEARTBEAT_TIMEOUT_MS = 10_000;

/** Time to report the outcome once the call's deadline has passed. */
const REPORT_MARGIN_MS = 30_000;

const DEFAULT_RETRY: ActivityOptions['retry'] = {
  maximumAttempts: 5,
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES],
};

/**
 * One attempt's bounds, from the call's own timeoutMs: the token wait (at most the longest maxWait
 * a server may have), then one deadline for every hop and the retry after a rejected token.
 */
function attemptTimeouts(input: WebServiceCallInput): Pick<ActivityOptions, 'startToCloseTimeout' | 'heartbeatTimeout'> {
  const { timeoutMs } = input;
  // An invalid timeout fails the activity as bad input at once; the bounds need only be sane until then.
  const callMs = typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS ? timeoutMs : DEFAULT_TIMEOUT_MS;
  return { startToCloseTimeout: MAX_MAX_WAIT_MS + callMs + REPORT_MARGIN_MS, heartbeatTimeout: HEARTBEAT_TIMEOUT_MS };
}

/**
 * Calls a web service with a token from the named OAuth server, from workflow code:
 * `await webServiceCall({ server: 'crm', method: 'GET', url })`. Temporal retries 5xx, 408, 429
 * (after `Retry-After`) and transport failures; a disabled server fails at once. Cancelling the
 * calling scope aborts the request.
 */
export function webServiceCall(input: WebServiceCallInput, options: Partial<ActivityOptions> = {}): Promise<WebServiceCallResult> {
  return proxyActivities<WebServiceCallActivity>({ ...attemptTimeouts(input), ...options, retry: { ...DEFAULT_RETRY, ...options.retry } }).webServiceCall(input);
}
