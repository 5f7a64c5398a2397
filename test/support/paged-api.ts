import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen } from '../../src/http/server-lifecycle';

/** One request a paged API answered: its path and query, and whether it came with a bearer token. */
export interface PagedCall {
  pathAndQuery: string;
  bearer: boolean;
}

export interface PagedApi {
  origin: string;
  calls: PagedCall[];
  close(): Promise<void>;
}

interface Reply {
  body: unknown;
  headers?: Record<string, string>;
}

const recordAt = (index: number) => ({ id: `item-${index + 1}` });

function records(from: number, count: number, total: number) {
  return Array.from({ length: Math.max(0, Math.min(count, total - from)) }, (_, offset) => recordAt(from + offset));
}

function whole(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number`);
  return Number(raw);
}

/**
 * A loopback API paging `total` records in other shapes than the resource API's:
 * - `/numbered?page=P&per_page=S` answers `{ data: { items }, meta: { next: P+1 | null } }`, pages counted from 1;
 * - `/linked?per_page=S[&after=ID]` answers the bare array, and the next page in a relative `Link: <…>; rel="next"`;
 * - `/next-url?size=S[&offset=O]` answers `{ results, links: { next: absolute URL | null } }`.
 * Every other request, and any without a bearer token, is an error.
 */
export async function startPagedApi(total: number): Promise<PagedApi> {
  const calls: PagedCall[] = [];
  let origin = '';
  const routes: Record<string, (url: URL) => Reply> = {
    '/numbered': (url) => {
      const page = whole(url, 'page', 1);
      const size = whole(url, 'per_page', 10);
      const from = (page - 1) * size;
      return { body: { data: { items: records(from, size, total) }, meta: { next: from + size < total ? page + 1 : null } } };
    },
    '/linked': (url) => {
      const size = whole(url, 'per_page', 10);
      const after = url.searchParams.get('after');
      const from = after === null ? 0 : Number(after.replace('item-', ''));
      const last = records(from, size, total).at(-1);
      const more = from + size < total && last !== undefined;
      const link = `<https://example.invalid/docs>; rel="help", </linked?after=${last?.id ?? ''}&per_page=${size}>; rel="next"`;
      return more ? { body: records(from, size, total), headers: { link } } : { body: records(from, size, total) };
    },
    '/next-url': (url) => {
      const size = whole(url, 'size', 10);
      const offset = whole(url, 'offset', 0);
      return { body: { results: records(offset, size, total), links: { next: offset + size < total ? `${origin}/next-url?size=${size}&offset=${offset + size}` : null } } };
    },
  };
  const answer = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://paged-api');
    const bearer = /^Bearer \S+$/.test(request.headers.authorization ?? '');
    calls.push({ pathAndQuery: `${url.pathname}${url.search}`, bearer });
    const route = routes[url.pathname];
    let status = 200;
    let reply: Reply;
    try {
      if (!bearer) throw new Error('a bearer token is required');
      if (!route) throw new Error('no such route');
      reply = route(url);
    } catch (error) {
      status = 400;
      reply = { body: { error: error instanceof Error ? error.message : String(error) } };
    }
    response.writeHead(status, { 'content-type': 'application/json', ...reply.headers }).end(JSON.stringify(reply.body));
  };
  const server = createServer(answer);
  const { port } = await listen(server, 0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  return { origin, calls, close: () => closeServer(server) };
}
