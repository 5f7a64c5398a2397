/**
 * The response headers a webServiceCall result keeps when the call names no others: what callers
 * read to interpret a body, cache it, page through it or come back later. The rest (Set-Cookie,
 * tracing and server headers) would only grow every result in the workflow's history, in clear.
 */
export const DEFAULT_RESPONSE_HEADERS: readonly string[] = [
  'cache-control',
  'content-language',
  'content-length',
  'content-location',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'link',
  'location',
  'retry-after',
];

/** What the result keeps: every header, or these lower-case names. */
export type KeptResponseHeaders = '*' | ReadonlySet<string>;

const DEFAULT_KEPT: KeptResponseHeaders = new Set(DEFAULT_RESPONSE_HEADERS);

/** The default headers with the call's own (names of any case), or every header for '*'. */
export function keptResponseHeaders(named: '*' | readonly string[] | undefined): KeptResponseHeaders {
  if (named === '*') return '*';
  if (named === undefined || named.length === 0) return DEFAULT_KEPT;
  return new Set([...DEFAULT_RESPONSE_HEADERS, ...named.map((name) => name.toLowerCase())]);
}

/** `headers` (lower-case names, as the exchange gives them) cut down to the kept ones. */
export function keepResponseHeaders(headers: Record<string, string>, kept: KeptResponseHeaders): Record<string, string> {
  if (kept === '*') return headers;
  const result: Record<string, string> = {};
  // Own names only: a call may name `constructor` or `tostring`, which every object inherits.
  for (const name of kept) if (Object.hasOwn(headers, name)) result[name] = headers[name]!;
  return result;
}
