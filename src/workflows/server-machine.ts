import type { OAuthServerConfig } from '../oauth/config';
import type { AdminAction, AuditEntry, DisabledReason, HeldToken, ServerAvailability, ServerHistory, ServerStatus } from '../contract/definitions';
import { ServerFailure, WebServiceCallFailure } from '../contract/failures';
import { cacheUntil, refreshAt } from '../oauth/token-timing';
import { canonicalJson } from './canonical-json';

/**
 * The lifecycle of one OAuth server as a pure function: state × event → new state + commands. The
 * server workflow feeds it what happens (admin actions, token outcomes, timers) and carries out the
 * commands it returns; nothing here touches Temporal, so the model-based tests run it by the thousand.
 */

export type Availability = ServerAvailability['status'];

export interface TokenRequest {
  /** Outcomes name the request they answer, so that one cancelled or superseded meanwhile changes nothing. */
  id: number;
  /** Workflow time when it was asked for: the token's lifetime counts from here, whatever the worker's clock says. */
  scheduledAt: number;
  /** The driver has scheduled it; until then an edit or a delete drops it without a trace. */
  started: boolean;
  /** Only under LEGACY_RULES: an edit came while it ran, so its outcome is dropped when it arrives. */
  superseded: boolean;
  /** It replaces a token that a resource server rejected. */
  afterRejection: boolean;
  /** A recovery probe: the delay that preceded it, which doubles if it fails. */
  probeDelayMs?: number;
  /**
   * A refresh asked for as soon as the token it replaces arrived: its activity asks for nothing before
   * this workflow time, and until its outcome the server is not acquiring (see isAcquiring).
   */
  notBefore?: number;
}

/** The next automatic token request of a disabled server whose configuration has `autoRecover`. */
export interface RecoveryProbe {
  /** Workflow time at which it is due. */
  dueAt: number;
  delayMs: number;
}

/** The server's history keeps this many admin actions, and counts them all. */
export const AUDIT_ENTRIES_KEPT = 100;

export interface ServerMachineState {
  readonly config: OAuthServerConfig;
  readonly status: ServerStatus;
  readonly deleted: boolean;
  readonly token?: HeldToken;
  readonly disabledReason?: DisabledReason;
  readonly tokenSerial: number;
  /** At most one token request exists at a time: one under way, or a refresh scheduled. */
  readonly request?: TokenRequest;
  readonly lastRequestId: number;
  /** Requests (authorize, freshToken) waiting for the outcome of the token request. */
  readonly waiting: readonly number[];
  readonly dependents: readonly string[];
  /** Grows with every availability change told to dependents. */
  readonly availabilitySequence: number;
  /** What the dependents last heard. */
  readonly told: Availability;
  /** When a rejected token was last replaced: replacements for rejections are rationed (see MachineRules). */
  readonly lastRejectionRefreshAt?: number;
  /** Scheduled exactly while the server is disabled, not deleted, has `autoRecover`, and no token request exists. */
  readonly probe?: RecoveryProbe;
  readonly audit: ServerHistory;
}

/** The part of the state that a new run carries over continue-as-new (the shape older runs wrote too). */
export interface ServerState {
  status: ServerStatus;
  token?: HeldToken;
  disabledReason?: DisabledReason;
  tokenSerial: number;
  /** True only for a run that must request a token at once (older runs wrote it; a first run has no state). */
  acquisitionPending: boolean;
  dependents: string[];
  availabilitySequence: number;
  lastRejectionRefreshAt?: number;
  /** Absent from runs before probes and the history existed. */
  probe?: RecoveryProbe;
  audit?: ServerHistory;
}

export interface MachineRules {
  /** An edit or a delete cancels a running token request (older runs let it finish and dropped its outcome). */
  cancelsSupersededRequests: boolean;
  /** At most one replacement of a rejected token per this interval; 0 for none. */
  rejectionRefreshIntervalMs: number;
  /** Older runs wrote the status search attribute after every token request, even when it had not changed. */
  republishesUnchangedStatus: boolean;
  /** A token's refresh is scheduled as soon as it arrives, with no timer between (older runs slept on one first). */
  schedulesRefreshes: boolean;
}

