import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseOAuthServerConfig, type OAuthServerConfig } from '../../src/oauth/config';
import { cacheUntil, refreshAt } from '../../src/oauth/token-timing';
import type { AdminAction, AuditEntry, ServerStatus } from '../../src/contract/definitions';
import {
  AUDIT_ENTRIES_KEPT,
  availabilityOf,
  awaitingStart,
  carriedState,
  initialState,
  isAcquiring,
  mayContinueAsNew,
  refreshScheduled,
  refusal,
  step,
  type Availability,
  type MachineRules,
  type ServerEvent,
  type ServerMachineState,
  type ServerRequest,
} from '../../src/workflows/server-machine';
import { availabilityMessageOf, grantOf, historyOf, viewOf } from '../../src/workflows/server-views';

/**
 * The model-based test of the server's state machine: a small reference model says what an admin,
 * a worker and a dependent should see; a harness plays the workflow's part (it carries out the
 * machine's commands) and checks the invariants after every step.
 */

const MODEL_SECRET = 'model-secret';

const modelConfig = (category: string, autoRecover?: { initialDelay: number; maxDelay: number }) =>
  parseOAuthServerConfig({
    name: 'Model',
    category,
    clientId: 'model-client',
    clientSecret: { source: 'local', value: MODEL_SECRET },
    accessTokenUrl: 'https://login.example.com/token',
    scope: category === 'First' ? 'a' : 'a b',
    autoRecover,
  });

export const CONFIGS: OAuthServerConfig[] = ['First', 'Second'].map((category) => modelConfig(category));
/** The first probes on its own (short delays, so that sequences see the cap), the second does not: edits turn probing on and off. */
export const RECOVERING_CONFIGS: OAuthServerConfig[] = [modelConfig('First', { initialDelay: 1_000, maxDelay: 8_000 }), modelConfig('Second')];
const ACTORS = ['alice', 'bob', undefined];

