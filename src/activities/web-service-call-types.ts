/** What a workflow author passes to webServiceCall. */
export interface WebServiceCallInput {
  /** The name of the OAuth server whose token authorizes the call. */
  server: string;
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Appended to the URL's own query; an array value repeats the name. */
  query?: Record<string, string | number | boolean | Array<string | number | boolean>>;
  body?: WebServiceCallBody;
  /** One deadline for the whole call once its token is in hand: every redirect hop and the retry after a rejected token. Default 30 s, at most 15 min. */
  timeoutMs?: number;
  /**
   * Larger responses fail the call (ResponseTooLarge) rather than fill the worker's memory or
   * Temporal's payload. Default 1 MiB, at most 2 MiB less 16 KiB; a result is also refused if it
   * would not fit in a 2 MiB payload once encoded.
   */
  maxResponseBytes?: number;
  /**
   * Response headers the result keeps besides the default ones (Cache-Control, Content-Language,
   * Content-Length, Content-Location, Content-Type, Date, ETag, Expires, Last-Modified, Link,
   * Location, Retry-After); names of any case. `'*'` keeps every header, Set-Cookie included.
   */
  responseHeaders?: string[] | '*';
}

export type WebServiceCallBody =
  | { json: unknown }
  | { form: Record<string, string> }
  | { text: string; contentType?: string }
  | { base64: string; contentType?: string };

export interface WebServiceCallResult {
  status: number;
  /** Lower-case names, repeated headers joined with ", ": the default ones and those of `responseHeaders`. */
  headers: Record<string, string>;
  /** Parsed JSON, text, base64 for binary content, or null for an empty body. */
  body: unknown;
  bodyType: 'json' | 'text' | 'base64' | 'empty';
}
