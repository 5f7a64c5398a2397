import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES } from '../contract/failures';
import type { WebServiceCallInput, WebServiceCallResult } from '../activities/web-service-call-types';

interface WebServiceCallActivity {
  webServiceCall(input: WebServiceCallInput): Promise<WebServiceCallResult>;
}

const DEFAULT_OPTIONS: ActivityOptions = {
  // Room for the token wait, one token-rejection retry and a few same-origin redirects.
  startToCloseTimeout: '5 minutes',
  retry: {
    maximumAttempts: 5,
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES],
  },
};

/**
 * Calls a web service with a token from the named OAuth server, from workflow code:
 * `await webServiceCall({ server: 'crm', method: 'GET', url })`. Temporal retries 5xx, 408, 429
 * (after `Retry-After`) and transport failures; a disabled server fails at once.
 */
export function webServiceCall(input: WebServiceCallInput, options: Partial<ActivityOptions> = {}): Promise<WebServiceCallResult> {
  return proxyActivities<WebServiceCallActivity>({ ...DEFAULT_OPTIONS, ...options, retry: { ...DEFAULT_OPTIONS.retry, ...options.retry } }).webServiceCall(
    input,
  );
}