const OAUTH_ERRORS = ['invalid_client', 'invalid_scope', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request', 'server_error', 'temporarily_unavailable', 'timeout', 'connection_failed'];
const DEPENDENTS = ['d1', 'd2', 'd3', 'd4'];

/** What the reference model expects. */
export interface Model {
  rules: MachineRules;
  now: number;
  status: ServerStatus;
  deleted: boolean;
  /**
   * `superseded`: legacy rules only, a request running with settings an edit replaced. `scheduled`: the
   * refresh of the token held, asked for when it arrived; `waiting` once its activity runs, waiting for its time.
   */
  request: 'none' | 'queued' | 'running' | 'superseded' | 'scheduled' | 'waiting';
  waiters: number;
  serial: number;
  dependents: Set<string>;
  lastRejectionRefreshAt?: number;
  config: OAuthServerConfig;
  /** What edits choose from. */
  configs: readonly OAuthServerConfig[];
  /** The next recovery probe, when one is scheduled. */
  probe?: { dueAt: number; delayMs: number };
  /** Set while the request under way is a probe: the delay that preceded it. */
  requestProbeDelay?: number;
  /** Every admin action, in order. */
  audit: AuditEntry[];
}

function recordAction(model: Model, action: AdminAction, actor: string | undefined, fields?: string[]): void {
  model.audit.push({ action, at: new Date(model.now).toISOString(), ...(actor === undefined ? {} : { actor }), ...(fields ? { fields } : {}) });
}

/** A token request under way, which callers wait for; a scheduled refresh is not one: the token it replaces still serves. */
export function acquiringPhase(request: Model['request']): boolean {
  return request === 'queued' || request === 'running' || request === 'superseded';
}

/** A new request replaces the scheduled probe, and a scheduled refresh (the machine cancels it). */
function queueRequest(model: Model, probeDelay?: number): void {
  model.request = 'queued';
  model.probe = undefined;
  model.requestProbeDelay = probeDelay;
}

/** The workflow's part: carries out commands and records what each party has seen. */
export class Harness {
  state: ServerMachineState;
  now = 0;
  /** Token requests started and not yet answered or cancelled. */
  readonly running = new Set<number>();
  /** Requests cancelled or superseded: their answers may still arrive. */
  readonly abandoned: number[] = [];
  /** Bumped by every edit and delete: a token obtained in an older epoch must never be handed out. */
  epoch = 0;
  private readonly requestEpoch = new Map<number, number>();
  private readonly tokenEpoch = new Map<number, number>();
  readonly heard = new Map<string, Availability>();
  /** The status search attribute: createServer sets it, publishStatus commands change it. */
  published: ServerStatus = 'NotAuthorized';
  readonly waiting = new Set<number>();
  private lastWaiter = 0;
  /** Requests that reached the token endpoint in this run, for the replay on a real workflow. */
  readonly events: string[] = [];

  constructor(
    readonly rules: MachineRules,
    configs: readonly OAuthServerConfig[] = CONFIGS,
  ) {
    this.state = initialState(configs[0]!, undefined, this.now, rules);
  }

  refusalOf(request: ServerRequest) {
    return refusal(this.state, request, this.rules);
  }

  waiter(): number {
    this.lastWaiter += 1;
    this.waiting.add(this.lastWaiter);
    return this.lastWaiter;
  }

  apply(event: ServerEvent): void {
    const before = this.state;
    const { state, commands } = step(this.state, event, this.rules);
    this.state = state;
    if ((event.type === 'tokenObtained' || event.type === 'tokenFailed') && before.request?.id === event.requestId) {
      this.running.delete(event.requestId);
      if (state.tokenSerial > before.tokenSerial) this.tokenEpoch.set(state.tokenSerial, this.requestEpoch.get(event.requestId) ?? -1);
    }
    for (const command of commands) {
      switch (command.type) {
        case 'startTokenRequest':
          this.running.add(command.requestId);
          this.requestEpoch.set(command.requestId, this.epoch);
          assert.deepEqual(command.config, state.config, 'a request goes out with the current settings');
          break;
        case 'cancelTokenRequest':
          assert.ok(this.running.delete(command.requestId), 'only a running request is cancelled');
          this.abandoned.push(command.requestId);
          break;
        case 'publishStatus':
          assert.equal(command.status, state.status);
          this.published = command.status;
          break;
        case 'publishCategory':
          assert.equal(command.category, state.config.category);
          break;
        case 'tellDependents':
          for (const id of command.workflowIds) if (state.dependents.includes(id)) this.heard.set(id, command.message.status);
          break;
        case 'answer':
          for (const waiter of command.waiters) assert.ok(this.waiting.delete(waiter), `waiter ${waiter} answered once`);
          if (command.outcome === 'settled') this.handOut();
          break;
      }
    }
  }

  /** What a worker receives now. */
  handOut(): void {
    const grant = grantOf(this.state);
    if (grant.token) assert.equal(this.tokenEpoch.get(grant.token.serial), this.epoch, 'a token obtained before an edit or a delete was handed out after it');
    if (this.state.deleted) assert.equal(grant.token, undefined, 'a deleted server granted a token');
  }

  checkInvariants(model: Model): void {
    const state = this.state;
    assert.ok(this.running.size <= 1, `${this.running.size} token requests in flight`);
    if (this.running.size === 1) assert.ok(state.request?.started && this.running.has(state.request.id), 'the request in flight is the one the state knows');
    assert.equal(state.deleted, model.deleted);
    assert.equal(state.status, model.status);
    assert.equal(this.published, state.status, 'the status search attribute says what the server is');
    assert.equal(state.tokenSerial, model.serial);
    assert.equal(state.config, model.config);
    assert.equal(state.waiting.length, model.waiters);
    assert.equal(state.waiting.length, this.waiting.size);
    assert.equal(requestPhase(state), model.request);
    assert.deepEqual(new Set(state.dependents), model.dependents);
    if (!isAcquiring(state)) assert.equal(this.waiting.size, 0, 'a request waits though no token is on its way');
    assert.equal(grantOf(state).acquiring, acquiringPhase(model.request) && !state.deleted);
    assert.equal(viewOf(state).acquiring, acquiringPhase(model.request));
    assert.equal(state.told, availabilityOf(state));
    for (const id of state.dependents) assert.equal(this.heard.get(id), availabilityOf(state), `dependent ${id} heard ${this.heard.get(id)}`);
    this.handOut();
    if (state.deleted) {
      assert.equal(grantOf(state).status, 'Deleted');
      for (const type of ['authorize', 'tokenWanted', 'edit', 'registerDependents'] as const) assert.equal(this.refusalOf({ type })?.type, 'OAuthServerDeleted');
    }
    this.checkProbe(model);
    this.checkRefresh();
    this.checkHistory(model);
  }

  /** Under rules that schedule refreshes, a server that is OK always has its next token on the way or scheduled, due when the token says. */
  private checkRefresh(): void {
    const state = this.state;
    const scheduled = refreshScheduled(state);
    if (this.rules.schedulesRefreshes && state.status === 'OK' && !state.deleted) assert.ok(scheduled ?? isAcquiring(state), 'an OK server with no refresh ahead');
    if (!scheduled) return;
    assert.ok(this.rules.schedulesRefreshes && state.status === 'OK' && !state.deleted && state.token, 'a refresh scheduled for a server with no token to serve');
    assert.equal(scheduled.notBefore, refreshAt(state.token.obtainedAt, state.token.expiresAt));
    assert.equal(state.waiting.length, 0, 'a request waits for a refresh not yet due');
  }

  /** A probe is scheduled exactly while a disabled server with autoRecover waits for nothing else, and it backs off as configured. */
  private checkProbe(model: Model): void {
    const state = this.state;
    const delays = state.config.autoRecover;
    const shouldProbe = state.status === 'Error' && !state.deleted && !state.request && delays !== undefined && delays !== false;
    assert.equal(state.probe !== undefined, shouldProbe, `probe ${JSON.stringify(state.probe)} while ${state.status}, request ${requestPhase(state)}`);
    assert.deepEqual(state.probe, model.probe);
    assert.equal(state.request?.probeDelayMs, model.request === 'none' ? undefined : model.requestProbeDelay);
    if (state.probe && delays) {
      assert.ok(state.probe.delayMs >= delays.initialDelay && state.probe.delayMs <= delays.maxDelay, `probe delay ${state.probe.delayMs} outside its bounds`);
      assert.equal(viewOf(state).nextProbeAt, new Date(state.probe.dueAt).toISOString());
      assert.match(this.refusalOf({ type: 'tokenWanted' })?.message ?? '', /tries again on its own at /);
    } else {
      assert.equal(viewOf(state).nextProbeAt, undefined);
    }
  }

  /** The latest actions and the count of all; names of changed settings, never a value. */
  private checkHistory(model: Model): void {
    const history = historyOf(this.state);
    assert.equal(history.total, model.audit.length);
    assert.deepEqual(history.entries, model.audit.slice(-AUDIT_ENTRIES_KEPT));
    assert.ok(!JSON.stringify(history).includes(MODEL_SECRET), 'the history holds the secret');
  }

  /** Ends every request still under way, as the workflow does before it completes; a scheduled refresh may stay. */
  drain(): void {
    for (let guard = 0; guard < 3 && isAcquiring(this.state); guard += 1) {
      const queued = awaitingStart(this.state);
      if (queued) this.apply({ type: 'requestStarted', requestId: queued.id });
      const request = this.state.request;
      if (request) this.apply({ type: 'tokenObtained', requestId: request.id, token: { accessToken: 'drained', expiresInSeconds: 60 } });
    }
    assert.ok(!isAcquiring(this.state));
    assert.equal(this.waiting.size, 0, 'a request that waited for a token never ended');
  }

  /** The run cancels its scheduled refresh, the one request it may leave (the new run schedules its own). */
  continueAsNew(at: number): void {
    assert.ok(mayContinueAsNew(this.state));
    const scheduled = refreshScheduled(this.state);
    if (scheduled?.started) assert.ok(this.running.delete(scheduled.id));
    const carried: unknown = JSON.parse(JSON.stringify(carriedState(this.state)));
    this.state = initialState(this.state.config, carried as ReturnType<typeof carriedState>, at, this.rules);
    this.abandoned.length = 0;
    this.requestEpoch.clear();
  }
}

function requestPhase(state: ServerMachineState): Model['request'] {
  if (!state.request) return 'none';
  if (state.request.notBefore !== undefined) return state.request.started ? 'waiting' : 'scheduled';
  if (state.request.superseded) return 'superseded';
  return state.request.started ? 'running' : 'queued';
}

export type Command = fc.Command<Model, Harness>;

/** The model's side of a request being answered: the request ends and its waiters with it; a failure with autoRecover schedules a probe. */
function settleModel(model: Model, status: ServerStatus): void {
  const superseded = model.request === 'superseded';
  const probeDelay = model.requestProbeDelay;
  model.request = 'none';
  model.requestProbeDelay = undefined;
  model.waiters = 0;
  if (superseded) return;
  model.status = status;
  if (status === 'OK') model.serial += 1;
  if (status === 'OK' && model.rules.schedulesRefreshes && !model.deleted) model.request = 'scheduled';
  const delays = model.config.autoRecover;
  if (status === 'Error' && delays && !model.deleted) {
    const delayMs = probeDelay === undefined ? delays.initialDelay : Math.min(2 * probeDelay, delays.maxDelay);
    model.probe = { dueAt: model.now + delayMs, delayMs };
  }
}

export class Authorize implements Command {
  constructor(readonly actor: string | undefined) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'authorize' });
    if (model.deleted) {
      assert.equal(refused?.type, 'OAuthServerDeleted');
      return real.checkInvariants(model);
    }
    assert.equal(refused, undefined);
    real.events.push('authorize');
    real.apply({ type: 'authorize', at: model.now, waiter: real.waiter(), actor: this.actor });
    recordAction(model, 'authorize', this.actor);
    if (!acquiringPhase(model.request)) queueRequest(model);
    model.waiters += 1;
    real.checkInvariants(model);
  }
  toString = () => `authorize by ${this.actor ?? 'someone'}`;
}

