import { z } from 'zod';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, MAX_RESPONSE_BYTES, MAX_TIMEOUT_MS } from '../contract/web-service-call-limits';
import { keptResponseHeaders } from './kept-response-headers';
import type { WebServiceCallInput } from './web-service-call-types';

/** RFC 9110 §5.1 and §5.5: what a header line can carry; anything else would be refused by the HTTP client, or worse, split the request. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** What a call without a method sends. */
export const DEFAULT_METHOD = 'GET';

/** More names than any API sends headers: a longer list is a mistake, not a wish. */
const MAX_RESPONSE_HEADER_NAMES = 100;

const responseHeaderNames = z
  .array(
    z
      .string()
      .regex(HEADER_NAME, { error: 'responseHeaders names must be HTTP tokens (letters, digits and !#$%&\'*+-.^_`|~)' })
      // A '*' among names is refused rather than read as either meaning: it is no header's name.
      .refine((name) => name !== '*', { error: "responseHeaders: '*' stands alone, not in a list of names" }),
  )
  .max(MAX_RESPONSE_HEADER_NAMES);

const queryValue = z.union([z.string(), z.number(), z.boolean()]);

const inputSchema = z
  .object({
    server: z.string({ error: 'server must be the name of an OAuth server' }).min(1).max(50),
    method: z.enum(METHODS, { error: 'method must be GET, HEAD, POST, PUT, PATCH or DELETE' }).default(DEFAULT_METHOD),
    // Parsed once here; the call uses the URL object from then on.
    url: z.string({ error: 'url must be text' }).transform((text, context) => {
      const url = URL.parse(text);
      if (!url || !['http:', 'https:'].includes(url.protocol)) {
        context.addIssue({ code: 'custom', message: 'url must be an absolute http(s) URL' });
        return z.NEVER;
      }
      if (url.username || url.password) {
        context.addIssue({ code: 'custom', message: 'url must not carry credentials' });
        return z.NEVER;
      }
      return url;
    }),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, { error: 'headers names must be HTTP tokens (letters, digits and !#$%&\'*+-.^_`|~)' }),
        z.string({ error: 'headers values must be text' }).regex(HEADER_VALUE, { error: 'headers values must not contain line breaks or control characters' }),
      )
      .refine((headers) => !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization'), {
        error: 'headers must not set Authorization: the OAuth server provides it',
      })
      .default({}),
    query: z.record(z.string(), z.union([queryValue, z.array(queryValue)]), { error: 'query must map names to values' }).default({}),
    body: z
      .union(
        [
          z.object({ json: z.unknown() }).strict(),
          z.object({ form: z.record(z.string(), z.string()) }).strict(),
          z.object({ text: z.string(), contentType: z.string().optional() }).strict(),
          z.object({ base64: z.base64(), contentType: z.string().optional() }).strict(),
        ],
        { error: 'body must be one of { json }, { form }, { text }, { base64 }' },
      )
      .optional(),
    timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS, { error: 'timeoutMs must be at most 15 minutes' }).default(DEFAULT_TIMEOUT_MS),
    maxResponseBytes: z
      .number()
      .int()
      .min(0)
      .max(MAX_RESPONSE_BYTES, { error: `maxResponseBytes must be at most ${MAX_RESPONSE_BYTES}: a result must fit in a Temporal payload (2 MiB)` })
      .default(DEFAULT_MAX_RESPONSE_BYTES),
    responseHeaders: z
      .union([z.literal('*'), responseHeaderNames], {
        error: `responseHeaders must be '*' or a list of at most ${MAX_RESPONSE_HEADER_NAMES} header names (HTTP tokens)`,
      })
      .optional()
      .transform(keptResponseHeaders),
  })
  .strict()
  .transform((input) => ({ ...input, url: withQuery(input.url, input.query) }));

/** The URL's own query is kept; an array value repeats its name; numbers and booleans go as text. */
function withQuery(url: URL, query: Record<string, z.output<typeof queryValue> | Array<z.output<typeof queryValue>>>): URL {
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
  }
  return url;
}

export type ParsedWebServiceCallInput = z.output<typeof inputSchema>;

export function parseWebServiceCallInput(input: WebServiceCallInput): ParsedWebServiceCallInput {
  const result = inputSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`);
  throw nonRetryable(WebServiceCallFailure.InvalidInput, `Invalid webServiceCall input: ${issues.join('; ')}`, { issues });
}
