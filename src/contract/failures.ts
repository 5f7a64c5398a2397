import { ApplicationFailure } from '@temporalio/common';
import {
  LOCAL_TOKEN_ERROR_CODES,
  NON_RETRYABLE_LOCAL_TOKEN_ERRORS,
  NON_RETRYABLE_OAUTH_ERRORS,
  OAUTH_ERROR_CODES,
  type TokenErrorDetails,
} from '../oauth/errors';

/**
 * Failure types of webServiceCall. A workflow author matches on these; the non-retryable ones are
 * also named in the workflow helper's retry policy.
 */
export const WebServiceCallFailure = {
  ServerDisabled: 'OAuthServerDisabled',
  ServerNotAuthorized: 'OAuthServerNotAuthorized',
  ServerNotFound: 'OAuthServerNotFound',
  ServerDeleted: 'OAuthServerDeleted',
  OriginNotAllowed: 'OriginNotAllowed',
  RedirectRefused: 'RedirectRefused',
  InvalidInput: 'InvalidWebServiceCallInput',
  ResponseTooLarge: 'ResponseTooLarge',
  InvalidResponseBody: 'InvalidResponseBody',
  /** A 4xx the caller must fix (any but 408 and 429), or a 401 that a fresh token did not cure. */
  HttpClientError: 'HttpClientError',
  /** 5xx, 408 and 429: Temporal retries these, after `Retry-After` when the server sends one. */
  HttpRetryableStatus: 'HttpRetryableStatus',
  /** A 5xx, 408 or 429 whose `Retry-After` asks for longer than webServiceCall waits: the workflow decides. */
  RetryAfterTooLong: 'HttpRetryAfterTooLong',
  /** Connection refused or reset, or the call timed out. */
  HttpTransport: 'HttpTransport',
  /**
   * The API rejected the server's token again, too soon after a rejected token was replaced: a
   * server replaces rejected tokens at most once per 30 s, so that an API that rejects every token
   * cannot make it hammer its authorization server.
   */
  RejectedTokenRefreshRationed: 'OAuthRejectedTokenRefreshRationed',
} as const;

export const NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES: readonly string[] = [
  WebServiceCallFailure.ServerDisabled,
  WebServiceCallFailure.ServerNotAuthorized,
  WebServiceCallFailure.ServerNotFound,
  WebServiceCallFailure.ServerDeleted,
  WebServiceCallFailure.OriginNotAllowed,
  WebServiceCallFailure.RedirectRefused,
  WebServiceCallFailure.InvalidInput,
  WebServiceCallFailure.ResponseTooLarge,
  WebServiceCallFailure.InvalidResponseBody,
  WebServiceCallFailure.HttpClientError,
  WebServiceCallFailure.RetryAfterTooLong,
  WebServiceCallFailure.RejectedTokenRefreshRationed,
];

/** The failures by which a server says it cannot give a token right now (a dependent pauses on these). */
export const SERVER_UNAVAILABLE_FAILURES: readonly string[] = [WebServiceCallFailure.ServerDisabled, WebServiceCallFailure.ServerNotAuthorized];

/** Failure types of the server workflow's own refusals, seen by the admin API and by dependents. */
export const ServerFailure = {
  Deleted: WebServiceCallFailure.ServerDeleted,
  NotFound: WebServiceCallFailure.ServerNotFound,
  HasDependents: 'OAuthServerHasDependents',
  RegistrationRefused: 'OAuthServerRegistrationRefused',
  /** A registration past what one server can carry: its dependents' IDs must fit in one payload. */
  TooManyDependents: 'OAuthServerTooManyDependents',
  /** An update or a start whose payload is not what the contract says. */
  InvalidRequest: 'InvalidOAuthServerRequest',
  /**
   * A start or an update sent in clear by a client without the codec keys: anyone who can reach the
   * namespace could otherwise point a server at a token endpoint of theirs.
   */
  NotEncrypted: 'OAuthServerInputNotEncrypted',
} as const;

/** The type of the failed attempt that stands for a scheduled refresh's wait. */
export const REFRESH_NOT_DUE = 'OAuthTokenRefreshNotDue';

/** The token activity's type for an OAuth `error` outside RFC 6749's codes. */
export const OTHER_OAUTH_ERROR = 'other_oauth_error';

/**
 * Failure types of the token activity. Temporal stores a failure's type in clear, so it is one of
 * this fixed set: the RFC 6749 codes, the plugin's own codes, and OTHER_OAUTH_ERROR. Whatever else
 * an authorization server sends as `error` stays in the failure's encoded message and details.
 */
export const TOKEN_FAILURE_TYPES = [...OAUTH_ERROR_CODES, ...LOCAL_TOKEN_ERROR_CODES, OTHER_OAUTH_ERROR] as const;
export type TokenFailureType = (typeof TOKEN_FAILURE_TYPES)[number];

/** The token failures the server workflow's retry policy must not retry. */
export const NON_RETRYABLE_TOKEN_FAILURES: readonly TokenFailureType[] = [...NON_RETRYABLE_OAUTH_ERRORS, ...NON_RETRYABLE_LOCAL_TOKEN_ERRORS];

export function tokenFailureType(details: TokenErrorDetails): TokenFailureType {
  if (details.kind !== 'oauth') return details.code;
  return OAUTH_ERROR_CODES.find((code) => code === details.code) ?? OTHER_OAUTH_ERROR;
}

/** Failure types of the import-source workflow. */
export const ImportFailure = {
  InvalidPage: 'InvalidImportPage',
  InvalidSource: 'InvalidImportSource',
  /** Started in clear by a client without the codec keys. */
  NotEncrypted: 'ImportSourceInputNotEncrypted',
} as const;

export function nonRetryable(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}
