import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { REFRESH_NOT_DUE, tokenFailureType } from '../contract/failures';
import type { OAuthServerConfig } from '../oauth/config';
import type { TokenErrorDetails } from '../oauth/errors';
import { SecretResolver } from '../oauth/secrets';
import { TokenEndpoints } from '../oauth/token-endpoints';
import { classifyTokenError } from '../oauth/token-request';

export interface AcquireTokenInput {
  config: OAuthServerConfig;
  /** A refresh scheduled ahead: nothing is asked before this time (workflow time, the Temporal server's clock). */
  notBefore?: number;
}

export interface AcquiredToken {
  accessToken: string;
  expiresInSeconds: number;
  expiresInDefaulted: boolean;
  grantedScope?: string;
}

/** The failure details the server workflow turns into a disabled reason. */
export type TokenFailureDetails = TokenErrorDetails & { attempt: number };

/**
 * The attempt stops this long before the acquisition's own deadline, so that running out of time
 * reaches the workflow as this activity's failure, with its attempt count and cause, rather than as
 * a bare timeout.
 */
const DEADLINE_MARGIN_MS = 250;
/** The deadline comes from the server's clock: a worker clock running ahead must not leave an exchange no time at all. */
const MIN_EXCHANGE_MS = 500;

export interface AcquireTokenDependencies {
  secrets: SecretResolver;
  /** Upper bound on one HTTP exchange; the retry policy bounds the whole acquisition. */
  requestTimeoutMs: number;
}

/**
 * A scheduled refresh's attempts before its due time are its wait, not token requests: they end here,
 * outside the token request's metrics and span.
 */
export function whenDue(acquire: (input: AcquireTokenInput) => Promise<AcquiredToken>) {
  return async function acquireOAuthToken(input: AcquireTokenInput): Promise<AcquiredToken> {
    const { notBefore } = input;
    const { currentAttemptScheduledTimestampMs } = Context.current().info;
    if (notBefore !== undefined && currentAttemptScheduledTimestampMs < notBefore) {
      // Temporal writes no history for a retry, so waiting as a retry delay costs the server's history nothing.
      // Both times are the Temporal server's: the next attempt is due when the refresh is, whatever this worker's clock says.
      throw ApplicationFailure.create({
        type: REFRESH_NOT_DUE,
        message: `token refresh due at ${new Date(notBefore).toISOString()}`,
        nextRetryDelay: notBefore - currentAttemptScheduledTimestampMs,
        // Expected on every refresh: logged at debug level, and counted as no failure in the worker's metrics.
        category: ApplicationFailureCategory.BENIGN,
      });
    }
    return acquire(input);
  };
}

export function createAcquireToken({ secrets, requestTimeoutMs }: AcquireTokenDependencies) {
  const endpoints = new TokenEndpoints();
  return async function acquireOAuthToken({ config, notBefore }: AcquireTokenInput): Promise<AcquiredToken> {
    const context = Context.current();
    const { attempt: activityAttempt, scheduledTimestampMs, scheduleToCloseTimeoutMs } = context.info;
    // That wait took the first attempt, which the retry policy adds to maxRetryAttempts.
    const attempt = notBefore !== undefined && scheduledTimestampMs < notBefore ? activityAttempt - 1 : activityAttempt;
    const deadline = scheduledTimestampMs + scheduleToCloseTimeoutMs - DEADLINE_MARGIN_MS;
    const exchangeTimeoutMs = () => Math.max(MIN_EXCHANGE_MS, Math.min(requestTimeoutMs, deadline - Date.now()));
    const sensitive: string[] = [];
    try {
      const secret = await secrets.resolve(config.clientSecret);
      sensitive.push(secret);
      const token = await endpoints.requestToken(config, { secret, exchangeTimeoutMs, signal: context.cancellationSignal }).catch(
        async (error: unknown) => {
          // A secret rotated in its store shows up as invalid_client with the old value: read it once more
          // before giving up, so that rotation needs no admin action.
          const failure = classifyTokenError(error, sensitive);
          if (failure.code !== 'invalid_client' || config.clientSecret.source !== 'external') throw failure;
          const reread = await secrets.resolve(config.clientSecret, { fresh: true });
          if (reread === secret) throw failure;
          sensitive.push(reread);
          return endpoints.requestToken(config, { secret: reread, exchangeTimeoutMs, signal: context.cancellationSignal });
        },
      );
      return token;
    } catch (error) {
      // A cancelled or shut-down attempt is not the token endpoint's fault: let the SDK report it as such.
      if (context.cancellationSignal.aborted) throw error;
      const failure = classifyTokenError(error, sensitive);
      const details: TokenFailureDetails = { ...failure.toDetails(), attempt };
      throw ApplicationFailure.create({
        // Temporal keeps a failure's type in clear: what the server sent stays in the encoded message and details.
        type: tokenFailureType(details),
        message: failure.message,
        // With no time left, or a Retry-After that reaches past the deadline, another attempt could only
        // be cut short by the acquisition's timeout: give up now, with this cause.
        nonRetryable: !failure.retryable || attempt >= config.maxRetryAttempts || Date.now() + (failure.retryAfterMs ?? 0) >= deadline,
        details: [details],
        nextRetryDelay: failure.retryAfterMs,
      });
    }
  };
}
