import { z } from 'zod';
import { durationToMs } from './duration';
import { isSecureOrLoopback } from './loopback';
import { ConfigValidationError, type ConfigIssue } from './errors';
import {
  DEFAULT_CATEGORY,
  DEFAULT_MAX_RETRY_ATTEMPTS,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_RECOVERY_INITIAL_DELAY_MS,
  DEFAULT_RECOVERY_MAX_DELAY_MS,
  MAX_MAX_WAIT_MS,
  MAX_RECOVERY_DELAY_MS,
  MIN_MAX_WAIT_MS,
  MIN_RECOVERY_DELAY_MS,
} from './config-bounds';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

// eslint-disable-next-line no-control-regex -- the rule is exactly "no control characters"
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** RFC 6749 Appendix A: VSCHAR is %x20-7E; a client ID with a space cannot be sent in Basic auth. */
const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;
/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** RFC 3986 scheme followed by a provider-specific reference, e.g. `env:CRM_SECRET`, `file:/run/s`. */
const EXTERNAL_REF = /^[a-z][a-z0-9+.-]*:\S+$/;

/** Parameters the protocol itself sets; letting a user override them would break or weaken it. */
function isProtocolParameter(name: string): boolean {
  const lower = name.toLowerCase();
  return ['grant_type', 'client_id', 'client_secret', 'scope'].includes(lower) || lower.startsWith('client_assertion');
}

