import { TokenRequestError } from './errors';

/**
 * Reads an authorization server's answer into memory, refusing more than `maxBytes`, so that a
 * misbehaving endpoint cannot exhaust the worker's memory. The whole body is read here, before
 * anything parses it; `sender` names the endpoint in the refusal.
 */
export async function readBounded(response: Response, maxBytes: number, sender = 'the token endpoint'): Promise<Response> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(response.status, maxBytes, sender);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge(response.status, maxBytes, sender);
      chunks.push(chunk);
    }
  }
  return new Response(Buffer.concat(chunks), { status: response.status, statusText: response.statusText, headers: response.headers });
}

function tooLarge(status: number, maxBytes: number, sender: string): TokenRequestError {
  return new TokenRequestError({
    kind: 'response',
    code: 'response_too_large',
    retryable: false,
    status,
    description: `${sender} answered with more than ${maxBytes} bytes`,
  });
}
