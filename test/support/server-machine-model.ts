import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseOAuthServerConfig, type OAuthServerConfig } from '../../src/oauth/config';
import type { ServerStatus } from '../../src/contract/definitions';
import {
  availabilityOf,
  awaitingStart,
  carriedState,
  initialState,
  mayContinueAsNew,
  refusal,
  step,
  type Availability,
  type MachineRules,
  type ServerEvent,
  type ServerMachineState,
  type ServerRequest,
} from '../../src/workflows/server-machine';
import { availabilityMessageOf, grantOf, viewOf } from '../../src/workflows/server-views';

/**
 * The model-based test of the server's state machine: a small reference model says what an admin,
 * a worker and a dependent should see; a harness plays the workflow's part (it carries out the
 * machine's commands) and checks the invariants after every step.
 */

export const CONFIGS: OAuthServerConfig[] = ['First', 'Second'].map((category) =>
  parseOAuthServerConfig({
    name: 'Model',
    category,
    clientId: 'model-client',
    clientSecret: { source: 'local', value: 'model-secret' },
    accessTokenUrl: 'https://login.example.com/token',
    scope: category === 'First' ? 'a' : 'a b',
  }),
);

const OAUTH_ERRORS = ['invalid_client', 'invalid_scope', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request', 'server_error', 'temporarily_unavailable', 'timeout', 'connection_failed'];
const DEPENDENTS = ['d1', 'd2', 'd3', 'd4'];

/** What the reference model expects. */
export interface Model {
  rules: MachineRules;
  now: number;
  status: ServerStatus;
  deleted: boolean;
  /** `superseded`: legacy rules only, a request running with settings an edit replaced. */
  request: 'none' | 'queued' | 'running' | 'superseded';
  waiters: number;
  serial: number;
  dependents: Set<string>;
  lastRejectionRefreshAt?: number;
  config: OAuthServerConfig;
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
  readonly waiting = new Set<number>();
  private lastWaiter = 0;
  /** Requests that reached the token endpoint in this run, for the replay on a real workflow. */
  readonly events: string[] = [];

  constructor(readonly rules: MachineRules) {
    this.state = initialState(CONFIGS[0]!, undefined, this.now);
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
    assert.equal(state.tokenSerial, model.serial);
    assert.equal(state.config, model.config);
    assert.equal(state.waiting.length, model.waiters);
    assert.equal(state.waiting.length, this.waiting.size);
    assert.equal(requestPhase(state), model.request);
    assert.deepEqual(new Set(state.dependents), model.dependents);
    if (!state.request) assert.equal(this.waiting.size, 0, 'a request waits though no token is on its way');
    assert.equal(state.told, availabilityOf(state));
    for (const id of state.dependents) assert.equal(this.heard.get(id), availabilityOf(state), `dependent ${id} heard ${this.heard.get(id)}`);
    this.handOut();
    if (state.deleted) {
      assert.equal(grantOf(state).status, 'Deleted');
      for (const type of ['authorize', 'tokenWanted', 'edit', 'registerDependents'] as const) assert.equal(this.refusalOf({ type })?.type, 'OAuthServerDeleted');
    }
  }

  /** Answers to a previous run's requests never reach a new run. */
  newRun(): void {
    this.abandoned.length = 0;
    this.requestEpoch.clear();
  }

  /** Ends every request still under way, as the workflow does before it completes. */
  drain(): void {
    for (let guard = 0; guard < 3 && this.state.request; guard += 1) {
      const queued = awaitingStart(this.state);
      if (queued) this.apply({ type: 'requestStarted', requestId: queued.id });
      const request = this.state.request;
      if (request) this.apply({ type: 'tokenObtained', requestId: request.id, token: { accessToken: 'drained', expiresInSeconds: 60 } });
    }
    assert.equal(this.state.request, undefined);
    assert.equal(this.waiting.size, 0, 'a request that waited for a token never ended');
  }
}

function requestPhase(state: ServerMachineState): Model['request'] {
  if (!state.request) return 'none';
  if (state.request.superseded) return 'superseded';
  return state.request.started ? 'running' : 'queued';
}

export type Command = fc.Command<Model, Harness>;

/** The model's side of a request being answered: the request ends and its waiters with it. */
function settleModel(model: Model, status: ServerStatus): void {
  const superseded = model.request === 'superseded';
  model.request = 'none';
  model.waiters = 0;
  if (superseded) return;
  model.status = status;
  if (status === 'OK') model.serial += 1;
}

export class Authorize implements Command {
  check = () => true;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'authorize' });
    if (model.deleted) {
      assert.equal(refused?.type, 'OAuthServerDeleted');
      return real.checkInvariants(model);
    }
    assert.equal(refused, undefined);
    real.events.push('authorize');
    real.apply({ type: 'authorize', at: model.now, waiter: real.waiter() });
    if (model.request === 'none') model.request = 'queued';
    model.waiters += 1;
    real.checkInvariants(model);
  }
  toString = () => 'authorize';
}