export class WantToken implements Command {
  check = () => true;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'tokenWanted' });
    if (model.deleted) return assert.equal(refused?.type, 'OAuthServerDeleted');
    if (model.status !== 'OK' && model.request === 'none') return assert.ok(refused, 'an unavailable server refuses at once');
    assert.equal(refused, undefined);
    const held = real.state.token;
    const copyDue = held !== undefined && model.now >= cacheUntil(held.obtainedAt, held.expiresAt);
    real.apply({ type: 'tokenWanted', at: model.now, waiter: real.waiter() });
    // A worker whose copy is due wants the scheduled refresh now; one that asked while the token was on its way gets the token held.
    if ((model.request === 'scheduled' || model.request === 'waiting') && copyDue) queueRequest(model);
    if (acquiringPhase(model.request)) model.waiters += 1;
    real.checkInvariants(model);
  }
  toString = () => 'freshToken';
}

export class RejectToken implements Command {
  constructor(readonly current: boolean) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    const serial = this.current ? model.serial : Math.max(1, model.serial - 1);
    const request = { type: 'tokenRejected' as const, serial, at: model.now };
    const refused = real.refusalOf(request);
    if (model.deleted) return assert.equal(refused?.type, 'OAuthServerDeleted');
    if (model.status !== 'OK' && model.request === 'none') return assert.ok(refused);
    const replaces = model.status === 'OK' && serial === model.serial && !acquiringPhase(model.request);
    const rationed =
      replaces && model.lastRejectionRefreshAt !== undefined && model.now - model.lastRejectionRefreshAt < model.rules.rejectionRefreshIntervalMs;
    if (rationed) {
      assert.equal(refused?.type, 'OAuthRejectedTokenRefreshRationed');
      return real.checkInvariants(model);
    }
    assert.equal(refused, undefined);
    real.events.push(`reject ${this.current ? 'current' : 'old'}`);
    real.apply({ ...request, waiter: real.waiter() });
    if (replaces) {
      queueRequest(model);
      model.lastRejectionRefreshAt = model.now;
    }
    if (acquiringPhase(model.request)) model.waiters += 1;
    real.checkInvariants(model);
  }
  toString = () => `reject ${this.current ? 'current' : 'older'} token`;
}

