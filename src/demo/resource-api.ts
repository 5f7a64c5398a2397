import { createHash } from 'node:crypto';
import { closeServer, listen } from '../http/server-lifecycle';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as oauth from 'oauth4webapi';

/**
 * A small web service protected the seed's way: every request's bearer token is checked by
 * introspection (RFC 7662) at the authorization server, then against the scope the route needs.
 */

export interface ResourceApiOptions {
  introspectionEndpoint: string;
  issuer: string;
  /** The API's own registration at the authorization server, used to authenticate introspection. */
  clientId: string;
  clientSecret: string;
  /** How many records `GET /records` pages over; 1000 when left out. */
  recordCount?: number;
  port?: number;
  /** How many calls `calls` keeps, the oldest dropped first; 100,000 when left out. */
  callLogLimit?: number;
}

/** One answered request, as tests see it: never the token itself. */
export interface ResourceApiCall {
  method: string;
  path: string;
  status: number;
  clientId?: string;
  scope?: string;
  /** SHA-256 of the bearer token (hex), to tell tokens apart without keeping them. */
  tokenSha256?: string;
}

export interface ResourceApi {
  /** The base URL: routes are `${url}/whoami`, `${url}/records`, `${url}/echo`. */
  url: string;
  origin: string;
  calls: ResourceApiCall[];
  /** Answers the next `n` requests 401 invalid_token whatever their token, as if it had been revoked. */
  rejectNext(n: number): void;
  /**
   * From now on answers every request bearing the token whose SHA-256 (hex, as in `calls`) is
   * `sha256` 401 invalid_token, as if that one token had been revoked; other tokens still pass.
   */
  rejectToken(sha256: string): void;
  close(): Promise<void>;
}

export interface ApiRecord {
  id: string;
  value: number;
}

const DEFAULT_RECORD_COUNT = 1000;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
const MAX_ECHO_BODY_BYTES = 1024 * 1024;
const INTROSPECTION_TIMEOUT_MS = 5_000;

interface Route {
  method: string;
  scope: string;
  handle(request: IncomingMessage, url: URL, token: Introspected): Promise<Reply> | Reply;
}

interface Introspected {
  clientId?: string;
  scope?: string;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function recordId(index: number): string {
  return `rec-${String(index + 1).padStart(6, '0')}`;
}

export async function startResourceApi(options: ResourceApiOptions): Promise<ResourceApi> {
  const recordCount = options.recordCount ?? DEFAULT_RECORD_COUNT;
  const callLogLimit = options.callLogLimit ?? 100_000;
  const routes = new Map<string, Route>([
    ['/whoami', { method: 'GET', scope: 'api:read', handle: (_request, _url, token) => ({ status: 200, body: { client_id: token.clientId, scope: token.scope } }) }],
    ['/records', { method: 'GET', scope: 'records:read', handle: (_request, url) => ({ status: 200, body: recordsPage(url, recordCount) }) }],
    ['/echo', { method: 'POST', scope: 'api:write', handle: echo }],
  ]);
  const introspect = introspector(options);
  const calls: ResourceApiCall[] = [];
  let toReject = 0;
  const rejectedTokens = new Set<string>();

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://resource-api');
    const call: ResourceApiCall = { method: request.method ?? 'GET', path: url.pathname, status: 500 };
    let reply: Reply;
    try {
      const route = routes.get(url.pathname);
      if (!route) throw new HttpError(404, 'no such route');
      if (request.method !== route.method) throw new HttpError(405, 'method not allowed', { allow: route.method });
      const token = bearerToken(request);
      call.tokenSha256 = createHash('sha256').update(token).digest('hex');
      if (rejectedTokens.has(call.tokenSha256)) throw invalidToken('the token has been revoked');
      if (toReject > 0) {
        toReject -= 1;
        throw invalidToken('the token was rejected on purpose');
      }
      const introspected = await introspect(token);
      call.clientId = introspected.clientId;
      call.scope = introspected.scope;
      if (!(introspected.scope ?? '').split(' ').includes(route.scope)) {
        throw new HttpError(403, `the token lacks the scope ${route.scope}`, {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${route.scope}"`,
        });
      }
      reply = await route.handle(request, url, introspected);
    } catch (error) {
      reply = error instanceof HttpError ? { status: error.status, headers: error.headers, body: { error: error.message } } : { status: 500, body: { error: 'internal error' } };
    }
    call.status = reply.status;
    calls.push(call);
    if (calls.length > callLogLimit) calls.splice(0, calls.length - callLogLimit);
    response.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...reply.headers });
    response.end(JSON.stringify(reply.body));
  }

  const server = createServer((request, response) => void answer(request, response));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { port } = await listen(server, options.port ?? 0, '127.0.0.1');
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    calls,
    rejectNext(n) {
      toReject += n;
    },
    rejectToken(sha256) {
      rejectedTokens.add(sha256.toLowerCase());
    },
    close: () => closeServer(server),
  };
}

function invalidToken(message: string): HttpError {
  return new HttpError(401, message, { 'www-authenticate': 'Bearer error="invalid_token"' });
}

function bearerToken(request: IncomingMessage): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) throw invalidToken('a bearer token is required');
  return match[1];
}

/** Asks the authorization server about a token; an inactive one is a 401, an unreachable server a 503. */
function introspector(options: ResourceApiOptions): (token: string) => Promise<Introspected> {
  const server: oauth.AuthorizationServer = { issuer: options.issuer, introspection_endpoint: options.introspectionEndpoint };
  const client: oauth.Client = { client_id: options.clientId };
  const authentication = oauth.ClientSecretBasic(options.clientSecret);
  return async (token) => {
    let result: oauth.IntrospectionResponse;
    try {
      const response = await oauth.introspectionRequest(server, client, authentication, token, {
        // The demo's authorization server is plain http on the loopback interface.
        [oauth.allowInsecureRequests]: true,
        signal: AbortSignal.timeout(INTROSPECTION_TIMEOUT_MS),
      });
      result = await oauth.processIntrospectionResponse(server, client, response);
    } catch {
      throw new HttpError(503, 'the token could not be checked');
    }
    if (!result.active) throw invalidToken('the token is not active');
    return { clientId: result.client_id, scope: result.scope };
  };
}

function recordsPage(url: URL, recordCount: number): { records: ApiRecord[]; nextCursor: number | null } {
  const cursor = integerParameter(url, 'cursor', 0, 0, recordCount);
  const limit = integerParameter(url, 'limit', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const end = Math.min(cursor + limit, recordCount);
  const records: ApiRecord[] = [];
  for (let index = cursor; index < end; index += 1) records.push({ id: recordId(index), value: index + 1 });
  return { records, nextCursor: end < recordCount ? end : null };
}

function integerParameter(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new HttpError(400, `${name} must be an integer from ${min} to ${max}`);
  return value;
}

async function echo(request: IncomingMessage, url: URL): Promise<Reply> {
  const { authorization: _authorization, ...headers } = request.headers;
  const query: Record<string, string[]> = {};
  for (const name of new Set(url.searchParams.keys())) query[name] = url.searchParams.getAll(name);
  const body = await readBody(request, MAX_ECHO_BODY_BYTES);
  return {
    status: 200,
    body: { method: request.method, headers, query, body, contentType: request.headers['content-type'] ?? null },
  };
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new HttpError(413, `the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}


