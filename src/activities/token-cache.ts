import { setTimeout as delay } from 'node:timers/promises';
import { normaliseServerName } from '../oauth/server-name';
import { cacheUntil } from '../oauth/token-timing';
import type { HeldToken, TokenGrant } from '../contract/definitions';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import type { TokenSource } from './token-source';

/**
 * How long a worker trusts what it last heard of a server's status. The token itself stays cached
 * until shortly before it expires; the status is re-read (one query, shared by all callers) at this
 * pace, behind the callers' backs, so a server that is disabled or edited stops its callers within
 * about this long and a caller holding a valid token never waits for the query.
 */
export const STATUS_RECHECK_MS = 1_000;
/** Past this age a served status is re-read in the background. */
const STATUS_READ_AHEAD_MS = STATUS_RECHECK_MS / 2;
/**
 * While a server's token request is under way its callers re-read the status, first soon, then at
 * most this far apart, rather than wait in an update: a workflow holds at most ten updates in flight
 * (FACTS), and a cluster of more workers than that, each waiting in one beside an admin's, would have
 * some refused.
 */
const ACQUISITION_FIRST_READ_MS = 20;
const ACQUISITION_READ_MAX_MS = 500;

/** Told, by server, whether a caller was answered from the cache at once or waited for the server's workflow. */
export interface TokenCacheObserver {
  hit(server: string): void;
  wait(server: string): void;
}

export interface UsableToken {
  token: HeldToken;
  allowedOrigins: string[];
  invalidTokenStatuses: number[];
}

/**
 * Each worker's copy of its servers' tokens. Concurrent callers share one request to the workflow
 * (single flight), so a cold start of any number of calls costs a few queries, at most one update,
 * and no token request beyond the workflow's own.
 */
export class WorkerTokenCache {
  /** `flight` numbers the request each answer came from: an answer to an older request never replaces a newer one. */
  private readonly grants = new Map<string, { grant: TokenGrant; checkedAt: number; flight: number }>();
  private readonly inFlight = new Map<string, Promise<TokenGrant>>();
  private lastFlight = 0;

  constructor(
    private readonly source: TokenSource,
    private readonly now: () => number = Date.now,
    private readonly observer?: TokenCacheObserver,
  ) {}

  async get(server: string): Promise<UsableToken> {
    const key = normaliseServerName(server);
    const cached = this.grants.get(key);
    const age = cached ? this.now() - cached.checkedAt : Infinity;
    if (cached && this.isFresh(cached.grant) && age < STATUS_RECHECK_MS) {
      // Read ahead: under steady calls the status is re-read before it goes stale, so no caller waits
      // for it; a caller after a quiet spell still waits, and never uses a status older than the interval.
      // A failed read leaves the token in use until then.
      if (age >= STATUS_READ_AHEAD_MS) this.currentGrant(server, key).catch(() => undefined);
      return this.hit(server, cached.grant);
    }
    this.observer?.wait(server);
    return usable(server, await this.currentGrant(server, key));
  }

  /** A resource server rejected this token: have it replaced once, however many callers saw it. */
  async replaceRejected(server: string, rejectedSerial: number): Promise<UsableToken> {
    const key = normaliseServerName(server);
    const cached = this.grants.get(key)?.grant;
    if (cached?.token && cached.token.serial !== rejectedSerial && this.isFresh(cached)) return this.hit(server, cached);
    this.observer?.wait(server);
    return usable(server, await this.singleFlight(`${key}#${rejectedSerial}`, () => this.source.fresh(server, rejectedSerial), key));
  }

  private hit(server: string, grant: TokenGrant): UsableToken {
    this.observer?.hit(server);
    return usable(server, grant);
  }

  /**
   * The server's status and token as the workflow has them now; the outcome of its token request if
   * one is under way; and a fresh token if it holds none usable and is getting none.
   */
  private currentGrant(server: string, key: string): Promise<TokenGrant> {
    return this.singleFlight(key, async () => {
      let current = await this.source.current(server);
      for (let pause = ACQUISITION_FIRST_READ_MS; current.acquiring && !isUnexpired(current, this.now()); pause = Math.min(2 * pause, ACQUISITION_READ_MAX_MS)) {
        await delay(pause);
        current = await this.source.current(server);
      }
      // A fresh grant is an unexpired one too: cacheUntil comes before the expiry.
      return isUnexpired(current, this.now()) || isRefused(current) ? current : this.source.fresh(server);
    });
  }

  private isFresh(grant: TokenGrant): boolean {
    return grant.status === 'OK' && grant.token !== undefined && this.now() < cacheUntil(grant.token.obtainedAt, grant.token.expiresAt);
  }

  /**
   * A flight that started before the cached answer's may still end after it: it replaces that answer
   * only if it brings a newer token.
   */
  private isNewer(cacheKey: string, flight: number, grant: TokenGrant): boolean {
    const cached = this.grants.get(cacheKey);
    if (!cached || flight > cached.flight) return true;
    return grant.status === 'OK' && (grant.token?.serial ?? 0) > (cached.grant.token?.serial ?? 0);
  }

  private async singleFlight(flightKey: string, fetch: () => Promise<TokenGrant>, cacheKey = flightKey): Promise<TokenGrant> {
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      const number = ++this.lastFlight;
      flight = fetch().then((grant) => {
        if (this.isNewer(cacheKey, number, grant)) {
          if (this.isFresh(grant)) this.grants.set(cacheKey, { grant, checkedAt: this.now(), flight: number });
          else this.grants.delete(cacheKey);
        }
        return grant;
      });
      this.inFlight.set(flightKey, flight);
      void flight.finally(() => this.inFlight.delete(flightKey)).catch(() => undefined);
    }
    return flight;
  }
}

/**
 * Past the worker's cache time the server's token still serves until it expires: its refresh is then
 * due or under way, and asking for a fresh token would replace that refresh with a second request.
 * Such a grant is used but not kept, so the next call reads again.
 */
function isUnexpired(grant: TokenGrant, now: number): boolean {
  return grant.status === 'OK' && grant.token !== undefined && now < grant.token.expiresAt;
}

function isRefused(grant: TokenGrant): boolean {
  return grant.status !== 'OK' && !grant.acquiring;
}

function usable(server: string, grant: TokenGrant): UsableToken {
  if (grant.status === 'Deleted') throw nonRetryable(WebServiceCallFailure.ServerDeleted, `OAuth server ${server} has been deleted`);
  if (grant.status === 'Error') {
    throw nonRetryable(
      WebServiceCallFailure.ServerDisabled,
      `OAuth server ${server} is disabled: ${grant.disabledReason?.message ?? 'no reason recorded'}`,
      grant.disabledReason,
    );
  }
  if (grant.status !== 'OK' || !grant.token) {
    throw nonRetryable(WebServiceCallFailure.ServerNotAuthorized, `OAuth server ${server} is not authorized: an admin must authorize it`);
  }
  return { token: grant.token, allowedOrigins: grant.allowedOrigins, invalidTokenStatuses: grant.invalidTokenStatuses ?? [] };
}
