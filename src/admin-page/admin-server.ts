import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import { actorProblem } from '../contract/actor';
import { closeServer, listen } from '../http/server-lifecycle';
import { passwordMatcher } from './admin-credential';
import { HttpError, sendJson } from './http-json';
import { readPassword } from './login-form';
import { LoginLimiter } from './login-limiter';
import { answerApi } from './page-api';
import { isCrossSiteWrite, isKnownHost, pageOrigins } from './request-origin';
import { setSecurityHeaders } from './security-headers';
import { SessionStore } from './sessions';
import { loadStaticFiles } from './static-files';

export interface AdminServerOptions {
  /** A client with the plugin, on the namespace the OAuth servers live in. */
  client: Client;
  /** The task queue of the workers that run the plugin (where new servers' workflows run). */
  taskQueue: string;
  /** The operator's admin password (at least 12 characters); the only credential the page accepts. */
  password: string;
  /** Defaults to 0: a free port, reported in `url`. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Origins the page is reached at besides http://127.0.0.1:port and http://localhost:port, e.g. behind a proxy. */
  origins?: string[];
  /** Who the servers' history records for changes made on the page (default `admin`); checked at start. */
  actor?: string;
  /** Where unexpected errors are reported; the browser gets no details of them. */
  log?: (line: string) => void;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the OAuth servers page and its JSON API, behind a login. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { client, taskQueue, port = 0, host = '127.0.0.1', actor = 'admin', log = (line) => process.stderr.write(`${line}\n`) } = options;
  const actorRefused = actorProblem(actor);
  if (actorRefused !== undefined) throw new TypeError(`actor ${actorRefused}`);
  const passwordMatches = passwordMatcher(options.password);
  const files = loadStaticFiles();
  const sessions = new SessionStore();
  const limiter = new LoginLimiter();
  let origins = new Set<string>();

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    setSecurityHeaders(res);
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof HttpError) return answerError(req, res, error.status, error.message, error.extra);
      log(`admin page: ${req.method} ${req.url?.split('?')[0]} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'}`);
      answerError(req, res, 500, 'the request failed; the admin server log says why');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isKnownHost(req, origins)) throw new HttpError(403, 'unknown host: open the page at the address the admin server printed');
    if (isCrossSiteWrite(req, origins)) throw new HttpError(403, 'cross-site request refused');
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const route = `${req.method ?? ''} ${url.pathname}`;
    if (route === 'GET /login') return loginPage(res, 200, '');
    if (route === 'POST /login') return login(req, res);
    if (route === 'POST /logout') return redirect(res, '/login', sessions.end(req));
    if (req.method === 'GET' && url.pathname.startsWith('/assets/')) return asset(res, url.pathname.slice('/assets/'.length));
    const loggedIn = sessions.isValid(req);
    if (url.pathname.startsWith('/api/')) {
      if (!loggedIn) throw new HttpError(401, 'log in first');
      return answerApi(req, res, url, { client, taskQueue, actor });
    }
    if (route === 'GET /') return loggedIn ? asset(res, 'index.html') : redirect(res, '/login');
    throw new HttpError(404, 'not found');
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    const waitMs = limiter.waitMs(address);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      res.setHeader('Retry-After', String(seconds));
      return loginPage(res, 429, `Too many failed attempts. Try again in ${seconds} s.`);
    }
    if (!passwordMatches(await readPassword(req))) {
      limiter.fail(address);
      return loginPage(res, 401, 'Wrong password.');
    }
    limiter.succeed(address);
    redirect(res, '/', sessions.start());
  }

  function loginPage(res: ServerResponse, status: number, message: string): void {
    const template = files.get('login.html')!.body.toString('utf8');
    // Only the server's own fixed messages go in: nothing from the request is echoed.
    const body = template.replace('<!--message-->', message ? `<p class="login-error" role="alert">${message}</p>` : '');
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  }

  function asset(res: ServerResponse, name: string): void {
    const file = files.get(name);
    if (!file || name === 'login.html') throw new HttpError(404, 'not found');
    res.writeHead(200, { 'Content-Type': file.contentType }).end(file.body);
  }

  const address = await listen(server, port, host);
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  origins = pageOrigins(address.port, [url, ...(options.origins ?? [])]);
  return { url, close: () => closeServer(server) };
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  if (cookie) res.setHeader('Set-Cookie', cookie);
  res.writeHead(303, { Location: location }).end();
}

function answerError(req: IncomingMessage, res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}): void {
  if (req.url?.startsWith('/api/')) return sendJson(res, status, { error: message, ...extra });
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(message);
}
