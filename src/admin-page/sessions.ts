import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'temporal_oauth_admin';
const IDLE_MS = 30 * 60_000;
const LIFETIME_MS = 12 * 60 * 60_000;
/** Enough for every admin's browsers; the oldest session goes first. */
const MAX_SESSIONS = 1_000;

interface Session {
  createdAt: number;
  lastSeenAt: number;
}

/** In memory: a restarted admin server asks everyone to log in again. */
export class SessionStore {
  /** Keyed by the ID's digest, so the map holds nothing a cookie could be rebuilt from. */
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts a session and returns the Set-Cookie value that carries it. */
  start(): string {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(key(id), { createdAt: now, lastSeenAt: now });
    return cookie(id, LIFETIME_MS / 1000);
  }

  /** True while the request's cookie names a live session, which it keeps alive. */
  isValid(req: IncomingMessage): boolean {
    const id = sessionId(req);
    if (id === undefined) return false;
    const session = this.sessions.get(key(id));
    if (!session) return false;
    const now = this.now();
    if (now - session.lastSeenAt > IDLE_MS || now - session.createdAt > LIFETIME_MS) {
      this.sessions.delete(key(id));
      return false;
    }
    session.lastSeenAt = now;
    return true;
  }

  /** Ends the request's session and returns the Set-Cookie value that clears it. */
  end(req: IncomingMessage): string {
    const id = sessionId(req);
    if (id !== undefined) this.sessions.delete(key(id));
    return cookie('', 0);
  }
}

const key = (id: string) => createHash('sha256').update(id).digest('base64url');

/** HttpOnly: no script reads it; SameSite=Strict: no other site's link or form carries it. */
function cookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

function sessionId(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value) return value;
  }
  return undefined;
}
