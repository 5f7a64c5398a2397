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
  /** Bound on one HTTP exchange, headers and body together. Default 30 s. */
  timeoutMs?: number;
  /** Larger responses fail the call rather than fill the worker's memory. Default 10 MiB. */
  maxResponseBytes?: number;
}

export type WebServiceCallBody =
  | { json: unknown }
  | { form: Record<string, string> }
  | { text: string; contentType?: string }
  | { base64: string; contentType?: string };

export interface WebServiceCallResult {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON, text, base64 for binary content, or null for an empty body. */
  body: unknown;
  bodyType: 'json' | 'text' | 'base64' | 'empty';
}
