import * as wf from '@temporalio/workflow';
import type { TokenRequestActivities } from '../activities/acquire-token';
import { parseOAuthServerConfig, type OAuthServerConfig } from '../oauth/config';
import { normaliseServerName } from '../oauth/server-name';
import { refreshAt } from '../oauth/token-timing';
import { workflowNow } from './clock';
import {
  authorizeUpdate,
  deleteUpdate,
  dependentsQuery,
  editUpdate,
  freshTokenUpdate,
  MAX_DEPENDENTS_PER_REGISTRATION,
  registerDependentsUpdate,
  serverViewQuery,
  tokenGrantQuery,
  tokenRequestTaskQueue,
  unregisterDependentSignal,
  type DisabledReason,
  type HeldToken,
  type ServerAvailability,
  type ServerChanges,
  type ServerStatus,
  type ServerView,
  type TokenGrant,
} from '../contract/definitions';
import { NON_RETRYABLE_TOKEN_FAILURES, ServerFailure, WebServiceCallFailure } from '../contract/failures';
import { Dependents } from './dependents';
import { disabledReasonFrom } from './disabled-reason';
import { publicConfig } from './public-config';
import { OAUTH_SERVER_CATEGORY, OAUTH_SERVER_STATUS } from '../contract/search-attributes';

/** State that survives continue-as-new. */
export interface ServerState {
  status: ServerStatus;
  token?: HeldToken;
  disabledReason?: DisabledReason;
  tokenSerial: number;
  acquisitionPending: boolean;
  dependents: string[];
  /** Grows with every availability change told to dependents. */
  availabilitySequence: number;
}

export interface OAuthServerWorkflowInput {
  config: OAuthServerConfig;
  /** Absent on the first run: a new server requests its first token at once. */
  state?: ServerState;
}

/** Backoff between token attempts; the attempt count and the overall bound come from the configuration. */
const TOKEN_RETRY_INITIAL_INTERVAL = '1 second';
const TOKEN_RETRY_MAX_INTERVAL = '10 seconds';

/**
 * The one long-lived workflow of an OAuth server: the record of its configuration and state, the
 * holder of its current token, the only place a token is requested from, and the one that tells
 * its dependents when it is disabled and enabled again.
 */