/**
 * Against an API that rejects every token (a wrong audience, say), each call would otherwise cost a
 * token request, until the authorization server throttles the client and disables the server for
 * all its APIs. Thirty seconds is far beyond any token's propagation delay and far below any lifetime.
 */
export const REJECTION_REFRESH_INTERVAL_MS = 30_000;

export const CURRENT_RULES: MachineRules = {
  cancelsSupersededRequests: true,
  rejectionRefreshIntervalMs: REJECTION_REFRESH_INTERVAL_MS,
  republishesUnchangedStatus: false,
  schedulesRefreshes: true,
};
/** The rules of the runs begun before refreshes were scheduled ahead: they wait on a timer, and replay only so. */
export const TIMER_REFRESH_RULES: MachineRules = { ...CURRENT_RULES, schedulesRefreshes: false };
/** The rules of the runs recorded before this machine existed: their histories replay only on these. */
export const LEGACY_RULES: MachineRules = { cancelsSupersededRequests: false, rejectionRefreshIntervalMs: 0, republishesUnchangedStatus: true, schedulesRefreshes: false };

export interface ObtainedToken {
  accessToken: string;
  expiresInSeconds: number;
  grantedScope?: string;
}

export type ServerEvent =
  /** An admin asks for a token now (or, with `create`, the new server's first). `waiter` identifies the request until it is answered. */
  | { type: 'authorize'; at: number; waiter: number; actor?: string; create?: boolean }
  /** A worker wants a usable token, waiting for one that is being fetched. */
  | { type: 'tokenWanted'; at: number; waiter: number }
  /** A resource server rejected the token with this serial. */
  | { type: 'tokenRejected'; at: number; waiter: number; serial: number }
  /** Settings already validated and normalised. */
  | { type: 'edit'; config: OAuthServerConfig; at: number; actor?: string }
  /** `cancelled`: the workflow's cancellation (Request Cancellation), which is a forced delete. */
  | { type: 'delete'; at: number; actor?: string; force?: boolean; cancelled?: boolean }
  | { type: 'requestStarted'; requestId: number }
  | { type: 'tokenObtained'; requestId: number; token: ObtainedToken }
  | { type: 'tokenFailed'; requestId: number; reason: DisabledReason }
  | { type: 'refreshDue'; at: number }
  /** The driver's timer for the scheduled recovery probe fired. */
  | { type: 'probeDue'; at: number }
  | { type: 'dependentsRegistered'; workflowIds: readonly string[] }
  /** Dependents that ended, or asked to be forgotten: one fan-out can find thousands ended at once. */
  | { type: 'dependentsEnded'; workflowIds: readonly string[] };

export type Outcome = 'settled' | 'deleted';

export type ServerCommand =
  /** `notBefore`: a scheduled refresh, whose activity waits until then. */
  | { type: 'startTokenRequest'; requestId: number; config: OAuthServerConfig; notBefore?: number }
  | { type: 'cancelTokenRequest'; requestId: number }
  | { type: 'publishCategory'; category: string }
  | { type: 'publishStatus'; status: ServerStatus }
  | { type: 'tellDependents'; message: ServerAvailability; workflowIds: readonly string[] }
  | { type: 'answer'; waiters: readonly number[]; outcome: Outcome };

export interface Transition {
  state: ServerMachineState;
  commands: ServerCommand[];
}

/** Why a request is refused before it changes anything: what an update validator throws. */
export interface Refusal {
  type: string;
  message: string;
  details?: unknown;
}

const NO_HISTORY: ServerHistory = { entries: [], total: 0 };

