import * as wf from '@temporalio/workflow';
import type { ServerWorkflowActivities } from '../activities';
import type { TellDependentsInput } from '../activities/tell-dependents';
import type { OAuthServerConfig } from '../oauth/config';
import { refreshAt } from '../oauth/token-timing';
import { workflowNow } from './clock';
import {
  authorizeUpdate,
  deleteUpdate,
  dependentsQuery,
  editUpdate,
  freshTokenUpdate,
  registerDependentsUpdate,
  serverHistoryQuery,
  serverViewQuery,
  tokenGrantQuery,
  tokenRequestTaskQueue,
  unregisterDependentSignal,
  type ServerAvailability,
  type AdminRequest,
  type AuthorizeRequest,
  type NormalisedServerChanges,
} from '../contract/definitions';
import { NON_RETRYABLE_TOKEN_FAILURES, nonRetryable, REFRESH_NOT_DUE, ServerFailure } from '../contract/failures';
import { withChanges } from '../contract/server-changes';
import { Dependents } from './dependents';
import { disabledReasonFrom } from './disabled-reason';
import { chunksOfCount, chunksWithinBytes, LEGACY_FAN_OUT_CHUNK } from './fan-out-chunks';
import { OAUTH_SERVER_CATEGORY, OAUTH_SERVER_STATUS } from '../contract/search-attributes';
import {
  awaitingStart,
  carriedState,
  CURRENT_RULES,
  initialState,
  isAcquiring,
  LEGACY_RULES,
  TIMER_REFRESH_RULES,
  mayContinueAsNew,
  refusal,
  step,
  type Outcome,
  type Refusal,
  type ServerCommand,
  type ServerEvent,
  type ServerRequest,
  type MachineRules,
  type ServerState,
} from './server-machine';
import { arrivedEncrypted } from './encrypted-input';
import { ServerMetrics } from './server-metrics';
import { availabilityMessageOf, grantOf, historyOf, viewOf } from './server-views';
import {
  checkAdminRequest,
  checkAuthorizeRequest,
  checkDeleteRequest,
  checkDependentsFit,
  checkDependentsRegistration,
  checkFreshTokenRequest,
  checkArrivedEncrypted,
  checkServerChanges,
  isDependentRegistration,
  startConfigProblem,
} from './server-requests';

export type { ServerState } from './server-machine';

export interface OAuthServerWorkflowInput {
  config: OAuthServerConfig;
  /** Absent on the first run: a new server requests its first token at once. */
  state?: ServerState;
}

/** Backoff between token attempts; the attempt count and the overall bound come from the configuration. */
const TOKEN_RETRY_INITIAL_INTERVAL = '1 second';
const TOKEN_RETRY_MAX_INTERVAL = '10 seconds';

/** Runs begun before the state machine keep the rules their histories were recorded under. */
const MACHINE_RULES_PATCH = 'oauth-server-cancels-superseded-token-requests';
/** Runs begun before dependents were told by an activity keep signalling them from the workflow. */
const FAN_OUT_BY_ACTIVITY_PATCH = 'oauth-server-tells-dependents-by-activity';
/** Runs begun before fan-out activities were filled up to a byte budget keep their 1,000 dependents each. */
const FAN_OUT_BY_BYTES_PATCH = 'oauth-server-fans-out-by-bytes';
/** Runs begun before the fan-out activity asked the server for its dependents keep sending their IDs in its input. */
const FAN_OUT_READS_DEPENDENTS_PATCH = 'oauth-server-fan-out-reads-dependents';
/** Runs begun before refreshes were scheduled ahead, as waiting activities, keep their refresh timer. */
const SCHEDULED_REFRESH_PATCH = 'oauth-server-schedules-refresh-ahead';
/** Recovery probes wait on timers that runs recorded before them never started. */
const RECOVERY_PROBE_PATCH = 'oauth-server-recovery-probe';
/** Runs begun before a refresh whose wait was cut short waited again took that for a failed refresh. */
const WAITS_AGAIN_PATCH = 'oauth-server-refresh-waits-again';
/** Marks, in history, a first run refused for its input; see refuseInvalidStart. */
const START_REFUSED_MARKER = 'oauth-server-start-refused';

