import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, type MetricTags } from '@temporalio/common';
import { WebServiceCallFailure } from '../contract/failures';
import { normaliseServerName } from '../oauth/server-name';
import type { TellDependentsInput, TellDependentsResult } from './tell-dependents';
import type { TokenCacheObserver } from './token-cache';
import { DEFAULT_METHOD } from './web-service-call-input';
import type { AcquireTokenInput, AcquiredToken } from './acquire-token';
import type { WebServiceCallInput, WebServiceCallResult } from './web-service-call-types';

/**
 * The worker-side metrics, recorded through the activity's own meter: they reach whatever the
 * worker's Runtime exports (Prometheus, OpenTelemetry), with its namespace and task queue as tags.
 * Labels are bounded and never carry a token, secret, URL path or query: server name, outcome,
 * status class and method only.
 */
export const ActivityMetric = {
  TokenRequests: { name: 'temporal_oauth_token_requests', help: 'Token requests (token activity attempts) by server and outcome' },
  TokenRequestDuration: { name: 'temporal_oauth_token_request_duration_milliseconds', help: 'Duration of a token request, by server and outcome' },
  TokenCacheHits: { name: 'temporal_oauth_token_cache_hits', help: "Calls answered at once from the worker's token cache, by server" },
  TokenCacheWaits: { name: 'temporal_oauth_token_cache_waits', help: "Calls that waited for the server's workflow for a token or its status, by server" },
  WebServiceCalls: { name: 'temporal_oauth_web_service_calls', help: 'webServiceCall attempts by server, method and status class' },
  WebServiceCallDuration: {
    name: 'temporal_oauth_web_service_call_duration_milliseconds',
    help: 'Duration of a webServiceCall attempt (token wait included), by server, method and status class',
  },
  FanOutDuration: { name: 'temporal_oauth_fan_out_duration_milliseconds', help: "Duration of telling a server's dependents of a change (one activity), by server" },
} as const;

interface MetricSpec {
  name: string;
  help: string;
}

function counter({ name, help }: MetricSpec) {
  return Context.current().metricMeter.createCounter(name, undefined, help);
}

function histogram({ name, help }: MetricSpec) {
  return Context.current().metricMeter.createHistogram(name, 'int', 'ms', help);
}

/** What a webServiceCall got: the class of the status it ended with, or why there was none. */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'network_error' | 'refused' | 'cancelled';

/** Counts and times one run of `work`, labelled by what `outcome` makes of how it ended. */
async function measured<T>(
  count: MetricSpec,
  time: MetricSpec,
  tags: MetricTags,
  outcome: (settled: { value: T } | { error: unknown }) => MetricTags,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const record = (settled: { value: T } | { error: unknown }) => {
    const labels = { ...tags, ...outcome(settled) };
    counter(count).add(1, labels);
    histogram(time).record(Math.round(performance.now() - started), labels);
  };
  try {
    const value = await work();
    record({ value });
    return value;
  } catch (error) {
    record({ error });
    throw error;
  }
}

/** Each token request (one activity attempt) by server and outcome: `ok`, the token failure's code, or `cancelled`. */
export function withTokenRequestMetrics(acquire: (input: AcquireTokenInput) => Promise<AcquiredToken>) {
  return async function acquireOAuthToken(input: AcquireTokenInput): Promise<AcquiredToken> {
    return measured(ActivityMetric.TokenRequests, ActivityMetric.TokenRequestDuration, { server: normaliseServerName(input.config.name) }, tokenOutcome, () =>
      acquire(input),
    );
  };
}

function tokenOutcome(settled: { value: unknown } | { error: unknown }): MetricTags {
  if (!('error' in settled)) return { outcome: 'ok' };
  if (isCancellation(settled.error)) return { outcome: 'cancelled' };
  // The activity's failure types are a fixed set (TOKEN_FAILURE_TYPES), so they make a bounded label.
  return { outcome: settled.error instanceof ApplicationFailure && settled.error.type ? settled.error.type : 'unexpected_error' };
}

/** Each webServiceCall attempt by server, method and status class, with its duration (token wait included). */
export function withWebServiceCallMetrics(call: (input: WebServiceCallInput) => Promise<WebServiceCallResult>) {
  return async function webServiceCall(input: WebServiceCallInput): Promise<WebServiceCallResult> {
    return measured(ActivityMetric.WebServiceCalls, ActivityMetric.WebServiceCallDuration, {}, (settled) => callLabels(input, settled), () => call(input));
  };
}

/**
 * Every call but one refused as bad input got past the input's check, so its server is a name and
 * its method one of the six; bad input has empty ones (no server's name is empty), since what an
 * author wrote there would be an unbounded label, and might be anything.
 */
function callLabels(input: WebServiceCallInput, settled: { value: WebServiceCallResult } | { error: unknown }): MetricTags {
  const invalid = 'error' in settled && settled.error instanceof ApplicationFailure && settled.error.type === WebServiceCallFailure.InvalidInput;
  return {
    server: invalid ? '' : normaliseServerName(input.server),
    method: invalid ? '' : (input.method ?? DEFAULT_METHOD),
    status_class: 'error' in settled ? failureClass(settled.error) : statusClass(settled.value.status),
  };
}

function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

/** The failures of a call that got an answer: their details carry its status. */
const ANSWERED: ReadonlySet<string> = new Set([
  WebServiceCallFailure.HttpClientError,
  WebServiceCallFailure.HttpRetryableStatus,
  WebServiceCallFailure.RetryAfterTooLong,
  WebServiceCallFailure.ResponseTooLarge,
  WebServiceCallFailure.InvalidResponseBody,
  WebServiceCallFailure.RedirectRefused,
]);

/** An answered failure is classed by the answer's status; a transport failure had none; any other was refused before a request left. */
function failureClass(error: unknown): StatusClass {
  if (isCancellation(error)) return 'cancelled';
  if (!(error instanceof ApplicationFailure) || error.type === WebServiceCallFailure.HttpTransport) return 'network_error';
  const status = ANSWERED.has(error.type ?? '') ? (error.details?.[0] as { status?: unknown } | undefined)?.status : undefined;
  return typeof status === 'number' ? statusClass(status) : 'refused';
}

function isCancellation(error: unknown): boolean {
  return error instanceof CancelledFailure || Context.current().cancellationSignal.aborted;
}

/** How long telling a server's dependents took, by server (one activity per change; several in runs begun before the byte budget). */
export function withFanOutMetrics(tell: (input: TellDependentsInput) => Promise<TellDependentsResult>) {
  return async function tellOAuthDependents(input: TellDependentsInput): Promise<TellDependentsResult> {
    const started = performance.now();
    try {
      return await tell(input);
    } finally {
      histogram(ActivityMetric.FanOutDuration).record(Math.round(performance.now() - started), { server: normaliseServerName(input.message.server) });
    }
  };
}

/** Counts, by server, the calls the worker's token cache answered at once (hits) and those that waited for the server's workflow. */
export const tokenCacheMetrics: TokenCacheObserver = {
  hit: (server) => counter(ActivityMetric.TokenCacheHits).add(1, { server: normaliseServerName(server) }),
  wait: (server) => counter(ActivityMetric.TokenCacheWaits).add(1, { server: normaliseServerName(server) }),
};
