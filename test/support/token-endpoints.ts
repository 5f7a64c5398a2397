import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { closeServer, listen } from '../../src/http/server-lifecycle';

/**
 * Token endpoints that misbehave on purpose, each recording what it received so that a test can
 * count the attempts and check the parameters.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent: resolve it against the endpoint's `url` to read parameters. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Epoch ms when the request arrived. */
  receivedAt: number;
}

export interface TokenEndpoint {
  /** The URL to configure as the access token URL. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type ScriptedHandler = (request: RecordedRequest, body: string) => ScriptedResponse | Promise<ScriptedResponse>;

const TOKEN_PATH = '/token';
const UPSTREAM_TIMEOUT_MS = 10_000;
/** Headers that describe one hop, not the message: a proxy must not pass them on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

/**
 * A port that takes the connection and resets it without answering: what a client sees of a
 * crashed or refusing server. (A port that really refuses cannot count the attempts; this one
 * records each request before resetting its connection.)
 */
export function startResettingEndpoint(): Promise<TokenEndpoint> {
  return startRecordingServer((request) => {
    request.socket.resetAndDestroy();
  });
}

/** Answers every request with `status`, e.g. 503, and an optional body and headers. */
export function startStatusEndpoint(status: number, options: { body?: string; headers?: Record<string, string> } = {}): Promise<TokenEndpoint> {
  return startScriptedEndpoint(() => ({ status, headers: options.headers, body: options.body }));
}

/** Takes each request and never answers it, like a server stuck behind a load balancer. */
export function startHangingEndpoint(): Promise<TokenEndpoint> {
  return startRecordingServer(() => undefined);
}

/** Answers as `handler` says: invalid JSON, missing fields, a wrong token_type, a huge body… */
export function startScriptedEndpoint(handler: ScriptedHandler): Promise<TokenEndpoint> {
  return startRecordingServer(async (request, response, recorded) => {
    const scripted = await handler(recorded, recorded.body);
    response.writeHead(scripted.status, scripted.headers);
    response.end(scripted.body);
  });
}

/**
 * Passes each request on to `targetUrl` (a real token endpoint) and its answer back unchanged,
 * status and headers included, so that a test gets real tokens and still sees every request.
 */
/** What a real token endpoint at `target` answers to `request`: for scripted endpoints that pass some requests on. */
export async function forwardTokenRequest(target: string, request: RecordedRequest, body: string): Promise<ScriptedResponse> {
  const upstream = await fetch(target, {
    method: 'POST',
    headers: {
      'content-type': String(request.headers['content-type'] ?? 'application/x-www-form-urlencoded'),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    },
    body,
    signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
  });
  return {
    status: upstream.status,
    headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
    body: Buffer.from(await upstream.arrayBuffer()),
  };
}

export function startRecordingProxy(targetUrl: string): Promise<TokenEndpoint> {
  const target = new URL(targetUrl);
  return startRecordingServer(async (request, response, recorded) => {
    const forwarded = new URL(recorded.url, target.origin);
    try {
      const upstream = await forward(forwarded, recorded);
      const body = await readBody(upstream);
      response.writeHead(upstream.statusCode ?? 502, passedOn(upstream.headers, body));
      response.end(body);
    } catch {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('the proxied token endpoint could not be reached');
    }
  }, target.pathname);
}

function forward(url: URL, recorded: RecordedRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(recorded.body, 'utf8');
    const upstream = httpRequest(url, { method: recorded.method, headers: passedOn(recorded.headers, body), timeout: UPSTREAM_TIMEOUT_MS }, resolve);
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** The end-to-end headers of a message whose whole `body` is passed on at once. */
function passedOn(headers: IncomingHttpHeaders, body: Buffer): OutgoingHttpHeaders {
  const kept = Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name));
  return { ...Object.fromEntries(kept), 'content-length': String(body.byteLength) };
}

type Responder = (request: IncomingMessage, response: ServerResponse, recorded: RecordedRequest) => void | Promise<void>;

/** An http server on 127.0.0.1 that records each request, body included, before `respond` runs. */
async function startRecordingServer(respond: Responder, path = TOKEN_PATH): Promise<TokenEndpoint> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const receivedAt = Date.now();
      const recorded: RecordedRequest = { method: request.method ?? '', url: request.url ?? '/', headers: request.headers, body: (await readBody(request)).toString('utf8'), receivedAt };
      requests.push(recorded);
      await respond(request, response, recorded);
    })().catch(() => request.socket.destroy());
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { port } = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    close: () => closeServer(server),
  };
}

async function readBody(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

