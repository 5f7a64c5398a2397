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

/** OAuth error codes (RFC 6749 §5.2) that no retry can fix: the configuration or the grant is wrong. */
export const NON_RETRYABLE_OAUTH_ERRORS = [
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_grant',
] as const;

/**
 * Codes a retry policy must not retry: the OAuth errors above plus the client-side ones that a
 * second identical request would meet again.
 */
export const NON_RETRYABLE_TOKEN_ERROR_CODES: readonly string[] = [
  ...NON_RETRYABLE_OAUTH_ERRORS,
  'invalid_token_response',
  'response_too_large',
  'secret_unavailable',
  'invalid_private_key',
];

/** Where a token request went wrong; together with `code` it is what an operator acts on. */
export type TokenErrorKind =
  /** The authorization server answered with an OAuth error body (or a 401 challenge). */
  | 'oauth'
  /** No usable HTTP answer: refused, reset, timed out, or an HTTP error without an OAuth body. */
  | 'transport'
  /** A success status whose body is not a usable token response. */
  | 'response'
  /** The client secret or key could not be read or used. */
  | 'credential';

export interface TokenErrorDetails {
  kind: TokenErrorKind;
  code: string;
  retryable: boolean;
  status?: number;
  description?: string;
  retryAfterMs?: number;
}

/**
 * The one error type a token request throws. Its message and fields are built only from what is
 * safe to show: the OAuth error code and description (redacted), the HTTP status, never a secret,
 * an assertion or a token, and never the library error it came from (whose `cause` can hold the
 * whole response body, token included).
 */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  readonly kind: TokenErrorKind;
  readonly code: string;
  readonly retryable: boolean;
  readonly status?: number;
  readonly description?: string;
  readonly retryAfterMs?: number;

  constructor(details: TokenErrorDetails) {
    super(describeTokenError(details));
    this.kind = details.kind;
    this.code = details.code;
    this.retryable = details.retryable;
    this.status = details.status;
    this.description = details.description;
    this.retryAfterMs = details.retryAfterMs;
  }

  toDetails(): TokenErrorDetails {
    return {
      kind: this.kind,
      code: this.code,
      retryable: this.retryable,
      status: this.status,
      description: this.description,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

export function describeTokenError(details: TokenErrorDetails): string {
  const status = details.status === undefined ? '' : ` (HTTP ${details.status})`;
  const description = details.description ? `: ${details.description}` : '';
  return `${details.code}${status}${description}`;
}
