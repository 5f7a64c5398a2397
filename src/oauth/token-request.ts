import * as oauth from 'oauth4webapi';
import type { OAuthServerConfig } from './config';
import { fetch as undiciFetch } from 'undici';
import { readBounded } from './bounded-response';
import { clientAuthentication } from './client-auth';
import { NON_RETRYABLE_OAUTH_ERRORS, TokenRequestError } from './errors';
import { isLoopbackHost } from './loopback';
import { redact } from './redact';
import { isTransientStatus, parseRetryAfter } from './retry-after';

/**
 * RFC 6749 §5.1 lets a server leave `expires_in` out. A token of unknown lifetime is treated as
 * living this long, so that it is refreshed reasonably soon rather than kept until it fails.
 */
export const DEFAULT_EXPIRES_IN_SECONDS = 300;
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/**
 * A lifetime beyond a year counts as a year: some servers send "never" as a huge number, and one too
 * large for a date (or for a number: `1e400`) would break every timer and date built from it.
 */
export const MAX_EXPIRES_IN_SECONDS = 365 * 24 * 3600;

export interface AccessToken {
  accessToken: string;
  tokenType: 'bearer';
  expiresInSeconds: number;
  /** True when the server did not say, and DEFAULT_EXPIRES_IN_SECONDS was assumed. */
  expiresInDefaulted: boolean;
  /** The scope the server granted, when it says (RFC 6749 §5.1: it must when it differs from the request). */
  grantedScope?: string;
}

export interface TokenRequestOptions {
  /** The client secret, or the private key for private_key_jwt, already resolved from its store. */
  secret: string;
  /** Bound on this one HTTP exchange; the overall budget is enforced by the caller's retry policy. */
  timeoutMs: number;
  /** Aborts the exchange early, e.g. when the activity is cancelled. */
  signal?: AbortSignal;
}

/** The form parameters of a client credentials request (RFC 6749 §4.4.2), beyond client authentication. */
export function tokenRequestParameters(config: OAuthServerConfig): URLSearchParams {
  const parameters = new URLSearchParams();
  if (config.includeScope && config.scope !== '') parameters.set('scope', config.scope);
  for (const { name, value } of config.postParams) parameters.append(name, value);
  return parameters;
}

/** Where a token request goes: the configured access token URL, or the token endpoint of the issuer's metadata. */
export interface ServerEndpoint {
  tokenEndpoint: string;
  /** The issuer, as configured or as its metadata names it; left out when there is none. */
  issuer?: string;
}

export function tokenEndpointUrl(tokenEndpoint: string, config: OAuthServerConfig): URL {
  const url = new URL(tokenEndpoint);
  for (const { name, value } of config.queryParams) url.searchParams.append(name, value);
  return url;
}

/** One client credentials token request (RFC 6749 §4.4), with every failure turned into a TokenRequestError. */
export async function requestToken(config: OAuthServerConfig, server: ServerEndpoint, options: TokenRequestOptions): Promise<AccessToken> {
  const endpoint = tokenEndpointUrl(server.tokenEndpoint, config);
  const exchange: TokenExchange = {
    // Assertions (client_secret_jwt, private_key_jwt) take the server's identifier as audience: its issuer
    // when there is one, otherwise the token endpoint URL without any query (RFC 7523 §3).
    server: { issuer: server.issuer ?? `${endpoint.origin}${endpoint.pathname}`, token_endpoint: endpoint.href },
    client: { client_id: config.clientId },
    sensitiveValues: [options.secret],
  };
  let response: Response;
  try {
    response = await oauth.clientCredentialsGrantRequest(
      exchange.server,
      exchange.client,
      await clientAuthentication(config.authMethod, options.secret),
      tokenRequestParameters(config),
      {
        signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]),
        [oauth.customFetch]: (url, init) => {
          exchange.sensitiveValues.push(...credentialsIn(init));
          return undiciFetch(url, init);
        },
        [oauth.allowInsecureRequests]: endpoint.protocol === 'http:' && isLoopbackHost(endpoint.hostname),
      },
    );
  } catch (error) {
    throw classifyTokenError(error, exchange.sensitiveValues);
  }
  return tokenFromResponse(response, exchange);
}

/** Who asked whom, and what the answer must not quote back. */
export interface TokenExchange {
  server: oauth.AuthorizationServer;
  client: oauth.Client;
  sensitiveValues: string[];
}

/**
 * All of the handling of the token endpoint's answer, from the bytes received to a token or a
 * TokenRequestError, with no network: whatever status, headers and body arrive, nothing else is thrown.
 */
export async function tokenFromResponse(received: Response, exchange: TokenExchange): Promise<AccessToken> {
  try {
    const response = await readBounded(received, MAX_TOKEN_RESPONSE_BYTES);
    const declaredExpiresIn = await expiresInAsSent(response.clone());
    const body = await oauth.processClientCredentialsResponse(exchange.server, exchange.client, response);
    return accessTokenFrom(body, declaredExpiresIn);
  } catch (error) {
    throw classifyTokenError(error, exchange.sensitiveValues);
  }
}

/**
 * What the request carried that proves the client's identity, in the form the library derived it:
 * the Basic header value and the signed client assertion. A server that echoes one back in its
 * error would otherwise pass it on into a disabled reason or a log line.
 */
