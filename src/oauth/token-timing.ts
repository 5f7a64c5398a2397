/**
 * When a token should be replaced, and until when a worker may reuse it without asking again.
 * The two margins are ordered so that, by the time any worker stops trusting its copy, the server
 * workflow has already fetched the next token: callers never hold an expired token, even for
 * tokens that live only a few seconds. Pure arithmetic, shared by the workflow and the workers.
 */
const MAX_REFRESH_LEAD_MS = 60_000;
const MAX_CACHE_LEAD_MS = 30_000;

/** The workflow refreshes when a third of the lifetime (at most a minute) is left. */
export function refreshAt(obtainedAt: number, expiresAt: number): number {
  return expiresAt - Math.min(MAX_REFRESH_LEAD_MS, (expiresAt - obtainedAt) / 3);
}

/** Workers drop their copy when a sixth of the lifetime (at most 30 s) is left. */
export function cacheUntil(obtainedAt: number, expiresAt: number): number {
  return expiresAt - Math.min(MAX_CACHE_LEAD_MS, (expiresAt - obtainedAt) / 6);
}