/** The settings an edit changed, by name. */
function changedFields(before: OAuthServerConfig, after: OAuthServerConfig): string[] {
  return (Object.keys({ ...before, ...after }) as (keyof OAuthServerConfig)[]).filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field])).sort();
}

export class Edit implements Command {
  constructor(
    readonly configIndex: number,
    readonly actor: string | undefined,
  ) {}
  check = (model: Readonly<Model>) => !model.deleted;
  run(model: Model, real: Harness): void {
    const config = model.configs[this.configIndex]!;
    real.epoch += 1;
    real.events.push(`edit ${config.category}`);
    real.apply({ type: 'edit', config, at: model.now, actor: this.actor });
    recordAction(model, 'edit', this.actor, changedFields(model.config, config));
    model.config = config;
    model.status = 'NotAuthorized';
    model.probe = undefined;
    if (model.request === 'queued' || model.request === 'scheduled' || model.request === 'waiting' || (model.request === 'running' && model.rules.cancelsSupersededRequests)) {
      model.request = 'none';
      model.waiters = 0;
    } else if (model.request === 'running') {
      model.request = 'superseded';
    }
    real.checkInvariants(model);
  }
  toString = () => `edit to config ${this.configIndex} by ${this.actor ?? 'someone'}`;
}

export class Delete implements Command {
  constructor(
    readonly force: boolean,
    readonly actor: string | undefined,
  ) {}
  check = (model: Readonly<Model>) => !model.deleted;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'delete', force: this.force });
    if (!this.force && model.dependents.size > 0) {
      assert.equal(refused?.type, 'OAuthServerHasDependents');
      return real.checkInvariants(model);
    }
    assert.equal(refused, undefined);
    real.epoch += 1;
    real.events.push(this.force ? 'force delete' : 'delete');
    real.apply({ type: 'delete', at: model.now, actor: this.actor, force: this.force });
    recordAction(model, this.force ? 'forceDelete' : 'delete', this.actor);
    model.deleted = true;
    model.waiters = 0;
    model.probe = undefined;
    if (model.request === 'queued' || model.request === 'scheduled' || model.rules.cancelsSupersededRequests) model.request = 'none';
    real.checkInvariants(model);
  }
  toString = () => (this.force ? 'force delete' : 'delete');
}