/** A first run (no carried state) asks for its first token at once; a run that carries a token schedules its refresh. */
export function initialState(config: OAuthServerConfig, carried: ServerState | undefined, at: number, rules: MachineRules): ServerMachineState {
  const state: ServerMachineState = {
    config,
    status: carried?.status ?? 'NotAuthorized',
    deleted: false,
    token: carried?.token,
    disabledReason: carried?.disabledReason,
    tokenSerial: carried?.tokenSerial ?? 0,
    lastRequestId: 0,
    waiting: [],
    dependents: [...new Set(carried?.dependents ?? [])],
    availabilitySequence: carried?.availabilitySequence ?? 0,
    told: carried?.status ?? 'NotAuthorized',
    lastRejectionRefreshAt: carried?.lastRejectionRefreshAt,
    probe: carried?.probe,
    audit: carried?.audit ?? NO_HISTORY,
  };
  if (carried?.acquisitionPending ?? true) return withNewRequest(state, at, false);
  return rules.schedulesRefreshes ? withRefreshScheduled(state, at) : state;
}

export function carriedState(state: ServerMachineState): ServerState {
  return {
    status: state.status,
    token: state.token,
    disabledReason: state.disabledReason,
    tokenSerial: state.tokenSerial,
    // A scheduled refresh is not carried: the new run schedules its own from the token.
    acquisitionPending: isAcquiring(state),
    dependents: [...state.dependents],
    availabilitySequence: state.availabilitySequence,
    lastRejectionRefreshAt: state.lastRejectionRefreshAt,
    probe: state.probe,
    audit: state.audit,
  };
}

export function availabilityOf(state: ServerMachineState): Availability {
  return state.deleted ? 'Deleted' : state.status;
}

/** A token request is under way: a refresh scheduled for later is not one, since the token still serves. */
export function isAcquiring(state: ServerMachineState): boolean {
  return state.request !== undefined && state.request.notBefore === undefined;
}

export function refreshScheduled(state: ServerMachineState): TokenRequest | undefined {
  return state.request?.notBefore === undefined ? undefined : state.request;
}

/** A request the driver has yet to schedule. */
export function awaitingStart(state: ServerMachineState): TokenRequest | undefined {
  return state.request && !state.request.started ? state.request : undefined;
}

/** Nothing more can happen: the workflow may end once its handlers have. */
export function isFinished(state: ServerMachineState): boolean {
  return state.deleted && state.request === undefined;
}

/** A request as its validator sees it, before it becomes an event. */
export type ServerRequest =
  /** `create`: the authorize that comes with a new server's start. */
  | { type: 'authorize' | 'create' | 'edit' | 'registerDependents' | 'tokenWanted' }
  | { type: 'tokenRejected'; serial: number; at: number }
  | { type: 'delete'; force: boolean };

/** What an update validator checks against the state (the payload itself is checked before). */
export function refusal(state: ServerMachineState, request: ServerRequest, rules: MachineRules): Refusal | undefined {
  const name = state.config.name;
  switch (request.type) {
    case 'delete':
      if (!request.force && state.dependents.length > 0) {
        return {
          type: ServerFailure.HasDependents,
          message: `OAuth server ${name} has ${state.dependents.length} live dependent(s); delete with force to stop them`,
          details: [...state.dependents],
        };
      }
      return undefined;
    case 'create':
      if (state.audit.total > 0) {
        return { type: ServerFailure.InvalidRequest, message: `create: OAuth server ${name} was created already`, details: { field: 'create' } };
      }
      return state.deleted ? deletedRefusal(name) : undefined;
    case 'authorize':
    case 'edit':
    case 'registerDependents':
      return state.deleted ? deletedRefusal(name) : undefined;
    case 'tokenWanted':
    case 'tokenRejected':
      if (state.deleted) return deletedRefusal(name);
      if (state.status !== 'OK' && !isAcquiring(state)) return unavailableRefusal(state);
      if (request.type === 'tokenRejected' && rejectionRefreshRationed(state, request.serial, request.at, rules)) {
        return {
          type: WebServiceCallFailure.RejectedTokenRefreshRationed,
          message: `OAuth server ${name}: its new token was rejected too, within ${rules.rejectionRefreshIntervalMs / 1000} s of replacing a rejected one; not replaced again so soon`,
        };
      }
      return undefined;
  }
}

/**
 * The run may continue as new: nothing under way that the new run could not pick up. A scheduled
 * refresh may wait for most of a token's lifetime: the driver cancels it, and the new run schedules it again.
 */