function credentialsIn(init: RequestInit): string[] {
  const credentials: string[] = [];
  const authorization = new Headers(init.headers).get('authorization');
  if (authorization) credentials.push(authorization, authorization.replace(/^\S+\s+/, ''));
  if (init.body instanceof URLSearchParams) {
    const secret = init.body.get('client_secret');
    if (secret) credentials.push(secret);
    const assertion = init.body.get('client_assertion');
    // An echo may quote only part of the assertion: its payload and its signature count on their own.
    if (assertion) credentials.push(assertion, ...assertion.split('.').slice(1));
  }
  return credentials;
}

/** The library reads a string `expires_in` with parseFloat, which would take "120abc" for 120: keep what the server sent. */
async function expiresInAsSent(response: Response): Promise<unknown> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? (body as { expires_in?: unknown }).expires_in : undefined;
  } catch {
    // Not JSON: the library reports that itself.
    return undefined;
  }
}

const NUMERIC_STRING = /^\s*\d+(\.\d+)?\s*$/;

function accessTokenFrom(body: oauth.TokenEndpointResponse, declaredExpiresIn: unknown): AccessToken {
  if (body.token_type !== 'bearer') {
    throw new TokenRequestError({
      kind: 'response',
      code: 'invalid_token_response',
      retryable: false,
      description: `token_type must be bearer, the server sent ${String(body.token_type).slice(0, 20)}`,
    });
  }
  if (body.access_token === '') {
    throw new TokenRequestError({ kind: 'response', code: 'invalid_token_response', retryable: false, description: 'access_token is empty' });
  }
  const notNumeric = typeof declaredExpiresIn === 'string' && !NUMERIC_STRING.test(declaredExpiresIn);
  if (body.expires_in !== undefined && (notNumeric || !(body.expires_in > 0))) {
    throw new TokenRequestError({
      kind: 'response',
      code: 'invalid_token_response',
      retryable: false,
      description: 'expires_in must be a positive number of seconds',
    });
  }
  return {
    accessToken: body.access_token,
    tokenType: 'bearer',
    expiresInSeconds: Math.min(body.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS, MAX_EXPIRES_IN_SECONDS),
    expiresInDefaulted: body.expires_in === undefined,
    grantedScope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

/**
 * Maps whatever the exchange threw onto one TokenRequestError, deciding what a retry can fix. The
 * library's own errors are never passed on: their `cause` can carry the response body. `sender`
 * names the endpoint asked in transport failures.
 */
export function classifyTokenError(error: unknown, sensitiveValues: readonly string[], sender = 'the token endpoint'): TokenRequestError {
  if (error instanceof TokenRequestError) return error;
  // The library passes on whatever JSON the server sent, whatever its declared type: only text is kept.
  const safe = (text: unknown) => (typeof text === 'string' ? redact(text, sensitiveValues) : undefined);

  if (error instanceof oauth.ResponseBodyError) {
    return new TokenRequestError({
      kind: 'oauth',
      code: safe(error.error) ?? 'server_error',
      retryable: isRetryableOAuthError(error.error, error.status),
      status: error.status,
      description: safe(error.error_description),
      retryAfterMs: parseRetryAfter(error.response.headers.get('retry-after')),
    });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // FACTS: a wrong secret comes back as a 401 challenge; its error parameter (or the status) says invalid_client.
    const parameters = error.cause[0]?.parameters;
    const code = parameters?.error ?? (error.status === 401 ? 'invalid_client' : 'server_error');
    return new TokenRequestError({
      kind: 'oauth',
      code: safe(code) ?? 'invalid_client',
      retryable: isRetryableOAuthError(code, error.status),
      status: error.status,
      description: safe(parameters?.error_description),
      retryAfterMs: parseRetryAfter(error.response.headers.get('retry-after')),
    });
  }
  // Any complaint about a non-success answer (wrong status, not JSON, no OAuth error body) is about the status.
  if (error instanceof oauth.OperationProcessingError && error.cause instanceof Response && error.cause.status !== 200) {
    const status = error.cause.status;
    return new TokenRequestError({
      kind: 'transport',
      code: 'unexpected_status',
      retryable: isTransientStatus(status),
      status,
      description: `${sender} answered HTTP ${status} without an OAuth error body`,
      retryAfterMs: parseRetryAfter(error.cause.headers.get('retry-after')),
    });
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    return new TokenRequestError({ kind: 'response', code: 'invalid_token_response', retryable: false, description: safe(error.message) });
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new TokenRequestError({ kind: 'transport', code: 'timeout', retryable: true, description: `${sender} did not answer in time` });
  }
  if (error instanceof TypeError) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : error.message;
    return new TokenRequestError({
      kind: 'transport',
      code: 'connection_failed',
      retryable: true,
      description: `could not reach ${sender}: ${safe(reason)}`,
    });
  }
  return new TokenRequestError({
    kind: 'transport',
    code: 'unexpected_error',
    retryable: true,
    description: safe(error instanceof Error ? error.message : String(error)),
  });
}

function isRetryableOAuthError(code: string, status: number): boolean {
  if ((NON_RETRYABLE_OAUTH_ERRORS as readonly string[]).includes(code)) return false;
  return isTransientStatus(status);
}