export class WantToken implements Command {
  check = () => true;
  run(model: Model, real: Harness): void {
    const refused = real.refusalOf({ type: 'tokenWanted' });
    if (model.deleted) return assert.equal(refused?.type, 'OAuthServerDeleted');
    if (model.status !== 'OK' && model.request === 'none') return assert.ok(refused, 'an unavailable server refuses at once');
    assert.equal(refused, undefined);
    real.apply({ type: 'tokenWanted', at: model.now, waiter: real.waiter() });
    if (model.request !== 'none') model.waiters += 1;
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
    const replaces = model.status === 'OK' && serial === model.serial && model.request === 'none';
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
      model.request = 'queued';
      model.lastRejectionRefreshAt = model.now;
    }
    if (model.request !== 'none') model.waiters += 1;
    real.checkInvariants(model);
  }
  toString = () => `reject ${this.current ? 'current' : 'older'} token`;
}

export class Edit implements Command {
  constructor(readonly configIndex: number) {}
  check = (model: Readonly<Model>) => !model.deleted;
  run(model: Model, real: Harness): void {
    const config = CONFIGS[this.configIndex]!;
    real.epoch += 1;
    real.events.push(`edit ${config.category}`);
    real.apply({ type: 'edit', config });
    model.config = config;
    model.status = 'NotAuthorized';
    if (model.request === 'queued' || (model.request === 'running' && model.rules.cancelsSupersededRequests)) {
      model.request = 'none';
      model.waiters = 0;
    } else if (model.request === 'running') {
      model.request = 'superseded';
    }
    real.checkInvariants(model);
  }
  toString = () => `edit to ${CONFIGS[this.configIndex]!.category}`;
}

export class Delete implements Command {
  constructor(readonly force: boolean) {}
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
    real.apply({ type: 'delete' });
    model.deleted = true;
    model.waiters = 0;
    if (model.request === 'queued' || model.rules.cancelsSupersededRequests) model.request = 'none';
    real.checkInvariants(model);
  }
  toString = () => (this.force ? 'force delete' : 'delete');
}

/** The workflow's loop starts a request that was asked for. */
export class LoopStartsRequest implements Command {
  check = (model: Readonly<Model>) => model.request === 'queued';
  run(model: Model, real: Harness): void {
    const request = awaitingStart(real.state);
    assert.ok(request);
    real.apply({ type: 'requestStarted', requestId: request.id });
    model.request = 'running';
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
  check = (model: Readonly<Model>) => (this.stale ? true : model.request === 'running' || model.request === 'superseded');
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
    if (!model.deleted && model.request === 'none' && model.status === 'OK') model.request = 'queued';
    real.checkInvariants(model);
  }
  toString = () => 'refresh due';
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

export class DependentEnds implements Command {
  constructor(readonly id: string) {}
  check = () => true;
  run(model: Model, real: Harness): void {
    real.apply({ type: 'dependentEnded', workflowId: this.id });
    real.heard.delete(this.id);
    model.dependents.delete(this.id);
    real.checkInvariants(model);
  }
  toString = () => `${this.id} ends`;
}

export class ContinueAsNew implements Command {
  check = (model: Readonly<Model>) => !model.deleted && model.request === 'none' && model.waiters === 0;
  run(model: Model, real: Harness): void {
    assert.ok(mayContinueAsNew(real.state));
    const before = real.state;
    const carried: unknown = JSON.parse(JSON.stringify(carriedState(before)));
    real.state = initialState(before.config, carried as ReturnType<typeof carriedState>, model.now);
    real.newRun();
    real.events.push('continue as new');
    // As Temporal's payload converter sees them: JSON, where an undefined field is no field.
    const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    assert.deepEqual(wire(viewOf(real.state)), wire(viewOf(before)));
    assert.deepEqual(wire(grantOf(real.state)), wire(grantOf(before)));
    assert.deepEqual(wire(availabilityMessageOf(real.state)), wire(availabilityMessageOf(before)));
    assert.deepEqual(wire(carriedState(real.state)), wire(carriedState(before)));
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

/** Each command of the model with the arbitrary that draws it, for tests that weigh them otherwise (the replay on a real workflow). */
export const commandArbitraries = {
  authorize: fc.constant(new Authorize()),
  wantToken: fc.constant(new WantToken()),
  rejectToken: fc.boolean().map((current) => new RejectToken(current)),
  edit: fc.integer({ min: 0, max: CONFIGS.length - 1 }).map((index) => new Edit(index)),
  delete: fc.boolean().map((force) => new Delete(force)),
  loopStartsRequest: fc.constant(new LoopStartsRequest()),
  tokenAnswer: fc.tuple(tokenOutcome, fc.boolean()).map(([outcome, stale]) => new TokenAnswer(outcome, stale)),
  refreshDue: fc.constant(new RefreshDue()),
  register: fc.subarray(DEPENDENTS, { minLength: 1 }).map((ids) => new Register(ids)),
  dependentEnds: fc.constantFrom(...DEPENDENTS).map((id) => new DependentEnds(id)),
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
      { arbitrary: commandArbitraries.register, weight: 3 },
      { arbitrary: commandArbitraries.dependentEnds, weight: 2 },
      { arbitrary: commandArbitraries.continueAsNew, weight: 2 },
      { arbitrary: commandArbitraries.timePasses, weight: 3 },
    ),
  ],
  { maxCommands: 60, size: 'max' },
);

export function newRun(rules: MachineRules): { model: Model; real: Harness } {
  const real = new Harness(rules);
  return {
    model: { rules, now: 0, status: 'NotAuthorized', deleted: false, request: 'queued', waiters: 0, serial: 0, dependents: new Set(), config: CONFIGS[0]! },
    real,
  };
}
