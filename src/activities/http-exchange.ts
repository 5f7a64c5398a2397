import { request, type Dispatcher } from 'undici';
import { ApplicationFailure } from '@temporalio/common';
import { WebServiceCallFailure, nonRetryable } from '../contract/failures';
import type { ParsedWebServiceCallInput } from './web-service-call-input';
import type { WebServiceCallResult } from './web-service-call-types';

export interface HttpExchange {
  url: URL;
  method: ParsedWebServiceCallInput['method'];
  headers: Record<string, string>;
  body?: ParsedWebServiceCallInput['body'];
  timeoutMs: number;
  maxResponseBytes: number;
  signal: AbortSignal;
  dispatcher?: Dispatcher;
}

/** One HTTP exchange with explicit limits; redirects are never followed here (the caller decides). */
export async function exchange(call: HttpExchange): Promise<WebServiceCallResult> {
  const { body, contentType } = encodeBody(call.body);
  // Header names are case-insensitive: the caller's Content-Type, however spelt, replaces the body's default.
  const callerSetsType = Object.keys(call.headers).some((name) => name.toLowerCase() === 'content-type');
  const headers = { ...(contentType && !callerSetsType ? { 'content-type': contentType } : {}), ...call.headers };
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      method: call.method,
      headers,
      body,
      signal: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
      dispatcher: call.dispatcher,
    });
  } catch (error) {
    throw transportFailure(call.url, error);
  }
  // A HEAD response announces the size of a body it does not carry.
  const maxResponseBytes = call.method === 'HEAD' ? Infinity : call.maxResponseBytes;
  const bytes = await readBounded(response, maxResponseBytes, call.url).catch((error: unknown) => {
    throw error instanceof ApplicationFailure ? error : transportFailure(call.url, error);
  });
  return { status: response.statusCode, headers: flattenHeaders(response.headers), ...decodeBody(bytes, response.headers['content-type']) };
}

function encodeBody(body: HttpExchange['body']): { body?: string | Buffer; contentType?: string } {
  if (!body) return {};
  if ('json' in body) return { body: JSON.stringify(body.json), contentType: 'application/json' };
  if ('form' in body) return { body: new URLSearchParams(body.form).toString(), contentType: 'application/x-www-form-urlencoded' };
  if ('text' in body) return { body: body.text, contentType: body.contentType ?? 'text/plain; charset=utf-8' };
  return { body: Buffer.from(body.base64, 'base64'), contentType: body.contentType ?? 'application/octet-stream' };
}

async function readBounded(response: Dispatcher.ResponseData, maxBytes: number, url: URL): Promise<Buffer> {
  const tooLarge = () =>
    nonRetryable(WebServiceCallFailure.ResponseTooLarge, `the response from ${url.origin} is larger than the limit of ${maxBytes} bytes (maxResponseBytes)`);
  if (Number(response.headers['content-length'] ?? 0) > maxBytes) {
    // Destroying an unread body makes it emit an abort error; without a listener that error would end the process.
    response.body.on('error', () => undefined).destroy();
    throw tooLarge();
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

function decodeBody(bytes: Buffer, contentType: string | string[] | undefined): Pick<WebServiceCallResult, 'body' | 'bodyType'> {
  if (bytes.byteLength === 0) return { body: null, bodyType: 'empty' };
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase() ?? '';
  if (/[/+]json\b/.test(type)) {
    try {
      return { body: JSON.parse(bytes.toString('utf8')) as unknown, bodyType: 'json' };
    } catch {
      throw nonRetryable(WebServiceCallFailure.InvalidResponseBody, `the response says ${type} but its body is not valid JSON`);
    }
  }
  if (type.startsWith('text/') || /xml|x-www-form-urlencoded/.test(type)) return { body: bytes.toString('utf8'), bodyType: 'text' };
  return { body: bytes.toString('base64'), bodyType: 'base64' };
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function transportFailure(url: URL, error: unknown): ApplicationFailure {
  const code = (error as { code?: unknown }).code;
  const name = error instanceof Error ? error.name : 'Error';
  const reason = typeof code === 'string' ? code : name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : name;
  return ApplicationFailure.create({ type: WebServiceCallFailure.HttpTransport, message: `could not complete the call to ${url.origin}: ${reason}` });
}