export function mayContinueAsNew(state: ServerMachineState): boolean {
  return !state.deleted && !isAcquiring(state) && state.waiting.length === 0;
}

function deletedRefusal(name: string): Refusal {
  return { type: ServerFailure.Deleted, message: `OAuth server ${name} has been deleted` };
}

function unavailableRefusal(state: ServerMachineState): Refusal {
  const name = state.config.name;
  const nextTry = state.probe ? `; it tries again on its own at ${new Date(state.probe.dueAt).toISOString()}` : '';
  return state.status === 'Error'
    ? { type: WebServiceCallFailure.ServerDisabled, message: `OAuth server ${name} is disabled: ${state.disabledReason?.message ?? 'no reason recorded'}${nextTry}` }
    : { type: WebServiceCallFailure.ServerNotAuthorized, message: `OAuth server ${name} is not authorized: an admin must authorize it` };
}

function isCurrentToken(state: ServerMachineState, serial: number): boolean {
  return state.status === 'OK' && state.token?.serial === serial;
}

function rejectionRefreshRationed(state: ServerMachineState, serial: number, at: number, rules: MachineRules): boolean {
  return (
    isCurrentToken(state, serial) &&
    !isAcquiring(state) &&
    state.lastRejectionRefreshAt !== undefined &&
    at - state.lastRejectionRefreshAt < rules.rejectionRefreshIntervalMs
  );
}

export function step(state: ServerMachineState, event: ServerEvent, rules: MachineRules): Transition {
  switch (event.type) {
    case 'authorize': {
      if (state.deleted) return answered(state, [event.waiter], 'deleted');
      const recorded = audited(state, event.create ? 'create' : 'authorize', event.at, event.actor);
      return wait(isAcquiring(recorded) ? unchanged(recorded) : requestNow(recorded, event.at, false), event.waiter);
    }
    case 'tokenWanted':
      if (state.deleted) return answered(state, [event.waiter], 'deleted');
      // A worker whose copy is due for replacement, its clock ahead of the refresh's, gets a token at once;
      // one that asked while the first token was on its way gets the token held, as the refresh stays due later.
      return wait(refreshScheduled(state) && !servesWorkers(state, event.at) ? requestNow(state, event.at, false) : unchanged(state), event.waiter);
    case 'tokenRejected': {
      if (state.deleted) return answered(state, [event.waiter], 'deleted');
      const replace = isCurrentToken(state, event.serial) && !isAcquiring(state) && !rejectionRefreshRationed(state, event.serial, event.at, rules);
      if (!replace) return wait(unchanged(state), event.waiter);
      const replacing = requestNow(state, event.at, true);
      return wait({ ...replacing, state: { ...replacing.state, lastRejectionRefreshAt: event.at } }, event.waiter);
    }
    case 'requestStarted': {
      const request = state.request;
      if (request?.id !== event.requestId || request.started) return unchanged(state);
      const notBefore = request.notBefore === undefined ? {} : { notBefore: request.notBefore };
      return {
        state: { ...state, request: { ...request, started: true } },
        commands: [{ type: 'startTokenRequest', requestId: event.requestId, config: state.config, ...notBefore }],
      };
    }
    case 'tokenObtained':
    case 'tokenFailed':
      return settle(state, event, rules);
    case 'edit':
      return edit(audited(state, 'edit', event.at, event.actor, changedFields(state.config, event.config)), event.config, rules);
    case 'delete': {
      if (state.deleted) return unchanged(state);
      const action = event.cancelled ? 'requestCancellation' : event.force ? 'forceDelete' : 'delete';
      return remove(audited(state, action, event.at, event.actor), rules);
    }
    case 'refreshDue':
      if (state.deleted || state.request || state.status !== 'OK') return unchanged(state);
      return unchanged(withNewRequest(state, event.at, false));
    case 'probeDue': {
      const probe = state.probe;
      if (!probe || state.deleted || state.request || event.at < probe.dueAt) return unchanged(state);
      const next = withNewRequest(state, event.at, false);
      return unchanged({ ...next, request: { ...next.request!, probeDelayMs: probe.delayMs } });
    }
    case 'dependentsRegistered': {
      const known = new Set(state.dependents);
      const added = event.workflowIds.filter((id) => !known.has(id) && known.add(id));
      return unchanged(added.length ? { ...state, dependents: [...state.dependents, ...added] } : state);
    }
    case 'dependentsEnded': {
      // One pass whatever the number ended: one by one, 24,000 took longer than a workflow task may.
      const ended = new Set(event.workflowIds);
      const remaining = state.dependents.filter((id) => !ended.has(id));
      return unchanged(remaining.length < state.dependents.length ? { ...state, dependents: remaining } : state);
    }
  }
}

