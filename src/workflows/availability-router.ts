import type { ServerAvailability } from '../contract/definitions';
import { normaliseServerName } from '../oauth/server-name';

const STATUSES: ReadonlySet<string> = new Set<ServerAvailability['status']>(['NotAuthorized', 'OK', 'Error', 'Deleted']);

/** The field that makes `value` no availability message, if any: a signal can come from anyone. */
export function availabilityMessageProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'message';
  const message = value as Partial<Record<keyof ServerAvailability, unknown>>;
  if (typeof message.server !== 'string' || message.server.trim() === '') return 'server';
  if (typeof message.status !== 'string' || !STATUSES.has(message.status)) return 'status';
  if (typeof message.sequence !== 'number' || !Number.isSafeInteger(message.sequence)) return 'sequence';
  if (message.disabledReason !== undefined && (typeof message.disabledReason !== 'object' || message.disabledReason === null)) return 'disabledReason';
  return undefined;
}

/**
 * The availability messages of every server one workflow depends on. A workflow has one signal
 * handler for them all, so each message is kept for its own server (names compare as the servers
 * do), and only if it is at least as new as what that server said before: signals may arrive late,
 * twice, or after a newer registration answer.
 */
export class AvailabilityRouter {
  private readonly newest = new Map<string, ServerAvailability>();

  /** Keeps `message` if it is the newest of its server; returns the field that is wrong with a malformed one, which is dropped. */
  deliver(message: unknown): string | undefined {
    const problem = availabilityMessageProblem(message);
    if (problem !== undefined) return problem;
    const availability = message as ServerAvailability;
    const key = normaliseServerName(availability.server);
    const known = this.newest.get(key);
    if (!known || availability.sequence >= known.sequence) this.newest.set(key, availability);
    return undefined;
  }

  /** The newest message heard from `server` (under any spelling of its name). */
  newestOf(server: string): ServerAvailability | undefined {
    return this.newest.get(normaliseServerName(server));
  }
}