/**
 * The one long-lived workflow of an OAuth server: the record of its configuration and state, the
 * holder of its current token, the only place a token is requested from, and the one that tells
 * its dependents when it is disabled and enabled again. Its lifecycle is the pure state machine of
 * server-machine.ts; this function feeds it events and carries out its commands.
 *
 * Request Cancellation (the Web UI's button, or the client's `handle.cancel()`) is a forced delete:
 * the dependents are told the server is deleted, and the workflow ends as cancelled.
 */
export async function oauthServerWorkflow(input: OAuthServerWorkflowInput): Promise<void> {
  refuseInvalidStart(input);
  const rules = machineRules();
  const fansOutByActivity = wf.patched(FAN_OUT_BY_ACTIVITY_PATCH);
  const fanOutChunks = wf.patched(FAN_OUT_BY_BYTES_PATCH) ? chunksWithinBytes : (workflowIds: readonly string[]) => chunksOfCount(workflowIds, LEGACY_FAN_OUT_CHUNK);
  const fanOutReadsDependents = wf.patched(FAN_OUT_READS_DEPENDENTS_PATCH);
  let state = initialState(input.config, input.state, workflowNow(), rules);
  const metrics = new ServerMetrics(state);
  const answers = new Map<number, Outcome>();
  const requestScopes = new Map<number, wf.CancellationScope>();
  /** Token outcomes being carried out (telling dependents, say): the loop no longer awaits them, so continue-as-new and the end wait for them. */
  let settling = 0;
  let lastWaiter = 0;

  /**
   * Feeds an event to the machine and starts its commands in order. Returns what is still under way:
   * at most one fan-out or one token request. The awaits around it keep the microtask steps of the
   * workflow code that recorded the older histories, which replay only on the same order of commands.
   */
  const apply = (event: ServerEvent): Promise<void> | undefined => {
    const transition = step(state, event, rules);
    state = transition.state;
    metrics.observe(state);
    let running: Promise<void> | undefined;
    for (const command of transition.commands) running = carryOut(command) ?? running;
    return running;
  };
  const applyAndWait = async (event: ServerEvent): Promise<void> => {
    const running = apply(event);
    if (running) await running;
  };
  const dependents = new Dependents((workflowId) => void apply({ type: 'dependentsEnded', workflowIds: [workflowId] }));
  const carryOut = (command: ServerCommand): Promise<void> | undefined => {
    switch (command.type) {
      case 'startTokenRequest':
        return requestToken(command.requestId, command.config, command.notBefore);
      case 'cancelTokenRequest':
        requestScopes.get(command.requestId)?.cancel();
        return undefined;
      case 'publishCategory':
        wf.upsertSearchAttributes([{ key: OAUTH_SERVER_CATEGORY, value: command.category }]);
        return undefined;
      case 'publishStatus':
        wf.upsertSearchAttributes([{ key: OAUTH_SERVER_STATUS, value: command.status }]);
        return undefined;
      case 'tellDependents':
        return fansOutByActivity ? tellByActivity(command.message, command.workflowIds) : dependents.notify(command.message, command.workflowIds);
      case 'answer':
        for (const waiter of command.waiters) answers.set(waiter, command.outcome);
        return undefined;
    }
  };
  /**
   * A few events in this history per change, whatever the number of dependents: the signals are sent
   * from a worker, concurrently, and sent again if that worker dies midway.
   */
  const tellByActivity = async (message: ServerAvailability, workflowIds: readonly string[]): Promise<void> => {
    await Promise.all(
      fanOutInputs(message, workflowIds).map(async (input) => {
        try {
          const { ended } = await fanOutActivities().tellOAuthDependents(input);
          if (ended.length > 0) void apply({ type: 'dependentsEnded', workflowIds: ended });
        } catch (error) {
          // Only after an hour of failed attempts: the server goes on, and says whom it could not tell.
          const dependents = 'workflowIds' in input ? input.workflowIds.length : workflowIds.length;
          wf.log.warn('could not tell dependents of a change in availability', { dependents, sequence: message.sequence, error: String(error) });
        }
      }),
    );
  };
  /**
   * One activity that asks this workflow whom to tell, by query, so that the dependents' IDs are not
   * written to history with every change (668 KB a disable at 10,000 in the P3 bench). It may tell one that
   * registered since, or skip one that left: each message carries its sequence number, so a repeat is harmless.
   */
  const fanOutInputs = (message: ServerAvailability, workflowIds: readonly string[]): TellDependentsInput[] => {
    if (!fanOutReadsDependents) return fanOutChunks(workflowIds).map((chunk) => ({ message, workflowIds: chunk }));
    return workflowIds.length > 0 ? [{ message, dependentsOf: wf.workflowInfo().workflowId }] : [];
  };
  const requestToken = async (requestId: number, config: OAuthServerConfig, notBefore?: number): Promise<void> => {
    const scope = new wf.CancellationScope();
    requestScopes.set(requestId, scope);
    const scheduledAt = workflowNow();
    // A scheduled refresh's time to get a token, like its attempts, counts from when it is due.
    const startedAt = Math.max(scheduledAt, notBefore ?? scheduledAt);
    const acquire = () =>
      notBefore === undefined
        ? tokenActivities(config).acquireOAuthToken({ config })
        : tokenActivities(config, startedAt - scheduledAt).acquireOAuthToken({ config, notBefore });
    try {
      // Legacy runs never cancel a request: they keep the direct await they were recorded with.
      const token = await (rules.cancelsSupersededRequests ? scope.run(acquire) : acquire());
      await settle({ type: 'tokenObtained', requestId, token });
    } catch (error) {
      // Cancelled by an edit or a delete: the machine has already moved on.
      if (scope.consideredCancelled && !wf.CancellationScope.current().consideredCancelled && wf.isCancellation(error)) return;
      if (!(error instanceof wf.ActivityFailure) || wf.isCancellation(error)) throw error;
      // The attempt that stood for the wait was lost (its worker died, or its completion timed out under load), and the
      // retry, still early, found no attempt left: the refresh has not failed, it has not begun. Wait again.
      if (notBefore !== undefined && isRefreshNotDue(error) && wf.patched(WAITS_AGAIN_PATCH)) return await requestToken(requestId, config, notBefore);
      const failedAt = workflowNow();
      await settle({ type: 'tokenFailed', requestId, reason: disabledReasonFrom(error, Math.max(0, failedAt - startedAt), failedAt, config.maxWait) });
    } finally {
      requestScopes.delete(requestId);
    }
  };
  const settle = async (outcome: ServerEvent): Promise<void> => {
    settling += 1;
    try {
      await applyAndWait(outcome);
    } finally {
      settling -= 1;
    }
  };
  const allFinished = () => wf.allHandlersFinished() && settling === 0;
  /** Feeds a waiting request to the machine and waits until it is answered. */
  const waitFor = async (event: (waiter: number) => ServerEvent): Promise<Outcome> => {
    const waiter = ++lastWaiter;
    void apply(event(waiter));
    await wf.condition(() => answers.has(waiter));
    const outcome = answers.get(waiter) ?? 'settled';
    answers.delete(waiter);
    return outcome;
  };
  const refuse = (request: ServerRequest) => {
    const refused: Refusal | undefined = refusal(state, request, rules);
    if (refused) throw nonRetryable(refused.type, refused.message, refused.details);
  };
  const deletedFailure = () => nonRetryable(ServerFailure.Deleted, `OAuth server ${state.config.name} has been deleted`);

  wf.setHandler(serverViewQuery, () => viewOf(state));
  wf.setHandler(tokenGrantQuery, () => grantOf(state));
  wf.setHandler(dependentsQuery, () => [...state.dependents]);
  wf.setHandler(serverHistoryQuery, () => historyOf(state));
  wf.setHandler(
    freshTokenUpdate,
    async ({ rejectedSerial }) => {
      const at = workflowNow();
      const outcome = await waitFor((waiter) =>
        rejectedSerial === undefined ? { type: 'tokenWanted', at, waiter } : { type: 'tokenRejected', at, waiter, serial: rejectedSerial },
      );
      if (outcome === 'deleted') throw deletedFailure();
      return grantOf(state);
    },
    {
      validator: (request) => {
        checkArrivedEncrypted(request, 'freshToken request');
        const { rejectedSerial } = checkFreshTokenRequest(request);
        refuse(rejectedSerial === undefined ? { type: 'tokenWanted' } : { type: 'tokenRejected', serial: rejectedSerial, at: workflowNow() });
      },
    },
  );
  wf.setHandler(
    authorizeUpdate,
    async (request?: AuthorizeRequest) => {
      const at = workflowNow();
      const outcome = await waitFor((waiter) => ({ type: 'authorize', at, waiter, actor: request?.actor, create: request?.create === true }));
      if (outcome === 'deleted') throw deletedFailure();
      return viewOf(state);
    },
    {
      validator: (request?: AuthorizeRequest) => {
        // Older clients sent nothing; anything sent must be encrypted, as the actor travels in it.
        if (request !== undefined) checkArrivedEncrypted(request, 'authorize request');
        refuse({ type: checkAuthorizeRequest(request).create === true ? 'create' : 'authorize' });
      },
    },
  );
  wf.setHandler(
    editUpdate,
    async (changes: NormalisedServerChanges, request?: AdminRequest) => {
      await applyAndWait({ type: 'edit', config: withChanges(state.config, changes), at: workflowNow(), actor: request?.actor });
      return viewOf(state);
    },
    {
      validator: (changes: NormalisedServerChanges, request?: AdminRequest) => {
        checkArrivedEncrypted(changes, 'changes');
        if (request !== undefined) checkArrivedEncrypted(request, 'edit request');
        checkAdminRequest(request, 'edit request');
        refuse({ type: 'edit' });
        checkServerChanges(state.config, changes);
      },
    },
  );
  wf.setHandler(
    registerDependentsUpdate,
    ({ workflowIds }) => {
      void apply({ type: 'dependentsRegistered', workflowIds });
      return availabilityMessageOf(state);
    },
    {
      validator: (registration) => {
        checkArrivedEncrypted(registration, 'registration');
        const { workflowIds } = checkDependentsRegistration(registration);
        refuse({ type: 'registerDependents' });
        checkDependentsFit(state.config.name, state.dependents, workflowIds);
      },
    },
  );
  wf.setHandler(unregisterDependentSignal, (registration) => {
    if (arrivedEncrypted(registration) && isDependentRegistration(registration)) void apply({ type: 'dependentsEnded', workflowIds: [registration.workflowId] });
  });
  wf.setHandler(
    deleteUpdate,
    async (request) => {
      await applyAndWait({ type: 'delete', at: workflowNow(), actor: request?.actor, force: request?.force === true });
    },
    {
      validator: (request) => {
        checkArrivedEncrypted(request, 'delete request');
        refuse({ type: 'delete', force: checkDeleteRequest(request).force === true });
      },
    },
  );

  const interrupted = () => awaitingStart(state) !== undefined || state.deleted || wf.workflowInfo().continueAsNewSuggested;
  const serve = async () => {
    for (;;) {
      if (!interrupted()) {
        const token = state.status === 'OK' ? state.token : undefined;
        const probe = state.probe;
        if (token && !rules.schedulesRefreshes) {
          const refreshInMs = Math.max(1, refreshAt(token.obtainedAt, token.expiresAt) - workflowNow());
          if (!(await wf.condition(interrupted, refreshInMs))) void apply({ type: 'refreshDue', at: workflowNow() });
        } else if (probe && wf.patched(RECOVERY_PROBE_PATCH)) {
          // An edit, a delete or an authorize replaces the probe: its timer is cancelled then.
          const probeInMs = Math.max(1, probe.dueAt - workflowNow());
          if (!(await wf.condition(() => interrupted() || state.probe !== probe, probeInMs))) void apply({ type: 'probeDue', at: workflowNow() });
        } else {
          // Where requests are not awaited below, the end of one (a token, or a probe to schedule) wakes the loop.
          const pending = state.request;
          await wf.condition(() => interrupted() || (rules.schedulesRefreshes && state.request !== pending));
        }
      }
      if (state.deleted) return;
      const request = awaitingStart(state);
      if (request) {
        const running = apply({ type: 'requestStarted', requestId: request.id });
        // A scheduled refresh runs for most of a token's lifetime: the loop goes on meanwhile (older runs awaited each request).
        if (rules.schedulesRefreshes) void running?.catch(unlessCancelled);
        else await running;
      }
      if (wf.workflowInfo().continueAsNewSuggested) {
        // A handler may be waiting for a token that only this loop can fetch: go and fetch it first.
        const mustFetch = () => awaitingStart(state) !== undefined && isAcquiring(state);
        await wf.condition(() => (allFinished() && mayContinueAsNew(state)) || mustFetch() || state.deleted);
        if (state.deleted) return;
        if (mustFetch()) continue;
        // Only a scheduled refresh can be left: the new run schedules it again.
        for (const scope of requestScopes.values()) scope.cancel();
        await wf.continueAsNew<typeof oauthServerWorkflow>({ config: state.config, state: carriedState(state) });
      }
    }
  };
  try {
    await serve();
  } catch (error) {
    if (!wf.isCancellation(error)) throw error;
    await wf.CancellationScope.nonCancellable(async () => {
      await applyAndWait({ type: 'delete', at: workflowNow(), cancelled: true });
      await wf.condition(allFinished);
    });
    throw error;
  }
  await wf.condition(allFinished);
}

