import { request, type Dispatcher } from 'undici';
import { ApplicationFailure } from '@temporalio/common';
import { WebServiceCallFailure, nonRetryable } from '../contract/failures';
import { transportWords } from './call-failure-words';
import type { Hop } from './redirect';
import type { ApiResponse } from './response-outcome';

export interface HttpExchange extends Hop {
  maxResponseBytes: number;
  /** Aborts at the call's deadline or on its cancellation. */
  signal: AbortSignal;
  /** When the call's deadline passes (epoch ms): bounds the client's own waits for headers and body too. */
  deadline: number;
  dispatcher?: Dispatcher;
}

/** One HTTP exchange with explicit limits; redirects are never followed here (the caller decides). */
export async function exchange(call: HttpExchange): Promise<ApiResponse> {
  const { body, contentType } = encodeBody(call.body);
  // Header names are case-insensitive: the caller's Content-Type, however spelt, replaces the body's default.
  const callerSetsType = Object.keys(call.headers).some((name) => name.toLowerCase() === 'content-type');
  const headers = { ...(contentType && !callerSetsType ? { 'content-type': contentType } : {}), ...call.headers };
  const remainingMs = Math.max(1, call.deadline - Date.now());
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      method: call.method,
      headers,
      body,
      signal: call.signal,
      headersTimeout: remainingMs,
      bodyTimeout: remainingMs,
      dispatcher: call.dispatcher,
    });
  } catch (error) {
    throw failureOf(call, error);
  }
  // A HEAD response announces the size of a body it does not carry.
  const maxResponseBytes = call.method === 'HEAD' ? Infinity : call.maxResponseBytes;
  const bytes = await readBounded(response, maxResponseBytes, call.url).catch((error: unknown) => {
    throw error instanceof ApplicationFailure ? error : failureOf(call, error);
  });
  return { status: response.statusCode, headers: flattenHeaders(response.headers), body: bytes };
}

function failureOf(call: HttpExchange, error: unknown): Error {
  return call.signal.aborted ? abortFailure(call.signal, call.url, call.method) : transportFailure(call.url, error, call.method);
}

/**
 * What a call ended by its signal fails with. A cancellation goes on as the SDK gave it, so that the
 * activity ends as cancelled (on a worker's shutdown too) rather than as a failed exchange that is
 * logged and retried; the deadline's own abort is a timed-out exchange.
 */
export function abortFailure(signal: AbortSignal, url: URL, method?: string): Error {
  // The SDK aborts with a CancelledFailure, the deadline with a TimeoutError: both are Errors.
  const reason = signal.reason as Error;
  return reason.name === 'TimeoutError' ? transportFailure(url, reason, method) : reason;
}

function encodeBody(body: Hop['body']): { body?: string | Buffer; contentType?: string } {
  if (!body) return {};
  if ('json' in body) return { body: JSON.stringify(body.json), contentType: 'application/json' };
  if ('form' in body) return { body: new URLSearchParams(body.form).toString(), contentType: 'application/x-www-form-urlencoded' };
  if ('text' in body) return { body: body.text, contentType: body.contentType ?? 'text/plain; charset=utf-8' };
  return { body: Buffer.from(body.base64, 'base64'), contentType: body.contentType ?? 'application/octet-stream' };
}

async function readBounded(response: Dispatcher.ResponseData, maxBytes: number, url: URL): Promise<Buffer> {
  const tooLarge = () =>
    nonRetryable(WebServiceCallFailure.ResponseTooLarge, `the response from ${url.origin} is larger than the limit of ${maxBytes} bytes (maxResponseBytes)`);
  const declared = response.headers['content-length'];
  if (Number(declared ?? 0) > maxBytes) {
    // Destroying an unread body makes it emit an abort error; without a listener that error would end the process.
    response.body.on('error', () => undefined).destroy();
    throw tooLarge();
  }
  if (typeof declared === 'string' && /^\d+$/.test(declared)) {
    // Within the limit and framed by its length, which the HTTP client holds the body to: read whole,
    // without a chunk-by-chunk async iteration (the slowest part of a small call's exchange).
    const bytes = await response.body.bytes();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > maxBytes) {
      response.body.destroy();
      throw tooLarge();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The call's method (when known) and path, never its query, which is where credentials and personal data hide. */
export function callName(url: URL, method?: string): string {
  return `${method === undefined ? '' : `${method} `}${url.pathname} on ${url.origin}`;
}

export function transportFailure(url: URL, error: unknown, method?: string): ApplicationFailure {
  const code = (error as { code?: unknown }).code;
  const name = error instanceof Error ? error.name : 'Error';
  // The deadline ends a call by whichever bound fires first: the signal's timer or undici's own wait for headers or body.
  const timedOut = name === 'TimeoutError' || name === 'AbortError' || (typeof code === 'string' && code.endsWith('_TIMEOUT'));
  const { what, todo } = transportWords(timedOut ? { timedOut } : { code: typeof code === 'string' ? code : name });
  return ApplicationFailure.create({ type: WebServiceCallFailure.HttpTransport, message: `${callName(url, method)} failed: ${what}. ${todo}.` });
}
