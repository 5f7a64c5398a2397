import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen } from '../http/server-lifecycle';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CodecKeyError } from './codec-keys';
import { PayloadDecryptionError } from './encryption-codec';
import { redactDecodedPayloads } from './redact-decoded';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer credential /decode callers other than the Web UI (the CLI, scripts) send. */
  credential: string;
  /**
   * The Web UI's origin, e.g. http://127.0.0.1:8233; the only origin CORS is answered for, in each of
   * its loopback spellings (127.0.0.1, localhost, [::1]) when it is a loopback one, since the dev
   * server's own banner sends browsers to localhost.
   */
  allowedOrigin: string;
  /**
   * Accepts /decode from `allowedOrigin` without a credential: for the dev server's Web UI, which has no
   * login and so no bearer token to send. A credential in its codec endpoint URL would sit in the dev
   * server's argv and in the UI's settings for anyone to read. A browser does not let a page forge its
   * Origin, so only the UI's pages get in; a process on the same machine can, which is why this needs a
   * loopback host and why decoded payloads are redacted.
   */
  trustAllowedOrigin?: boolean;
  /**
   * Turns /encode on for callers presenting this bearer credential (never the decode one, never by
   * Origin). Off by default: whoever can encode can make input the plugin's workflows take as
   * encrypted, which is what they check before trusting it.
   */
  encodeCredential?: string;
  /** Defaults to 0: a free port, reported in `url`. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
}

export interface CodecServer {
  /** Base URL to pass as `--ui-codec-endpoint`; the UI appends /decode and /encode. */
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Serves the codec-server protocol of the Temporal Web UI and CLI: POST …/decode (and …/encode, when
 * turned on) with `{"payloads": [Payload in protobuf JSON]}`. Decoded payloads are redacted before
 * they leave, so the UI shows workflow data but never a secret, private key or token.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec, allowedOrigin, port = 0, host = '127.0.0.1', trustAllowedOrigin = false, encodeCredential } = options;
  for (const [name, value] of [['credential', options.credential], ['encodeCredential', encodeCredential]] as const) {
    if (value !== undefined && (value === '' || /\s/.test(value))) {
      throw new TypeError(`codec server ${name} must be a non-empty bearer token without whitespace`);
    }
  }
  if (encodeCredential === options.credential) {
    throw new TypeError('codec server encodeCredential must differ from credential: reading payloads must not be enough to write them');
  }
  if (!URL.canParse(allowedOrigin) || new URL(allowedOrigin).origin !== allowedOrigin) {
    // A trailing slash or path would never equal a browser's Origin header and silently block the UI.
    throw new TypeError(`allowedOrigin must be a bare origin such as http://127.0.0.1:8233, got "${allowedOrigin}"`);
  }
  if (trustAllowedOrigin && !isLoopbackHost(host)) {
    throw new TypeError(`trustAllowedOrigin needs a loopback host (127.0.0.1, ::1 or localhost), got "${host}": elsewhere anyone can send that Origin`);
  }
  const allowedOrigins = loopbackSpellings(allowedOrigin);
  const decodeCredential = bearerMatcher(options.credential);
  const encodeCredentialMatches = encodeCredential === undefined ? undefined : bearerMatcher(encodeCredential);
  const isAuthorized = (req: IncomingMessage, operation: 'decode' | 'encode'): boolean => {
    if (operation === 'encode') return encodeCredentialMatches?.(req) === true;
    return decodeCredential(req) || (trustAllowedOrigin && allowedOrigins.has(req.headers.origin ?? ''));
  };

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      // Anything else may carry payload contents in its message; the client gets no details.
      sendJson(res, 500, { error: 'internal error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    // Requests without Origin come from the CLI or scripts, which CORS does not concern.
    if (origin !== undefined) {
      if (!allowedOrigins.has(origin)) throw new HttpError(403, 'origin not allowed');
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, x-namespace');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    }
    const segments = new URL(req.url ?? '/', 'http://codec.invalid').pathname.split('/').filter(Boolean);
    const operation = segments.at(-1);
    // The protocol lets the endpoints sit at any depth (e.g. per namespace): only the last segment counts.
    if (operation !== 'decode' && operation !== 'encode') throw new HttpError(404, 'not found: use POST …/decode or …/encode');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, 'method not allowed');
    }
    if (operation === 'encode' && encodeCredentialMatches === undefined) {
      throw new HttpError(403, '/encode is off: it would let anyone who reaches it make payloads the workflows take as encrypted');
    }
    if (!isAuthorized(req, operation)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'a valid bearer credential is required');
    }
    const payloads = parsePayloads(await readBody(req, res));
    let result: Payload[];
    try {
      result = operation === 'decode' ? redactDecodedPayloads(await codec.decode(payloads)) : await codec.encode(payloads);
    } catch (error) {
      // The protocol answers codec failures with 400; these messages name a key ID at most.
      if (error instanceof CodecKeyError || error instanceof PayloadDecryptionError) throw new HttpError(400, error.message);
      throw error;
    }
    res.setHeader('Cache-Control', 'no-store');
    sendJson(res, 200, { payloads: result.map((payload) => temporal.api.common.v1.Payload.create(payload).toJSON()) });
  }

  const address = await listen(server, port, host);
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    close: () => closeServer(server),
  };
}

/** Whether a request's `Authorization: Bearer …` is `credential`, compared in constant time without revealing its length. */
function bearerMatcher(credential: string): (req: IncomingMessage) => boolean {
  const expected = digest(credential);
  return (req) => {
    const presented = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

/** The origin, and when its host is a loopback name, the same scheme and port under the other loopback names. */
function loopbackSpellings(origin: string): Set<string> {
  const url = new URL(origin);
  if (!isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) return new Set([origin]);
  return new Set(['127.0.0.1', 'localhost', '[::1]'].map((host) => new URL(`${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`).origin));
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function readBody(req: IncomingMessage, res: ServerResponse): Promise<string> {
  const tooLarge = () => {
    // The rest of the body is not worth reading; closing after the answer is what stops the sender.
    res.setHeader('Connection', 'close');
    return new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  };
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      // Left flowing without a listener, the excess is discarded while the 413 goes out.
      req.off('data', onData).off('end', onEnd);
      reject(tooLarge());
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function parsePayloads(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.payloads)) {
    throw new HttpError(400, 'request body must be {"payloads": [...]} with each payload in protobuf JSON form');
  }
  return parsed.payloads.map((item: unknown, index) => {
    const path = `payloads[${index}]`;
    if (!isRecord(item)) throw new HttpError(400, `${path} must be an object`);
    const { metadata, data } = item;
    if (metadata != null && (!isRecord(metadata) || Object.values(metadata).some((value) => typeof value !== 'string'))) {
      throw new HttpError(400, `${path}.metadata must map names to base64 strings`);
    }
    if (data != null && typeof data !== 'string') throw new HttpError(400, `${path}.data must be a base64 string`);
    try {
      return temporal.api.common.v1.Payload.fromObject(item);
    } catch (error) {
      // protobufjs names the field and the rule ("invalid encoding", "object expected"), not the value.
      throw new HttpError(400, `${path} is not a Payload in protobuf JSON form: ${error instanceof Error ? error.message : 'rejected'}`);
    }
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