/**
 * A start that createServer would have refused, or that a client without the codec keys sent in clear
 * (anyone with access to the namespace can start a workflow), fails at its first task, before any
 * token request. Rules tighten between releases, so
 * on replay the verdict is read back from a marker in history instead of decided again: a server
 * started under an older rule keeps replaying.
 */
function refuseInvalidStart(input: OAuthServerWorkflowInput): void {
  if (wf.workflowInfo().continuedFromExecutionRunId !== undefined) return;
  // Not checked again on replay: the marker has the verdict, and checking would load the schema for every replayed server.
  if (wf.workflowInfo().unsafe.isReplaying) {
    if (wf.patched(START_REFUSED_MARKER)) throw nonRetryable(ServerFailure.InvalidRequest, 'config: refused when this server was started', { field: 'config' });
    return;
  }
  const problem = startProblem(input);
  if (problem !== undefined && wf.patched(START_REFUSED_MARKER)) throw problem;
}

function startProblem(input: OAuthServerWorkflowInput): Error | undefined {
  return arrivedEncrypted(input)
    ? startConfigProblem((input as Partial<OAuthServerWorkflowInput> | undefined)?.config)
    : nonRetryable(ServerFailure.NotEncrypted, 'input: must be sent encrypted by a client with the plugin and its codec keys', { field: 'input' });
}