const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be text` })
    .max(max, { error: `${what} must be at most ${max} characters` })
    .refine((value) => !CONTROL_CHARACTERS.test(value), { error: `${what} must not contain control characters` });

/**
 * Milliseconds or ISO-8601 (`PT1M`), between `min` and `max` ms, stored as milliseconds. Refinements
 * rather than issues raised in a transform: inside a union only those keep their own message.
 */
const duration = (what: string, min: number, max: number, range: string) =>
  z
    .union([z.number(), z.string()], { error: `${what} must be milliseconds or an ISO-8601 duration such as PT1M` })
    .refine((value) => durationToMs(value) !== undefined, { error: `${what} must be milliseconds or an ISO-8601 duration such as PT1M` })
    .transform((value) => durationToMs(value) ?? Number.NaN)
    .refine((ms) => ms >= min && ms <= max, { error: `${what} must be between ${range}` });

/**
 * Off unless set: `true` probes with the default delays. `false` is kept as it is (not dropped), so
 * that an edit can turn probing off again.
 */
const autoRecover = z
  .union(
    [
      z.boolean(),
      z
        .object({
          initialDelay: duration('autoRecover.initialDelay', MIN_RECOVERY_DELAY_MS, MAX_RECOVERY_DELAY_MS, '1 second and 24 hours').default(DEFAULT_RECOVERY_INITIAL_DELAY_MS),
          maxDelay: duration('autoRecover.maxDelay', MIN_RECOVERY_DELAY_MS, MAX_RECOVERY_DELAY_MS, '1 second and 24 hours').default(DEFAULT_RECOVERY_MAX_DELAY_MS),
        })
        .strict()
        .refine((delays) => !(delays.maxDelay < delays.initialDelay), {
          path: ['maxDelay'],
          error: 'autoRecover.maxDelay must not be shorter than autoRecover.initialDelay',
        }),
    ],
    { error: 'autoRecover must be true, false or { initialDelay, maxDelay }' },
  )
  .transform((value) => (value === true ? { initialDelay: DEFAULT_RECOVERY_INITIAL_DELAY_MS, maxDelay: DEFAULT_RECOVERY_MAX_DELAY_MS } : value))
  .optional();

const secureUrl = (what: string) =>
  z
    .string({ error: `${what} must be a URL` })
    .refine((value) => URL.canParse(value), { error: `${what} must be an absolute URL` })
    .refine((value) => !URL.canParse(value) || isSecureOrLoopback(new URL(value)), {
      error: `${what} must use https (http is allowed for loopback hosts only)`,
    });

/** A token endpoint, configured or read from an issuer's metadata: where the secret goes. */
export const tokenEndpointUrlSchema = (what: string) =>
  secureUrl(what).refine((value) => !URL.canParse(value) || !new URL(value).hash, { error: `${what} must not have a fragment` });

const secretValue = z
  .string({ error: 'clientSecret.value must be text' })
  .min(1, { error: 'clientSecret.value must not be empty' })
  .max(16_384, { error: 'clientSecret.value must be at most 16384 characters' });

export const clientSecretSchema = z.discriminatedUnion(
  'source',
  [
    z.object({ source: z.literal('local'), value: secretValue }).strict(),
    z
      .object({
        source: z.literal('external'),
        ref: z
          .string({ error: 'clientSecret.ref must be text' })
          .max(1_000, { error: 'clientSecret.ref must be at most 1000 characters' })
          .regex(EXTERNAL_REF, { error: 'clientSecret.ref must look like provider:reference, e.g. env:NAME or file:/path' }),
      })
      .strict(),
  ],
  { error: "clientSecret must be { source: 'local', value } or { source: 'external', ref }" },
);
export type ClientSecret = z.infer<typeof clientSecretSchema>;

const parameters = (field: 'queryParams' | 'postParams') =>
  z
    .array(
      z
        .object({
          name: z
            .string({ error: `${field} name must be text` })
            .min(1, { error: `${field} name must not be empty` })
            .max(200, { error: `${field} name must be at most 200 characters` })
            .refine((name) => !CONTROL_CHARACTERS.test(name), { error: `${field} name must not contain control characters` })
            .refine((name) => !isProtocolParameter(name), {
              error: `${field} must not set a parameter the protocol owns (grant_type, client_id, client_secret, client_assertion*, scope)`,
            }),
          value: text(4_000, `${field} value`),
        })
        .strict(),
      { error: `${field} must be a list of { name, value } pairs` },
    )
    .max(50, { error: `${field} must have at most 50 entries` })
    .default([]);

const origin = z
  .string({ error: 'allowedOrigins entries must be text' })
  .refine((value) => URL.canParse(value), { error: 'allowedOrigins entries must be origins such as https://api.example.com' })
  .transform((value, context) => {
    const url = new URL(value);
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password || value.endsWith('/')) {
      context.addIssue({ code: 'custom', message: 'allowedOrigins entries must be bare origins (scheme://host[:port]), no path' });
      return z.NEVER;
    }
    if (!isSecureOrLoopback(url)) {
      context.addIssue({ code: 'custom', message: 'allowedOrigins entries must use https (http for loopback hosts only)' });
      return z.NEVER;
    }
    return url.origin;
  });

export const oauthServerConfigSchema = z
  .object({
    name: text(50, 'name')
      .refine((name) => name.trim().length > 0, { error: 'name must not be empty' })
      .refine((name) => name === name.trim(), { error: 'name must not start or end with spaces' }),
    category: text(100, 'category').default(DEFAULT_CATEGORY),
    grantType: z.literal('client_credentials', { error: 'grantType must be client_credentials' }).default('client_credentials'),
    authMethod: z.enum(AUTH_METHODS, { error: `authMethod must be one of ${AUTH_METHODS.join(', ')}` }).default('client_secret_basic'),
    clientId: z
      .string({ error: 'clientId must be text' })
      .regex(CLIENT_ID, { error: 'clientId must be 1-255 visible ASCII characters without spaces' }),
    clientSecret: clientSecretSchema,
    /** Left out, the token endpoint is the one the issuer's metadata names. */
    accessTokenUrl: tokenEndpointUrlSchema('accessTokenUrl').optional(),
    /**
     * The authorization server's issuer identifier (RFC 8414). When set, it is the audience of the
     * client assertion (client_secret_jwt, private_key_jwt) instead of the token URL: strict servers
     * accept only their issuer there. Without accessTokenUrl, the token endpoint is discovered from
     * the issuer's metadata.
     */
    issuer: secureUrl('issuer')
      .refine((value) => !URL.canParse(value) || (!new URL(value).hash && !new URL(value).search), {
        error: 'issuer must not have a query or a fragment',
      })
      .optional(),
    scope: z
      .string({ error: 'scope must be text' })
      .max(4_000, { error: 'scope must be at most 4000 characters' })
      .transform((scope) => scope.split(' ').filter(Boolean).join(' '))
      .refine((scope) => scope === '' || scope.split(' ').every((token) => SCOPE_TOKEN.test(token)), {
        error: 'scope must be space-delimited tokens of visible ASCII characters other than " and \\',
      })
      .default(''),
    includeScope: z.boolean({ error: 'includeScope must be true or false' }).default(true),
    maxRetryAttempts: z
      .number({ error: 'maxRetryAttempts must be a number' })
      .int({ error: 'maxRetryAttempts must be a whole number' })
      .min(1, { error: 'maxRetryAttempts must be at least 1' })
      .max(20, { error: 'maxRetryAttempts must be at most 20' })
      .default(DEFAULT_MAX_RETRY_ATTEMPTS),
    maxWait: duration('maxWait', MIN_MAX_WAIT_MS, MAX_MAX_WAIT_MS, '1 second and 15 minutes').default(DEFAULT_MAX_WAIT_MS),
    /**
     * A disabled server tries again on its own: one token acquisition (within the retry policy above)
     * after `initialDelay`, the delay doubling after each failed try up to `maxDelay`.
     */
    autoRecover,
    queryParams: parameters('queryParams'),
    postParams: parameters('postParams'),
    allowedOrigins: z
      .array(origin, { error: 'allowedOrigins must be a list of origins' })
      .max(50, { error: 'allowedOrigins must have at most 50 entries' })
      .default([]),
    /** Statuses besides 401 by which this server's APIs say "this token is no longer good" (some use 403). */
    invalidTokenStatuses: z
      .array(z.number().int().min(400).max(499), { error: 'invalidTokenStatuses must be a list of 4xx statuses' })
      .max(10, { error: 'invalidTokenStatuses must have at most 10 entries' })
      .default([]),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.authMethod === 'private_key_jwt' && config.clientSecret.source === 'local' && !looksLikePrivateKey(config.clientSecret.value)) {
      context.addIssue({
        code: 'custom',
        path: ['clientSecret', 'value'],
        message: 'clientSecret.value must be a private JWK (JSON) or a PEM private key for private_key_jwt',
      });
    }
  });

/** A syntactic check only: the key itself is imported (and can still fail) when it is used. */
export function looksLikePrivateKey(value: string): boolean {
  if (/^-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(value.trim())) return true;
  try {
    const jwk = JSON.parse(value) as unknown;
    return typeof jwk === 'object' && jwk !== null && 'kty' in jwk && 'd' in jwk;
  } catch {
    return false;
  }
}

/** What callers write: defaults may be left out and durations may be ISO-8601 text. */
export type OAuthServerConfigInput = z.input<typeof oauthServerConfigSchema>;
/** What the rest of the product holds: every default filled in, durations in milliseconds. */
export type OAuthServerConfig = z.output<typeof oauthServerConfigSchema>;

/** Validates external input; a rejection lists every field at fault and never echoes a value. */
export function parseOAuthServerConfig(input: unknown): OAuthServerConfig {
  const result = oauthServerConfigSchema.safeParse(input);
  const issues = [...(result.success ? [] : ConfigValidationError.fromZod(result.error).issues), ...missingTokenEndpoint(input)];
  if (!result.success || issues.length > 0) throw new ConfigValidationError(issues);
  return result.data;
}

/**
 * A rule on two fields, checked beside the schema rather than in it: zod skips an object's own
 * rules once some field is refused, and one refusal must name every field at fault.
 */
function missingTokenEndpoint(input: unknown): ConfigIssue[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const { accessTokenUrl, issuer } = input as Record<string, unknown>;
  if (accessTokenUrl !== undefined || issuer !== undefined) return [];
  return [{ field: 'accessTokenUrl', message: 'accessTokenUrl or issuer must be set (with issuer alone, the token endpoint is read from its metadata)' }];
}