function unchanged(state: ServerMachineState): Transition {
  return { state, commands: [] };
}

/** The token held is one workers may still keep, by workflow time. */
function servesWorkers(state: ServerMachineState, at: number): boolean {
  return state.token !== undefined && at < cacheUntil(state.token.obtainedAt, state.token.expiresAt);
}

/** A token needed now: a refresh scheduled for later gives way to a request at once. */
function requestNow(state: ServerMachineState, at: number, afterRejection: boolean): Transition {
  const scheduled = refreshScheduled(state);
  const cancel: ServerCommand[] = scheduled?.started ? [{ type: 'cancelTokenRequest', requestId: scheduled.id }] : [];
  return { state: withNewRequest(state, at, afterRejection), commands: cancel };
}

/** The refresh of the token held, asked for now, due when a third of its lifetime (at most a minute) is left. */
function withRefreshScheduled(state: ServerMachineState, at: number): ServerMachineState {
  const token = state.status === 'OK' && !state.deleted ? state.token : undefined;
  if (!token) return state;
  const next = withNewRequest(state, at, false);
  return { ...next, request: { ...next.request!, notBefore: refreshAt(token.obtainedAt, token.expiresAt) } };
}

/** A token request replaces any scheduled probe: its own outcome decides what comes next. */
function withNewRequest(state: ServerMachineState, at: number, afterRejection: boolean): ServerMachineState {
  const id = state.lastRequestId + 1;
  return { ...state, probe: undefined, lastRequestId: id, request: { id, scheduledAt: at, started: false, superseded: false, afterRejection } };
}

function audited(state: ServerMachineState, action: AdminAction, at: number, actor: string | undefined, fields?: string[]): ServerMachineState {
  const entry: AuditEntry = { action, at: new Date(at).toISOString(), ...(actor === undefined ? {} : { actor }), ...(fields ? { fields } : {}) };
  return { ...state, audit: { entries: [...state.audit.entries, entry].slice(-AUDIT_ENTRIES_KEPT), total: state.audit.total + 1 } };
}

/** Names only: the history never holds a value, so never a secret. */
function changedFields(before: OAuthServerConfig, after: OAuthServerConfig): string[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])] as (keyof OAuthServerConfig)[];
  return fields.filter((field) => canonicalJson(before[field]) !== canonicalJson(after[field])).sort();
}

/**
 * After a failed token request of a server with `autoRecover`: the first probe waits the initial
 * delay, and each failed probe doubles the delay up to the maximum.
 */
function nextProbe(config: OAuthServerConfig, request: TokenRequest, failedAt: number): RecoveryProbe | undefined {
  const delays = config.autoRecover;
  if (!delays) return undefined;
  const delayMs = request.probeDelayMs === undefined ? delays.initialDelay : Math.min(request.probeDelayMs * 2, delays.maxDelay);
  return { dueAt: failedAt + delayMs, delayMs };
}

/** The waiter is answered at once when no token is on its way, else when the request ends. */
function wait({ state, commands }: Transition, waiter: number): Transition {
  if (isAcquiring(state)) return { state: { ...state, waiting: [...state.waiting, waiter] }, commands };
  return { state, commands: [...commands, ...answered(state, [waiter], 'settled').commands] };
}

function answered(state: ServerMachineState, waiters: readonly number[], outcome: Outcome): Transition {
  return { state, commands: waiters.length ? [{ type: 'answer', waiters, outcome }] : [] };
}

