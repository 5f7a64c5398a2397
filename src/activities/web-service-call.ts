import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isTransientStatus, parseRetryAfter } from '../oauth/retry-after';
import { redact } from '../oauth/redact';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import { exchange } from './http-exchange';
import type { WorkerTokenCache, UsableToken } from './token-cache';
import { parseWebServiceCallInput, type ParsedWebServiceCallInput } from './web-service-call-input';
import type { WebServiceCallInput, WebServiceCallResult } from './web-service-call-types';

const MAX_REDIRECTS = 5;

/**
 * The authorized HTTP call workflow authors use. The token comes from the worker's cache of the
 * server workflow's token and goes only to the server's allowed origins, in a header, never in a URL.
 */
export function createWebServiceCall(tokensOfNamespace: () => WorkerTokenCache) {
  return async function webServiceCall(rawInput: WebServiceCallInput): Promise<WebServiceCallResult> {
    const input = parseWebServiceCallInput(rawInput);
    const tokens = tokensOfNamespace();
    let grant = await tokens.get(input.server);
    let result = await callFollowingRedirects(input, grant);
    if (isTokenRejection(result, grant)) {
      grant = await tokens.replaceRejected(input.server, grant.token.serial);
      result = await callFollowingRedirects(input, grant);
      if (isTokenRejection(result, grant)) {
        throw nonRetryable(WebServiceCallFailure.HttpClientError, `${input.method} ${originOf(input.url)} answered ${result.status} even with a fresh token`, {
          status: result.status,
        });
      }
    }
    return checkStatus(input, result, grant);
  };
}

function originOf(url: string): string {
  return new URL(url).origin;
}

function requestUrl(input: ParsedWebServiceCallInput): URL {
  const url = new URL(input.url);
  for (const [name, value] of Object.entries(input.query)) {
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
  }
  return url;
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
async function callFollowingRedirects(input: ParsedWebServiceCallInput, grant: UsableToken): Promise<WebServiceCallResult> {
  let url = requestUrl(input);
  for (let redirects = 0; ; redirects += 1) {
    assertAllowed(url, grant, input.server);
    const result = await exchange({
      url,
      method: input.method,
      headers: { ...input.headers, authorization: `Bearer ${grant.token.accessToken}` },
      body: input.body,
      timeoutMs: input.timeoutMs,
      maxResponseBytes: input.maxResponseBytes,
      signal: Context.current().cancellationSignal,
    });
    const location = result.headers.location;
    if (![301, 302, 303, 307, 308].includes(result.status) || !location || redirects === MAX_REDIRECTS) return result;
    const target = new URL(location, url);
    if (!grant.allowedOrigins.includes(target.origin)) {
      throw nonRetryable(
        WebServiceCallFailure.RedirectRefused,
        `${url.origin} redirected to ${target.origin}, which is not an allowed origin of OAuth server ${input.server}; not followed`,
        { status: result.status, origin: target.origin },
      );
    }
    url = target;
  }
}

/**
 * RFC 6750 §3.1: a 401 whose challenge says invalid_token (or says nothing) means "this token", not
 * "this call"; so does any status the server's configuration names for APIs that answer otherwise.
 */
function isTokenRejection(result: WebServiceCallResult, grant: UsableToken): boolean {
  if (grant.invalidTokenStatuses.includes(result.status)) return true;
  if (result.status !== 401) return false;
  const challenge = result.headers['www-authenticate'];
  return challenge === undefined || /^\s*bearer\b/i.test(challenge) && (!/error\s*=/i.test(challenge) || /error\s*=\s*"?invalid_token"?/i.test(challenge));
}

function checkStatus(input: ParsedWebServiceCallInput, result: WebServiceCallResult, grant: UsableToken): WebServiceCallResult {
  if (result.status < 400) return result;
  const excerpt = typeof result.body === 'string' ? redact(result.body, [grant.token.accessToken]) : undefined;
  const details = { status: result.status, body: excerpt };
  const message = `${input.method} ${originOf(input.url)} answered HTTP ${result.status}`;
  if (isTransientStatus(result.status)) {
    throw ApplicationFailure.create({
      type: WebServiceCallFailure.HttpRetryableStatus,
      message,
      details: [details],
      nextRetryDelay: parseRetryAfter(result.headers['retry-after']),
    });
  }
  throw nonRetryable(WebServiceCallFailure.HttpClientError, message, details);
}