/** The workflow's loop starts a request that was asked for, or a refresh scheduled. */
export class LoopStartsRequest implements Command {
  check = (model: Readonly<Model>) => model.request === 'queued' || model.request === 'scheduled';
  run(model: Model, real: Harness): void {
    const request = awaitingStart(real.state);
    assert.ok(request);
    real.apply({ type: 'requestStarted', requestId: request.id });
    model.request = model.request === 'scheduled' ? 'waiting' : 'running';
    real.checkInvariants(model);
  }
  toString = () => 'loop starts the request';
}

export type TokenOutcome = { ok: true; expiresInSeconds: number } | { ok: false; code: string };

export class TokenAnswer implements Command {
  constructor(
    readonly outcome: TokenOutcome,
    readonly stale: boolean,
  ) {}
  check = (model: Readonly<Model>) => (this.stale ? true : model.request === 'running' || model.request === 'superseded' || model.request === 'waiting');
  run(model: Model, real: Harness): void {
    const requestId = this.stale ? (real.abandoned.at(-1) ?? 999) : real.state.request!.id;
    const event: ServerEvent = this.outcome.ok
      ? { type: 'tokenObtained', requestId, token: { accessToken: `token-${requestId}`, expiresInSeconds: this.outcome.expiresInSeconds } }
      : { type: 'tokenFailed', requestId, reason: { code: this.outcome.code, elapsedMs: 1, at: new Date(model.now).toISOString(), message: this.outcome.code } };
    if (this.stale) {
      const before = real.state;
      real.apply(event);
      assert.equal(real.state, before, 'the answer to an abandoned request changed the state');
      return real.checkInvariants(model);
    }
    real.events.push(this.outcome.ok ? 'token ok' : `token ${this.outcome.code}`);
    real.apply(event);
    settleModel(model, this.outcome.ok ? 'OK' : 'Error');
    real.checkInvariants(model);
  }
  toString = () => `${this.stale ? 'stale ' : ''}${this.outcome.ok ? `token for ${this.outcome.expiresInSeconds} s` : this.outcome.code}`;
}