function settle(state: ServerMachineState, event: Extract<ServerEvent, { type: 'tokenObtained' | 'tokenFailed' }>, rules: MachineRules): Transition {
  const request = state.request;
  if (!request?.started || request.id !== event.requestId) return unchanged(state);
  const waiting = state.waiting;
  const base: ServerMachineState = { ...state, request: undefined, waiting: [] };
  if (request.superseded) return answered(base, waiting, 'settled');
  let next: ServerMachineState;
  if (event.type === 'tokenObtained') {
    const serial = state.tokenSerial + 1;
    // A scheduled refresh sends nothing before its time, as the Temporal server's clock says.
    const obtainedAt = request.notBefore ?? request.scheduledAt;
    next = {
      ...base,
      status: 'OK',
      disabledReason: undefined,
      tokenSerial: serial,
      token: {
        accessToken: event.token.accessToken,
        serial,
        obtainedAt,
        expiresAt: obtainedAt + event.token.expiresInSeconds * 1000,
        grantedScope: event.token.grantedScope,
      },
    };
    if (rules.schedulesRefreshes) next = withRefreshScheduled(next, obtainedAt);
  } else {
    // The reason's time is the workflow time the driver saw the failure at.
    const failedAt = Date.parse(event.reason.at);
    // A deleted server (under LEGACY_RULES its request outlives the delete) never probes.
    const probe = state.deleted ? undefined : nextProbe(state.config, request, Number.isNaN(failedAt) ? request.scheduledAt : failedAt);
    next = { ...base, status: 'Error', token: undefined, disabledReason: event.reason, probe };
  }
  // A refreshed token is news neither to dependents nor to visibility: each upsert is an event in history.
  const told = tell(next);
  const publish: ServerCommand[] = rules.republishesUnchangedStatus || next.status !== state.status ? [{ type: 'publishStatus', status: next.status }] : [];
  return { state: told.state, commands: [...publish, ...told.commands, ...answered(next, waiting, 'settled').commands] };
}

function edit(state: ServerMachineState, config: OAuthServerConfig, rules: MachineRules): Transition {
  const commands: ServerCommand[] = [];
  let next: ServerMachineState = { ...state, config, token: undefined, status: 'NotAuthorized', disabledReason: undefined, probe: undefined };
  const request = state.request;
  if (request && (!request.started || rules.cancelsSupersededRequests)) {
    // A token asked for with the old settings must not be handed out under the new ones.
    if (request.started) commands.push({ type: 'cancelTokenRequest', requestId: request.id });
    commands.push(...answered(next, state.waiting, 'settled').commands);
    next = { ...next, request: undefined, waiting: [] };
  } else if (request) {
    next = { ...next, request: { ...request, superseded: true } };
  }
  if (config.category !== state.config.category) commands.push({ type: 'publishCategory', category: config.category });
  commands.push({ type: 'publishStatus', status: next.status });
  const told = tell(next);
  return { state: told.state, commands: [...commands, ...told.commands] };
}

function remove(state: ServerMachineState, rules: MachineRules): Transition {
  const commands: ServerCommand[] = [];
  let next: ServerMachineState = { ...state, deleted: true, waiting: [], probe: undefined };
  const request = state.request;
  if (request && (!request.started || rules.cancelsSupersededRequests)) {
    if (request.started) commands.push({ type: 'cancelTokenRequest', requestId: request.id });
    next = { ...next, request: undefined };
  }
  commands.push(...answered(next, state.waiting, 'deleted').commands);
  const told = tell(next);
  return { state: told.state, commands: [...commands, ...told.commands] };
}

/** Dependents hear only of changes in availability. */
function tell(state: ServerMachineState): Transition {
  const availability = availabilityOf(state);
  if (availability === state.told) return unchanged(state);
  const sequence = state.availabilitySequence + 1;
  const next = { ...state, told: availability, availabilitySequence: sequence };
  return {
    state: next,
    commands: [
      {
        type: 'tellDependents',
        message: { server: state.config.name, status: availability, sequence, disabledReason: state.disabledReason },
        workflowIds: state.dependents,
      },
    ],
  };
}
