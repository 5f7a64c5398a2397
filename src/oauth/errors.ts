import type { z } from 'zod';

/** One rejected field of a configuration: its dotted path and the rule it broke, never its value. */
export interface ConfigIssue {
  field: string;
  message: string;
}

export class ConfigValidationError extends Error {
  readonly code = 'OAUTH_CONFIG_INVALID';
  override readonly name = 'ConfigValidationError';

  constructor(readonly issues: ConfigIssue[]) {
    super(`Invalid OAuth server configuration: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`);
  }

  static fromZod(error: z.ZodError): ConfigValidationError {
    return new ConfigValidationError(
      error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(configuration)',
        // zod's own message for an unknown key names the key, which is what the user needs.
        message: issue.message,
      })),
    );
  }
}

/** The error codes of RFC 6749 §5.2, and the two of §4.1.2.1 that token endpoints send as well. */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** OAuth error codes that no retry can fix: the configuration or the grant is wrong. */
export const NON_RETRYABLE_OAUTH_ERRORS = [
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_grant',
] as const satisfies readonly OAuthErrorCode[];

/** The codes this side gives when there is no OAuth error body: the transport, the response or the credential failed. */
export const LOCAL_TOKEN_ERROR_CODES = [
  'unexpected_status',
  'connection_failed',
  'timeout',
  'unexpected_error',
  'invalid_token_response',
  'response_too_large',
  'secret_unavailable',
  'secret_reference_refused',
  'invalid_private_key',
  'issuer_mismatch',
  'invalid_issuer_metadata',
] as const;
export type LocalTokenErrorCode = (typeof LOCAL_TOKEN_ERROR_CODES)[number];

/** Local codes that another attempt may not meet again: the network or the server had a bad moment. */
const RETRYABLE_LOCAL_TOKEN_ERRORS: readonly LocalTokenErrorCode[] = ['unexpected_status', 'connection_failed', 'timeout', 'unexpected_error'];

/** Local codes that a second identical request would meet again. */
export const NON_RETRYABLE_LOCAL_TOKEN_ERRORS: readonly LocalTokenErrorCode[] = LOCAL_TOKEN_ERROR_CODES.filter((code) => !RETRYABLE_LOCAL_TOKEN_ERRORS.includes(code));

/** Where a token request went wrong; together with `code` it is what an operator acts on. */
export type TokenErrorKind =
  /** The authorization server answered with an OAuth error body (or a 401 challenge). */
  | 'oauth'
  /** No usable HTTP answer: refused, reset, timed out, or an HTTP error without an OAuth body. */
  | 'transport'
  /** A success status whose body is not a usable token response. */
  | 'response'
  /** The client secret or key could not be read or used. */
  | 'credential'
  /** The issuer's metadata names another issuer, or no usable token endpoint: nothing was sent to a token endpoint. */
  | 'metadata';

/**
 * `code` is what the authorization server sent as `error` (any text, redacted) for the `oauth` kind,
 * and one of LOCAL_TOKEN_ERROR_CODES for the others.
 */
export type TokenErrorDetails = TokenErrorCause & {
  retryable: boolean;
  status?: number;
  description?: string;
  retryAfterMs?: number;
};

type TokenErrorCause = { kind: 'oauth'; code: string } | { kind: Exclude<TokenErrorKind, 'oauth'>; code: LocalTokenErrorCode };

/**
 * The one error type a token request throws. Its message and fields are built only from what is
 * safe to show: the OAuth error code and description (redacted), the HTTP status, never a secret,
 * an assertion or a token, and never the library error it came from (whose `cause` can hold the
 * whole response body, token included).
 */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  private readonly details: TokenErrorDetails;
  readonly kind: TokenErrorKind;
  readonly code: string;
  readonly retryable: boolean;
  readonly status?: number;
  readonly description?: string;
  readonly retryAfterMs?: number;

  constructor(details: TokenErrorDetails) {
    super(describeTokenError(details));
    this.details = { ...details };
    this.kind = details.kind;
    this.code = details.code;
    this.retryable = details.retryable;
    this.status = details.status;
    this.description = details.description;
    this.retryAfterMs = details.retryAfterMs;
  }

  toDetails(): TokenErrorDetails {
    return { ...this.details };
  }
}

export function describeTokenError(details: TokenErrorDetails): string {
  const status = details.status === undefined ? '' : ` (HTTP ${details.status})`;
  const description = details.description ? `: ${details.description}` : '';
  return `${details.code}${status}${description}`;
}