export class RefreshDue implements Command {
  check = () => true;
  run(model: Model, real: Harness): void {
    real.apply({ type: 'refreshDue', at: model.now });
    if (!model.deleted && model.request === 'none' && model.status === 'OK') queueRequest(model);
    real.checkInvariants(model);
  }
  toString = () => 'refresh due';
}

/** The driver's probe timer fires; the model also fires it early, late and when no probe is scheduled. */
export class ProbeDue implements Command {
  check = () => true;
  run(model: Model, real: Harness): void {
    real.apply({ type: 'probeDue', at: model.now });
    if (model.probe && model.now >= model.probe.dueAt) {
      real.events.push('probe');
      queueRequest(model, model.probe.delayMs);
    }
    real.checkInvariants(model);
  }
  toString = () => 'probe due';
}

export class Register implements Command {
  constructor(readonly ids: string[]) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'registerDependents' });
    if (model.deleted) return assert.equal(refused?.type, 'OAuthServerDeleted');
    real.apply({ type: 'dependentsRegistered', workflowIds: this.ids });
    // The update answers with the availability, which is what the dependent starts from.
    for (const id of this.ids) {
      model.dependents.add(id);
      real.heard.set(id, availabilityMessageOf(real.state).status);
    }
    real.checkInvariants(model);
  }
  toString = () => `register ${this.ids.join(',')}`;
}

/** Dependents that end together, as a fan-out finds them, registered or not. */
export class DependentsEnd implements Command {
  constructor(readonly ids: string[]) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    real.apply({ type: 'dependentsEnded', workflowIds: this.ids });
    for (const id of this.ids) {
      real.heard.delete(id);
      model.dependents.delete(id);
    }
    real.checkInvariants(model);
  }
  toString = () => `${this.ids.join(',')} end`;
}

export class ContinueAsNew implements Command {
  check = (model: Readonly<Model>) => !model.deleted && !acquiringPhase(model.request) && model.waiters === 0;
  run(model: Model, real: Harness): void {
    const before = real.state;
    real.continueAsNew(model.now);
    real.events.push('continue as new');
    if (model.request !== 'none') model.request = 'scheduled';
    // As Temporal's payload converter sees them: JSON, where an undefined field is no field.
    const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    assert.deepEqual(wire(viewOf(real.state)), wire(viewOf(before)));
    assert.deepEqual(wire(grantOf(real.state)), wire(grantOf(before)));
    assert.deepEqual(wire(availabilityMessageOf(real.state)), wire(availabilityMessageOf(before)));
    assert.deepEqual(wire(carriedState(real.state)), wire(carriedState(before)));
    assert.deepEqual(historyOf(real.state), historyOf(before));
    real.checkInvariants(model);
  }
  toString = () => 'continue as new';
}

