import { z } from 'zod';
import { nonRetryable, WebServiceCallFailure } from '../contract/failures';
import type { WebServiceCallInput } from './web-service-call-types';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** RFC 9110 §5.1 and §5.5: what a header line can carry; anything else would be refused by the HTTP client, or worse, split the request. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const queryValue = z.union([z.string(), z.number(), z.boolean()]);

const inputSchema = z
  .object({
    server: z.string({ error: 'server must be the name of an OAuth server' }).min(1).max(50),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], { error: 'method must be GET, HEAD, POST, PUT, PATCH or DELETE' }).default('GET'),
    url: z
      .string({ error: 'url must be text' })
      .refine((url) => URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol), { error: 'url must be an absolute http(s) URL' })
      .refine((url) => !URL.canParse(url) || (!new URL(url).username && !new URL(url).password), { error: 'url must not carry credentials' }),
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
    timeoutMs: z.number().int().min(1).max(15 * 60_000, { error: 'timeoutMs must be at most 15 minutes' }).default(DEFAULT_TIMEOUT_MS),
    maxResponseBytes: z.number().int().min(0).max(1024 * 1024 * 1024).default(DEFAULT_MAX_RESPONSE_BYTES),
  })
  .strict();

export type ParsedWebServiceCallInput = z.output<typeof inputSchema>;

export function parseWebServiceCallInput(input: WebServiceCallInput): ParsedWebServiceCallInput {
  const result = inputSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(input)'}: ${issue.message}`);
  throw nonRetryable(WebServiceCallFailure.InvalidInput, `Invalid webServiceCall input: ${issues.join('; ')}`, { issues });
}
