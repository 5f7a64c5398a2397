import { Context } from '@temporalio/activity';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import { abortFailure, exchange } from './http-exchange';
import { redirectedHop, type Hop } from './redirect';
import { freshTokenRejected, isTokenRejection, resultOf, type ApiResponse, type ResponseContext } from './response-outcome';
import type { WorkerTokenCache, UsableToken } from './token-cache';
import { parseWebServiceCallInput, type ParsedWebServiceCallInput } from './web-service-call-input';
import type { WebServiceCallInput, WebServiceCallResult } from './web-service-call-types';

const MAX_REDIRECTS = 5;

/** When the activity has no heartbeat timeout of its own: still often enough to hear of a cancellation soon. */
const FALLBACK_HEARTBEAT_MS = 3_000;

/** The call's one deadline: every hop, the wait for a replaced token and the retry share it. */
interface Deadline {
  at: number;
  signal: AbortSignal;
}

/**
 * The authorized HTTP call workflow authors use. The token comes from the worker's cache of the
 * server workflow's token and goes only to the server's allowed origins, in a header, never in a URL.
 */
export function createWebServiceCall(tokensOfNamespace: () => WorkerTokenCache) {
  return async function webServiceCall(rawInput: WebServiceCallInput): Promise<WebServiceCallResult> {
    const input = parseWebServiceCallInput(rawInput);
    const context = Context.current();
    return whileHeartbeating(context, async () => {
      const tokens = tokensOfNamespace();
      let grant = await unlessAborted(tokens.get(input.server), context.cancellationSignal, input.url);
      const deadline = startDeadline(input.timeoutMs, context.cancellationSignal);
      try {
        let response = await callFollowingRedirects(input, grant, deadline);
        if (isTokenRejection(response, grant.invalidTokenStatuses)) {
          grant = await unlessAborted(tokens.replaceRejected(input.server, grant.token.serial), deadline.signal, input.url);
          response = await callFollowingRedirects(input, grant, deadline);
          if (isTokenRejection(response, grant.invalidTokenStatuses)) throw freshTokenRejected(response, callContext(input, grant));
        }
        return resultOf(response, callContext(input, grant), input.responseHeaders);
      } finally {
        deadline.end();
      }
    });
  };
}

/**
 * Heartbeats for as long as the call runs: a lost task or a dead worker shows within the heartbeat
 * timeout rather than the whole start-to-close, and a heartbeat's answer is how a workflow's
 * cancellation reaches this activity (and, through its signal, the HTTP request).
 */
async function whileHeartbeating<T>(context: Context, work: () => Promise<T>): Promise<T> {
  // No heartbeat at the start: the heartbeat timeout already counts from it, and each heartbeat is a
  // write on the Temporal server, so a call that ends within the first interval costs none.
  const every = (context.info.heartbeatTimeoutMs || FALLBACK_HEARTBEAT_MS * 3) / 3;
  const timer = setInterval(() => context.heartbeat(), every);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The deadline's signal ends the call at its cancellation or when timeoutMs have passed, and its
 * timer ends with the call: `AbortSignal.timeout` would keep a timer and a signal alive for the
 * whole timeoutMs after a call that answered at once.
 */
function startDeadline(timeoutMs: number, cancellation: AbortSignal): Deadline & { end(): void } {
  const controller = new AbortController();
  const cancel = () => controller.abort(cancellation.reason);
  // The reason AbortSignal.timeout gives: a TimeoutError fails the call as a timed-out exchange.
  const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), timeoutMs);
  if (cancellation.aborted) cancel();
  else cancellation.addEventListener('abort', cancel, { once: true });
  return {
    at: Date.now() + timeoutMs,
    signal: controller.signal,
    end() {
      clearTimeout(timer);
      cancellation.removeEventListener('abort', cancel);
    },
  };
}

/** Waits for `promise` (a token, shared with other callers) unless `signal` ends the call first. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal, url: URL): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(abortFailure(signal, url));
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

function callContext(input: ParsedWebServiceCallInput, grant: UsableToken): ResponseContext {
  return { method: input.method, url: input.url, accessToken: grant.token.accessToken };
}

function assertAllowed(url: URL, grant: UsableToken, server: string): void {
  if (!grant.allowedOrigins.includes(url.origin)) {
    throw nonRetryable(
      WebServiceCallFailure.OriginNotAllowed,
      `${url.origin} is not among the allowed origins of OAuth server ${server}; its token is sent nowhere else`,
      { origin: url.origin },
    );
  }
}

/** Follows a redirect only to an allowed origin, since following it means sending the token there. */
async function callFollowingRedirects(input: ParsedWebServiceCallInput, grant: UsableToken, deadline: Deadline): Promise<ApiResponse> {
  let hop: Hop = { url: input.url, method: input.method, headers: input.headers, body: input.body };
  assertAllowed(hop.url, grant, input.server);
  for (let redirects = 0; ; redirects += 1) {
    const response = await exchange({
      ...hop,
      headers: { ...hop.headers, authorization: `Bearer ${grant.token.accessToken}` },
      maxResponseBytes: input.maxResponseBytes,
      signal: deadline.signal,
      deadline: deadline.at,
    });
    const next = redirects === MAX_REDIRECTS ? undefined : redirectedHop(hop, response);
    if (!next) return response;
    if (!grant.allowedOrigins.includes(next.url.origin)) {
      throw nonRetryable(
        WebServiceCallFailure.RedirectRefused,
        `${hop.url.origin} redirected to ${next.url.origin}, which is not an allowed origin of OAuth server ${input.server}; not followed`,
        { status: response.status, origin: next.url.origin },
      );
    }
    hop = next;
  }
}
