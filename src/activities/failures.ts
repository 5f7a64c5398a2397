import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types of webServiceCall. A workflow author matches on these; the non-retryable ones are
 * also named in the workflow helper's retry policy.
 */
export const WebServiceCallFailure = {
  ServerDisabled: 'OAuthServerDisabled',
  ServerNotAuthorized: 'OAuthServerNotAuthorized',
  ServerNotFound: 'OAuthServerNotFound',
  OriginNotAllowed: 'OriginNotAllowed',
  RedirectRefused: 'RedirectRefused',
  InvalidInput: 'InvalidWebServiceCallInput',
  ResponseTooLarge: 'ResponseTooLarge',
  InvalidResponseBody: 'InvalidResponseBody',
  /** A 4xx the caller must fix (any but 408 and 429), or a 401 that a fresh token did not cure. */
  HttpClientError: 'HttpClientError',
  /** 5xx, 408 and 429: Temporal retries these, after `Retry-After` when the server sends one. */
  HttpRetryableStatus: 'HttpRetryableStatus',
  /** Connection refused or reset, or the call timed out. */
  HttpTransport: 'HttpTransport',
} as const;

export const NON_RETRYABLE_WEB_SERVICE_CALL_FAILURES: readonly string[] = [
  WebServiceCallFailure.ServerDisabled,
  WebServiceCallFailure.ServerNotAuthorized,
  WebServiceCallFailure.ServerNotFound,
  WebServiceCallFailure.OriginNotAllowed,
  WebServiceCallFailure.RedirectRefused,
  WebServiceCallFailure.InvalidInput,
  WebServiceCallFailure.ResponseTooLarge,
  WebServiceCallFailure.InvalidResponseBody,
  WebServiceCallFailure.HttpClientError,
];

export function nonRetryable(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}