export async function oauthServerWorkflow(input: OAuthServerWorkflowInput): Promise<void> {
  let config = input.config;
  const state: ServerState = input.state ?? {
    status: 'NotAuthorized',
    tokenSerial: 0,
    acquisitionPending: true,
    dependents: [],
    availabilitySequence: 0,
  };
  const dependents = new Dependents(state.dependents);
  let acquiring = false;
  /** Bumped by every edit, so that a token requested with the old settings is not kept. */
  let configVersion = 0;
  let deleted = false;
  let toldStatus: ServerAvailability['status'] = state.status;

  const grant = (): TokenGrant => ({
    status: state.status,
    allowedOrigins: config.allowedOrigins,
    invalidTokenStatuses: config.invalidTokenStatuses,
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
    dependents: dependents.size,
  });
  const availability = (): ServerAvailability => ({
    server: config.name,
    status: deleted ? 'Deleted' : state.status,
    sequence: state.availabilitySequence,
    disabledReason: state.disabledReason,
  });
  const settled = () => !acquiring && !state.acquisitionPending;
  /** A request that arrives while a token is being fetched shares that fetch instead of starting another. */
  const requestAcquisition = () => {
    if (!acquiring) state.acquisitionPending = true;
  };
  const publishStatus = () => wf.upsertSearchAttributes([{ key: OAUTH_SERVER_STATUS, value: state.status }]);
  /** Dependents hear only of changes; a refreshed token is not news to them. */
  const tellDependents = async () => {
    const current = availability();
    if (current.status === toldStatus) return;
    toldStatus = current.status;
    state.availabilitySequence += 1;
    await dependents.notify({ ...current, sequence: state.availabilitySequence });
  };
  const refusal = () =>
    wf.ApplicationFailure.nonRetryable(
      state.status === 'Error'
        ? `OAuth server ${config.name} is disabled: ${state.disabledReason?.message ?? 'no reason recorded'}`
        : `OAuth server ${config.name} is not authorized: an admin must authorize it`,
      state.status === 'Error' ? WebServiceCallFailure.ServerDisabled : WebServiceCallFailure.ServerNotAuthorized,
    );
  const deletedFailure = () => wf.ApplicationFailure.nonRetryable(`OAuth server ${config.name} has been deleted`, ServerFailure.Deleted);
  /** A deleted server fetches no more tokens, so a request waiting for one must not wait for ever. */
  const settledOrDeleted = async () => {
    await wf.condition(() => settled() || deleted);
    if (deleted) throw deletedFailure();
  };
  const changedConfig = (changes: ServerChanges): OAuthServerConfig => {
    if (changes.name !== undefined && normaliseServerName(changes.name) !== normaliseServerName(config.name)) {
      throw new TypeError('name: an OAuth server cannot be renamed; create a new one and delete this one');
    }
    return parseOAuthServerConfig({ ...config, ...changes, name: config.name, clientSecret: changes.clientSecret ?? config.clientSecret });
  };

  wf.setHandler(serverViewQuery, view);
  wf.setHandler(tokenGrantQuery, grant);
  wf.setHandler(dependentsQuery, () => dependents.list());
  wf.setHandler(
    freshTokenUpdate,
    async ({ rejectedSerial }) => {
      if (rejectedSerial !== undefined && state.status === 'OK' && state.token?.serial === rejectedSerial) requestAcquisition();
      await settledOrDeleted();
      return grant();
    },
    {
      validator: (request) => {
        const serial: unknown = (request as { rejectedSerial?: unknown } | undefined)?.rejectedSerial;
        if (serial !== undefined && !Number.isSafeInteger(serial)) throw new TypeError('rejectedSerial must be an integer');
        if (deleted) throw deletedFailure();
        if (state.status !== 'OK' && settled()) throw refusal();
      },
    },
  );
  wf.setHandler(
    authorizeUpdate,
    async () => {
      requestAcquisition();
      await settledOrDeleted();
      return view();
    },
    {
      validator: () => {
        if (deleted) throw deletedFailure();
      },
    },
  );
  wf.setHandler(
    editUpdate,
    async (changes) => {
      const before = config;
      config = changedConfig(changes);
      configVersion += 1;
      state.token = undefined;
      state.status = 'NotAuthorized';
      state.disabledReason = undefined;
      state.acquisitionPending = false;
      if (config.category !== before.category) wf.upsertSearchAttributes([{ key: OAUTH_SERVER_CATEGORY, value: config.category }]);
      publishStatus();
      await tellDependents();
      return view();
    },
    {
      validator: (changes: ServerChanges) => {
        if (deleted) throw deletedFailure();
        changedConfig(changes);
      },
    },
  );
  wf.setHandler(
    registerDependentsUpdate,
    ({ workflowIds }) => {
      for (const workflowId of workflowIds) dependents.add(workflowId);
      return availability();
    },
    {
      validator: (registration) => {
        const workflowIds: unknown = (registration as { workflowIds?: unknown } | undefined)?.workflowIds;
        if (
          !Array.isArray(workflowIds) ||
          workflowIds.length === 0 ||
          workflowIds.length > MAX_DEPENDENTS_PER_REGISTRATION ||
          !workflowIds.every((workflowId) => typeof workflowId === 'string' && workflowId !== '')
        ) {
          throw new TypeError(`workflowIds must hold 1 to ${MAX_DEPENDENTS_PER_REGISTRATION} non-empty strings`);
        }
        if (deleted) throw deletedFailure();
      },
    },
  );
  wf.setHandler(unregisterDependentSignal, ({ workflowId }) => dependents.remove(workflowId));
  wf.setHandler(
    deleteUpdate,
    async () => {
      deleted = true;
      await tellDependents();
    },
    {
      validator: (request) => {
        const force = (request as { force?: unknown } | undefined)?.force === true;
        if (!force && dependents.size > 0) {
          throw wf.ApplicationFailure.nonRetryable(
            `OAuth server ${config.name} has ${dependents.size} live dependent(s); delete with force to stop them`,
            ServerFailure.HasDependents,
            dependents.list(),
          );
        }
      },
    },
  );

  const acquire = async () => {
    state.acquisitionPending = false;
    acquiring = true;
    const version = configVersion;
    const startedAt = workflowNow();
    try {
      const token = await tokenActivities(config).acquireOAuthToken({ config });
      if (version !== configVersion) return;
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
      if (version !== configVersion) return;
      state.token = undefined;
      state.status = 'Error';
      state.disabledReason = disabledReasonFrom(error, workflowNow() - startedAt, workflowNow(), config.maxWait);
    } finally {
      acquiring = false;
    }
    publishStatus();
    await tellDependents();
  };

  const interrupted = () => state.acquisitionPending || deleted || wf.workflowInfo().continueAsNewSuggested;
  for (;;) {
    if (!interrupted()) {
      if (state.status === 'OK' && state.token) {
        const refreshInMs = Math.max(1, refreshAt(state.token.obtainedAt, state.token.expiresAt) - workflowNow());
        if (!(await wf.condition(interrupted, refreshInMs))) requestAcquisition();
      } else {
        await wf.condition(interrupted);
      }
    }
    if (deleted) break;
    if (state.acquisitionPending) await acquire();
    if (wf.workflowInfo().continueAsNewSuggested) {
      // A handler may be waiting for a token that only this loop can fetch: go and fetch it first.
      await wf.condition(() => wf.allHandlersFinished() || state.acquisitionPending || deleted);
      if (deleted) break;
      if (state.acquisitionPending) continue;
      await wf.continueAsNew<typeof oauthServerWorkflow>({ config, state: { ...state, dependents: dependents.list() } });
    }
  }
  await wf.condition(wf.allHandlersFinished);
}

/**
 * Token requests have a task queue of their own, served beside every worker of the plugin, so that
 * webServiceCalls filling every activity slot while they wait for this very token cannot starve it.
 * (A local activity would not be starved either, but would hold the workflow task, and with it every
 * query and update, for as long as a token endpoint hangs.)
 */
function tokenActivities(config: OAuthServerConfig): TokenRequestActivities {
  return wf.proxyActivities<TokenRequestActivities>({
    taskQueue: tokenRequestTaskQueue(wf.workflowInfo().taskQueue),
    scheduleToCloseTimeout: config.maxWait,
    startToCloseTimeout: config.maxWait,
    retry: {
      maximumAttempts: config.maxRetryAttempts,
      initialInterval: TOKEN_RETRY_INITIAL_INTERVAL,
      maximumInterval: TOKEN_RETRY_MAX_INTERVAL,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TOKEN_FAILURES],
    },
  });
}