export class TimePasses implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    model.now += this.ms;
    real.now = model.now;
  }
  toString = () => `${this.ms} ms pass`;
}

const tokenOutcome: fc.Arbitrary<TokenOutcome> = fc.oneof(
  fc.integer({ min: 1, max: 3600 }).map((expiresInSeconds) => ({ ok: true as const, expiresInSeconds })),
  fc.constantFrom(...OAUTH_ERRORS).map((code) => ({ ok: false as const, code })),
);

/** Every kind of step the model takes, for tests that pick their own mix. */
export const commandArbitraries = {
  authorize: fc.constantFrom(...ACTORS).map((actor) => new Authorize(actor)),
  wantToken: fc.constant(new WantToken()),
  rejectToken: fc.boolean().map((current) => new RejectToken(current)),
  edit: fc.tuple(fc.integer({ min: 0, max: CONFIGS.length - 1 }), fc.constantFrom(...ACTORS)).map(([index, actor]) => new Edit(index, actor)),
  delete: fc.tuple(fc.boolean(), fc.constantFrom(...ACTORS)).map(([force, actor]) => new Delete(force, actor)),
  loopStartsRequest: fc.constant(new LoopStartsRequest()),
  tokenAnswer: fc.tuple(tokenOutcome, fc.boolean()).map(([outcome, stale]) => new TokenAnswer(outcome, stale)),
  refreshDue: fc.constant(new RefreshDue()),
  probeDue: fc.constant(new ProbeDue()),
  register: fc.subarray(DEPENDENTS, { minLength: 1 }).map((ids) => new Register(ids)),
  dependentsEnd: fc.subarray(DEPENDENTS, { minLength: 1 }).map((ids) => new DependentsEnd(ids)),
  continueAsNew: fc.constant(new ContinueAsNew()),
  timePasses: fc.integer({ min: 1, max: 40_000 }).map((ms) => new TimePasses(ms)),
};

/** Weighted so that most sequences live a while before a delete ends them. */
export const serverCommands = fc.commands(
  [
    fc.oneof(
      { arbitrary: commandArbitraries.authorize, weight: 4 },
      { arbitrary: commandArbitraries.wantToken, weight: 3 },
      { arbitrary: commandArbitraries.rejectToken, weight: 4 },
      { arbitrary: commandArbitraries.edit, weight: 3 },
      { arbitrary: commandArbitraries.delete, weight: 1 },
      { arbitrary: commandArbitraries.loopStartsRequest, weight: 6 },
      { arbitrary: commandArbitraries.tokenAnswer, weight: 6 },
      { arbitrary: commandArbitraries.refreshDue, weight: 2 },
      { arbitrary: commandArbitraries.probeDue, weight: 3 },
      { arbitrary: commandArbitraries.register, weight: 3 },
      { arbitrary: commandArbitraries.dependentsEnd, weight: 2 },
      { arbitrary: commandArbitraries.continueAsNew, weight: 2 },
      { arbitrary: commandArbitraries.timePasses, weight: 3 },
    ),
  ],
  { maxCommands: 60, size: 'max' },
);

export function newRun(rules: MachineRules, configs: readonly OAuthServerConfig[] = CONFIGS): { model: Model; real: Harness } {
  const real = new Harness(rules, configs);
  return {
    model: {
      rules,
      now: 0,
      status: 'NotAuthorized',
      deleted: false,
      request: 'queued',
      waiters: 0,
      serial: 0,
      dependents: new Set(),
      config: configs[0]!,
      configs,
      audit: [],
    },
    real,
  };
}
