import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import type { ParsedWebServiceCallInput } from './web-service-call-input';
import type { ApiResponse } from './response-outcome';

/** One request of a call: the first, or one a redirect asked for. */
export interface Hop {
  url: URL;
  method: ParsedWebServiceCallInput['method'];
  headers: Record<string, string>;
  body?: ParsedWebServiceCallInput['body'];
}

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** Fetch standard, "request-body-header name", and Content-Length: they describe a body that a switch to GET drops. */
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length']);

/**
 * The request a redirect asks for, or undefined when the response is not one. Fetch standard
 * (HTTP-redirect fetch, step 12): a 303, and a POST after 301 or 302, go on as GET without the
 * body; 307 and 308 repeat the request as it was.
 */
export function redirectedHop(hop: Hop, response: ApiResponse): Hop | undefined {
  const location = response.headers.location;
  if (!REDIRECT_STATUSES.includes(response.status) || !location) return undefined;
  if (!URL.canParse(location, hop.url.href)) {
    throw nonRetryable(WebServiceCallFailure.RedirectRefused, `${hop.url.origin} redirected to a Location that is not a URL; not followed`, {
      status: response.status,
    });
  }
  const url = new URL(location, hop.url);
  const becomesGet = (response.status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') || ([301, 302].includes(response.status) && hop.method === 'POST');
  if (!becomesGet) return { ...hop, url };
  const headers = Object.fromEntries(Object.entries(hop.headers).filter(([name]) => !BODY_HEADERS.has(name.toLowerCase())));
  return { url, method: 'GET', headers };
}