/** Each run keeps the rules it began with: a patch marks in history which ones. */
function machineRules(): MachineRules {
  if (!wf.patched(MACHINE_RULES_PATCH)) return LEGACY_RULES;
  return wf.patched(SCHEDULED_REFRESH_PATCH) ? CURRENT_RULES : TIMER_REFRESH_RULES;
}

function isRefreshNotDue(error: wf.ActivityFailure): boolean {
  return error.cause instanceof wf.ApplicationFailure && error.cause.type === REFRESH_NOT_DUE;
}

/** The workflow's own cancellation reaches the loop too, which turns it into a delete; anything else fails the task. */
function unlessCancelled(error: unknown): void {
  if (!wf.isCancellation(error)) throw error;
}

/** Retried until the fan-out's deadline: a worker that dies midway leaves no dependent untold. */
function fanOutActivities(): Pick<ServerWorkflowActivities, 'tellOAuthDependents'> {
  return wf.proxyActivities<ServerWorkflowActivities>({
    taskQueue: tokenRequestTaskQueue(wf.workflowInfo().taskQueue),
    scheduleToCloseTimeout: '1 hour',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  });
}

/**
 * Token requests have a task queue of their own, served beside every worker of the plugin, so that
 * webServiceCalls filling every activity slot while they wait for this very token cannot starve it.
 * (A local activity would not be starved either, but would hold the workflow task, and with it every
 * query and update, for as long as a token endpoint hangs.)
 */
function tokenActivities(config: OAuthServerConfig, waitMs?: number): Pick<ServerWorkflowActivities, 'acquireOAuthToken'> {
  return wf.proxyActivities<ServerWorkflowActivities>({
    taskQueue: tokenRequestTaskQueue(wf.workflowInfo().taskQueue),
    // A scheduled refresh first waits, in one attempt whose retry delay is the wait (retries write no history):
    // the wait, then the usual budget of attempts and maxWait from when it is due.
    scheduleToCloseTimeout: (waitMs ?? 0) + config.maxWait,
    startToCloseTimeout: config.maxWait,
    retry: {
      maximumAttempts: config.maxRetryAttempts + (waitMs === undefined ? 0 : 1),
      initialInterval: TOKEN_RETRY_INITIAL_INTERVAL,
      maximumInterval: TOKEN_RETRY_MAX_INTERVAL,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TOKEN_FAILURES],
    },
  });
}
