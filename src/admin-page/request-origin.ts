import type { IncomingMessage } from 'node:http';

/** Methods that change something: only the page itself may send them. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Where the page may be reached. A Host outside this list is refused, so a DNS-rebound name that
 * points at the loopback address cannot talk to the server as if it were the page.
 */
export function pageOrigins(port: number, extra: readonly string[]): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, ...extra.map((origin) => new URL(origin).origin)]);
}

export function isKnownHost(req: IncomingMessage, origins: ReadonlySet<string>): boolean {
  const host = req.headers.host;
  return host !== undefined && [...origins].some((origin) => new URL(origin).host === host);
}

/**
 * A state-changing request must come from the page: the browser says so with Sec-Fetch-Site and
 * Origin, which no other site can forge. A request with neither is not the page's either (the CLI
 * and the admin API do not go through this server).
 */
export function isCrossSiteWrite(req: IncomingMessage, origins: ReadonlySet<string>): boolean {
  if (!STATE_CHANGING.has(req.method ?? '')) return false;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return true;
  const origin = req.headers.origin;
  return origin === undefined || !origins.has(origin);
}
