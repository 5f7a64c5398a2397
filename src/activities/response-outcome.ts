import { ApplicationFailure } from '@temporalio/common';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import { MAX_RESULT_JSON_BYTES, MAX_RETRY_AFTER_MS } from '../contract/web-service-call-limits';
import { redact } from '../oauth/redact';
import { isTransientStatus, parseRetryAfter } from '../oauth/retry-after';
import { statusWords } from './call-failure-words';
import { callName } from './http-exchange';
import { keepResponseHeaders, type KeptResponseHeaders } from './kept-response-headers';
import type { WebServiceCallResult } from './web-service-call-types';

/** An API's answer as it came off the wire, before anything reads meaning into its body. */
export interface ApiResponse {
  status: number;
  /** Lower-case names, repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** What a response is judged against: the call that got it, and the token that must not show in a failure. */
export interface ResponseContext {
  method: string;
  url: URL;
  accessToken: string;
}

/** How much of an error's body its failure message quotes; the failure's details keep a longer excerpt. */
const MESSAGE_EXCERPT_CHARS = 200;

/**
 * RFC 6750 §3.1: a 401 whose challenge says invalid_token (or says nothing) means "this token", not
 * "this call"; so does any status the server's configuration names for APIs that answer otherwise.
 * Only status and headers decide: the body of a rejection may be anything.
 */
export function isTokenRejection(response: ApiResponse, invalidTokenStatuses: readonly number[]): boolean {
  if (invalidTokenStatuses.includes(response.status)) return true;
  if (response.status !== 401) return false;
  const challenge = response.headers['www-authenticate'];
  return challenge === undefined || (/^\s*bearer\b/i.test(challenge) && (!/error\s*=/i.test(challenge) || /error\s*=\s*"?invalid_token"?/i.test(challenge)));
}

/**
 * The call's result, or the typed failure it ends with. The status is judged first: an error
 * status keeps its meaning whatever its body holds, and only a success's body must parse. The
 * result keeps only the `kept` headers: it is written to the workflow's history.
 */
export function resultOf(response: ApiResponse, context: ResponseContext, kept: KeptResponseHeaders): WebServiceCallResult {
  if (response.status >= 400) throw statusFailure(response, context);
  const result: WebServiceCallResult = { status: response.status, headers: keepResponseHeaders(response.headers, kept), ...decodeBody(response) };
  const encodedBytes = encodedSize(result, context);
  if (encodedBytes > MAX_RESULT_JSON_BYTES) {
    throw nonRetryable(
      WebServiceCallFailure.ResponseTooLarge,
      `the response from ${context.url.origin} takes ${encodedBytes} bytes as a result, more than the ${MAX_RESULT_JSON_BYTES} that fit in a Temporal payload (2 MiB)`,
      { status: response.status, encodedBytes },
    );
  }
  return result;
}

/** Its size as Temporal's JSON converter will write it; JSON that parses can still nest too deep to be written again. */
function encodedSize(result: WebServiceCallResult, context: ResponseContext): number {
  try {
    return Buffer.byteLength(JSON.stringify(result));
  } catch {
    throw nonRetryable(WebServiceCallFailure.InvalidResponseBody, `the JSON from ${context.url.origin} is nested too deeply to be passed on`, { status: result.status });
  }
}

/** The `error` of a Bearer challenge (RFC 6750 §3): `Bearer error="insufficient_scope", scope="records:read"`. */
export function challengeError(response: ApiResponse): string | undefined {
  const match = /^\s*bearer\b.*?\berror\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(response.headers['www-authenticate'] ?? '');
  const error = match?.[1] ?? match?.[2];
  // The code goes into a message in clear words: only the characters RFC 6750 allows in it.
  return error !== undefined && /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(error) ? error : undefined;
}

/** What a failure says of an error answer: the call, the status, the challenge's error, and the start of the body (redacted). */
function describeAnswer(response: ApiResponse, context: ResponseContext) {
  const challenge = challengeError(response);
  const body = excerpt(response, context.accessToken);
  return {
    challenge,
    details: { status: response.status, body, ...(challenge === undefined ? {} : { challengeError: challenge }) },
    answered: `${callName(context.url, context.method)} answered HTTP ${response.status}`,
    quoted: body === undefined ? '' : ` The API said: ${body.length > MESSAGE_EXCERPT_CHARS ? `${body.slice(0, MESSAGE_EXCERPT_CHARS)}…` : body}`,
  };
}

/** A token rejection that a fresh token did not cure: this API does not take the server's tokens. */
export function freshTokenRejected(response: ApiResponse, context: ResponseContext): ApplicationFailure {
  const { details, answered, quoted } = describeAnswer(response, context);
  const { what, todo } = statusWords(response.status, 'invalid_token');
  return nonRetryable(WebServiceCallFailure.HttpClientError, `${answered}: ${what}. ${todo}.${quoted}`, details);
}

/** "GET /orders on https://api answered HTTP 403: the token lacks … [insufficient_scope]. Add … The API said: …" */
function statusFailure(response: ApiResponse, context: ResponseContext): ApplicationFailure {
  const { challenge, details, answered, quoted } = describeAnswer(response, context);
  const { what, todo } = statusWords(response.status, challenge);
  const message = `${answered}: ${what}${challenge === undefined ? '' : ` [${challenge}]`}. ${todo}.${quoted}`;
  if (!isTransientStatus(response.status)) return nonRetryable(WebServiceCallFailure.HttpClientError, message, details);
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
    return nonRetryable(
      WebServiceCallFailure.RetryAfterTooLong,
      `${answered} and asks to retry after ${Math.ceil(retryAfterMs / 1000)} s, more than the ${MAX_RETRY_AFTER_MS / 1000} s webServiceCall waits: the workflow decides when to call again.${quoted}`,
      { ...details, retryAfterMs },
    );
  }
  return ApplicationFailure.create({ type: WebServiceCallFailure.HttpRetryableStatus, message, details: [details], nextRetryDelay: retryAfterMs });
}

/** A readable start of an error's body for the failure's details: never parsed, so never the reason the call fails. */
function excerpt(response: ApiResponse, accessToken: string): string | undefined {
  if (response.body.byteLength === 0 || !isTextual(mediaType(response))) return undefined;
  return redact(response.body.toString('utf8'), [accessToken]);
}

function decodeBody(response: ApiResponse): Pick<WebServiceCallResult, 'body' | 'bodyType'> {
  if (response.body.byteLength === 0) return { body: null, bodyType: 'empty' };
  const type = mediaType(response);
  if (isJson(type)) {
    try {
      return { body: JSON.parse(response.body.toString('utf8')) as unknown, bodyType: 'json' };
    } catch {
      throw nonRetryable(WebServiceCallFailure.InvalidResponseBody, `the response says ${type} but its body is not valid JSON`, { status: response.status });
    }
  }
  if (isTextual(type)) return { body: response.body.toString('utf8'), bodyType: 'text' };
  return { body: response.body.toString('base64'), bodyType: 'base64' };
}

function mediaType(response: ApiResponse): string {
  return (response.headers['content-type'] ?? '').toLowerCase();
}

function isJson(type: string): boolean {
  return /[/+]json\b/.test(type);
}

function isTextual(type: string): boolean {
  return isJson(type) || type.startsWith('text/') || /xml|x-www-form-urlencoded/.test(type);
}
