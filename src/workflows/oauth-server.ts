import * as wf from '@temporalio/workflow';
import type { AcquiredToken, AcquireTokenInput } from '../activities/acquire-token';
import type { OAuthServerConfig } from '../oauth/config';
import { NON_RETRYABLE_TOKEN_ERROR_CODES } from '../oauth/errors';
import { refreshAt } from '../oauth/token-timing';
import { workflowNow } from './clock';
import {
  authorizeUpdate,
  freshTokenUpdate,
  serverViewQuery,
  tokenGrantQuery,
  type DisabledReason,
  type HeldToken,
  type ServerStatus,
  type ServerView,
  type TokenGrant,
} from './definitions';
import { disabledReasonFrom } from './disabled-reason';
import { publicConfig } from './public-config';
import { OAUTH_SERVER_STATUS } from './search-attributes';

/** State that survives continue-as-new. */
export interface ServerState {
  status: ServerStatus;
  token?: HeldToken;
  disabledReason?: DisabledReason;
  tokenSerial: number;
  acquisitionPending: boolean;
}

export interface OAuthServerWorkflowInput {
  config: OAuthServerConfig;
  /** Absent on the first run: a new server requests its first token at once. */
  state?: ServerState;
}

interface TokenActivities {
  acquireOAuthToken(input: AcquireTokenInput): Promise<AcquiredToken>;
}

/** Backoff between token attempts; the attempt count and the overall bound come from the configuration. */
const TOKEN_RETRY_INITIAL_INTERVAL = '1 second';
const TOKEN_RETRY_MAX_INTERVAL = '10 seconds';

/**
 * The one long-lived workflow of an OAuth server: the record of its configuration and state, the
 * holder of its current token, and the only place a token is requested from.
 */
export async function oauthServerWorkflow(input: OAuthServerWorkflowInput): Promise<void> {
  const config = input.config;
  const state: ServerState = input.state ?? { status: 'NotAuthorized', tokenSerial: 0, acquisitionPending: true };
  let acquiring = false;

  const grant = (): TokenGrant => ({
    status: state.status,
    allowedOrigins: config.allowedOrigins,
    token: state.token,
    acquiring: acquiring || state.acquisitionPending,
    disabledReason: state.disabledReason,
  });
  const view = (): ServerView => ({
    config: publicConfig(config),
    status: state.status,
    acquiring: acquiring || state.acquisitionPending,
    disabledReason: state.disabledReason,
    tokenExpiresAt: state.token ? new Date(state.token.expiresAt).toISOString() : undefined,
    grantedScope: state.token?.grantedScope,
    tokenSerial: state.tokenSerial,
  });
  const settled = () => !acquiring && !state.acquisitionPending;
  /** A request that arrives while a token is being fetched shares that fetch instead of starting another. */
  const requestAcquisition = () => {
    if (!acquiring) state.acquisitionPending = true;
  };

  wf.setHandler(serverViewQuery, view);
  wf.setHandler(tokenGrantQuery, grant);
  wf.setHandler(
    freshTokenUpdate,
    async ({ rejectedSerial }) => {
      if (rejectedSerial !== undefined && state.status === 'OK' && state.token?.serial === rejectedSerial) requestAcquisition();
      await wf.condition(settled);
      return grant();
    },
    {
      validator: (request) => {
        const serial: unknown = (request as { rejectedSerial?: unknown } | undefined)?.rejectedSerial;
        if (serial !== undefined && !Number.isSafeInteger(serial)) throw new TypeError('rejectedSerial must be an integer');
        if (state.status !== 'OK' && settled()) throw disabledFailure();
      },
    },
  );
  wf.setHandler(authorizeUpdate, async () => {
    requestAcquisition();
    await wf.condition(settled);
    return view();
  });

  const disabledFailure = () =>
    wf.ApplicationFailure.nonRetryable(
      state.status === 'Error' ? `OAuth server ${config.name} is disabled: ${state.disabledReason?.message ?? 'unknown reason'}` : `OAuth server ${config.name} is not authorized`,
      state.status === 'Error' ? 'OAuthServerDisabled' : 'OAuthServerNotAuthorized',
    );

  const acquire = async () => {
    state.acquisitionPending = false;
    acquiring = true;
    const startedAt = workflowNow();
    try {
      const token = await tokenActivities(config).acquireOAuthToken({ config });
      state.tokenSerial += 1;
      state.token = {
        accessToken: token.accessToken,
        serial: state.tokenSerial,
        obtainedAt: token.requestedAt,
        expiresAt: token.requestedAt + token.expiresInSeconds * 1000,
        grantedScope: token.grantedScope,
      };
      state.status = 'OK';
      state.disabledReason = undefined;
    } catch (error) {
      if (!(error instanceof wf.ActivityFailure)) throw error;
      state.token = undefined;
      state.status = 'Error';
      state.disabledReason = disabledReasonFrom(error, workflowNow() - startedAt, workflowNow(), config.maxWait);
    } finally {
      acquiring = false;
      wf.upsertSearchAttributes([{ key: OAUTH_SERVER_STATUS, value: state.status }]);
    }
  };

  for (;;) {
    if (!state.acquisitionPending) {
      const wake = () => state.acquisitionPending || wf.workflowInfo().continueAsNewSuggested;
      if (state.status === 'OK' && state.token) {
        const refreshDue = !(await wf.condition(wake, Math.max(1, refreshAt(state.token.obtainedAt, state.token.expiresAt) - workflowNow())));
        if (refreshDue) state.acquisitionPending = true;
      } else {
        await wf.condition(wake);
      }
    }
    if (state.acquisitionPending) await acquire();
    if (wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof oauthServerWorkflow>({ config, state });
    }
  }
}

function tokenActivities(config: OAuthServerConfig): TokenActivities {
  return wf.proxyActivities<TokenActivities>({
    scheduleToCloseTimeout: config.maxWait,
    startToCloseTimeout: config.maxWait,
    retry: {
      maximumAttempts: config.maxRetryAttempts,
      initialInterval: TOKEN_RETRY_INITIAL_INTERVAL,
      maximumInterval: TOKEN_RETRY_MAX_INTERVAL,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TOKEN_ERROR_CODES],
    },
  });
}
