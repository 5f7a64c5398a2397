import { fetch as undiciFetch } from 'undici';
import { TokenRequestError } from './errors';

/**
 * A fetch for oauth4webapi that refuses to buffer more than `maxBytes` of a response, so that a
 * misbehaving token endpoint cannot exhaust the worker's memory. The whole response is read here,
 * before the library parses it.
 */
export function boundedFetch(maxBytes: number): (url: string, init: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await undiciFetch(url, init as Parameters<typeof undiciFetch>[1]);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw tooLarge(response.status, maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > maxBytes) throw tooLarge(response.status, maxBytes);
        chunks.push(chunk);
      }
    }
    return new Response(Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers as unknown as Headers,
    });
  };
}

function tooLarge(status: number, maxBytes: number): TokenRequestError {
  return new TokenRequestError({
    kind: 'response',
    code: 'response_too_large',
    retryable: false,
    status,
    description: `the token endpoint answered with more than ${maxBytes} bytes`,
  });
}
