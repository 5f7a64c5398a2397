import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  authorizeServer,
  createServer,
  deleteServer,
  editServer,
  ServerChangeRejectedError,
  ServerFailure,
  ServerNotFoundError,
  showServer,
  WebServiceCallFailure,
  type ServerView,
  type WebServiceCallResult,
} from '../../src';
import { STATUS_RECHECK_MS } from '../../src/activities/token-cache';
import { serverWorkflowId } from '../../src/contract/definitions';
import { REJECTION_REFRESH_INTERVAL_MS } from '../../src/workflows/server-machine';
import { finishSignal, probeStatusQuery, type callOnce, type dependentProbe } from '../workflows';
import { eventually, within } from './eventually';
import { callFromWorkflow, startCallFromWorkflow } from './run-workflow';
import { workersRunningActivities } from './workers-running';
import {
  acquiringPhase,
  Authorize,
  CONFIGS,
  Delete,
  DependentsEnd,
  Edit,
  LoopStartsRequest,
  Register,
  RejectToken,
  TokenAnswer,
  WantToken,
  type Command,
  type Model,
  type TokenOutcome,
} from './server-machine-model';
import type { TestBed } from './test-bed';
import { startScriptedEndpoint, type ScriptedResponse } from './token-endpoints';

/**
 * The real side of the model-based test: one OAuth server's workflow on the dev server, driven only
 * through the public surface (the admin API, webServiceCall from a workflow, dependent workflows)
 * and a token endpoint whose answers the sequence dictates. After each step of the model it does the
 * same thing for real and compares what an admin, a caller and a dependent see with the model.
 */

/** The model as it was before a step: what a request made during the step starts from. */
export type ModelBefore = Readonly<Omit<Model, 'dependents'>> & { readonly dependents: ReadonlySet<string> };

export function snapshotOf(model: Model): ModelBefore {
  return { ...model, dependents: new Set(model.dependents) };
}

/**
 * The token activity gives up on an exchange after 30 s (the plugin's default), whatever maxWait says:
 * a request the replay holds longer would fail on its own, which no step of the model says.
 */
const HELD_REQUEST_LIMIT_MS = 25_000;
/**
 * The model's lifetimes run from 1 s; a real token that short would be refreshed by the workflow's
 * timer, and these sequences leave out the model's refresh. Ten minutes outlives any sequence.
 */
const MIN_REPLAYED_LIFETIME_S = 600;
const STEP_DEADLINE_MS = 20_000;

/**
 * The model refuses every request to a deleted server as deleted. Its workflow has ended, so on the
 * public surface that reads: the admin API no longer knows the server, a call fails OAuthServerDeleted
 * (the ended workflow still answers the worker's query), and a dependent that registers fails
 * OAuthServerNotFound: the one place where the workflow does not say what the model says.
 */
const AFTER_DELETE = { admin: 'not found', call: `failed ${WebServiceCallFailure.ServerDeleted}`, registration: `failed ${ServerFailure.Deleted}` };

/** A token request the workflow sent, held at the endpoint until the sequence answers it. */
interface HeldRequest {
  scope: string | null;
  receivedAt: number;
  answered: boolean;
  /** `reset`: the connection is dropped without an answer. */
  reply(response: ScriptedResponse | 'reset'): void;
}

interface HeldTokenEndpoint {
  url: string;
  /** In the order they arrived. */
  held: HeldRequest[];
  close(): Promise<void>;
}

/** A token endpoint that answers nothing until the sequence says what. */
async function startHeldTokenEndpoint(): Promise<HeldTokenEndpoint> {
  const held: HeldRequest[] = [];
  const endpoint = await startScriptedEndpoint(
    (recorded, body) =>
      new Promise<ScriptedResponse>((resolve, reject) => {
        const request: HeldRequest = {
          scope: new URLSearchParams(body).get('scope'),
          receivedAt: recorded.receivedAt,
          answered: false,
          reply(response) {
            request.answered = true;
            // A rejected handler makes the scripted endpoint destroy the socket.
            if (response === 'reset') reject(new Error('connection dropped by the sequence'));
            else resolve(response);
          },
        };
        held.push(request);
      }),
  );
  return {
    url: endpoint.url,
    held,
    async close() {
      for (const request of held) if (!request.answered) request.reply({ status: 503 });
      await endpoint.close();
    },
  };
}

interface TokenEchoApi {
  origin: string;
  url: string;
  /** Numbers an access token the endpoint hands out; the API answers a call with the number of the token it carried. */
  issue(token: string): number;
  /** The next call that carries `token` gets 401 invalid_token. */
  rejectOnce(token: string): void;
  /** A rejection asked for and not yet made. */
  readonly rejecting: string | undefined;
  close(): Promise<void>;
}

async function startTokenEchoApi(): Promise<TokenEchoApi> {
  const numbers = new Map<string, number>();
  let rejecting: string | undefined;
  const endpoint = await startScriptedEndpoint((request): ScriptedResponse => {
    const token = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (token !== undefined && token === rejecting) {
      rejecting = undefined;
      return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token === undefined ? null : (numbers.get(token) ?? 'unknown') }) };
  });
  return {
    origin: new URL(endpoint.url).origin,
    url: endpoint.url,
    issue(token) {
      numbers.set(token, numbers.size + 1);
      return numbers.size;
    },
    rejectOnce(token) {
      rejecting = token;
    },
    get rejecting() {
      return rejecting;
    },
    close: () => endpoint.close(),
  };
}

/** An admin request's outcome as the comparison reads it: `view OK`, `done`, `refused OAuthServerHasDependents`, `not found`. */
async function adminOutcome(request: Promise<ServerView | void>): Promise<string> {
  try {
    const view = await request;
    return view ? `view ${view.status}` : 'done';
  } catch (error) {
    if (error instanceof ServerChangeRejectedError) return `refused ${error.type}`;
    // createServer passes on the workflow's refusal as Temporal's client gives it (see the report of issue 11's replay).
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return `refused ${error.cause.type}`;
    if (error instanceof ServerNotFoundError) return 'not found';
    return `unexpected ${String(error)}`;
  }
}

/** A workflow's outcome as the comparison reads it: what it returned, or the type of the failure it ended with. */
async function workflowOutcome<T>(result: Promise<T>, describe: (value: T) => string): Promise<string> {
  try {
    return describe(await result);
  } catch (error) {
    if (error instanceof WorkflowFailedError) return `failed ${(error.cause?.cause as { type?: string } | undefined)?.type}`;
    return `unexpected ${String(error)}`;
  }
}

const callResult = (result: WebServiceCallResult) => `${result.status} with token ${JSON.stringify((result.body as { token?: unknown } | null)?.token)}`;

/** What a worker may still hold of a server's grant: it trusts its copy for STATUS_RECHECK_MS. */
const grantKey = (state: ModelBefore) => `${state.deleted}/${state.status}/${state.serial}`;
const availabilityOf = (state: ModelBefore) => (state.deleted ? 'Deleted' : state.status);

type WaiterKind = 'authorize' | 'call';

/** A request that waits on the server, like the model's waiters, until the model says it is answered. */
interface Waiting {
  what: string;
  kind: WaiterKind;
  /** Requests that wait for the same worker flight share one update: the worker's single flight. Absent for a call that waits by reading. */
  flight?: string;
  outcome: Promise<string>;
  ended: boolean;
}

export class ModelReplay {
  private readonly server: WorkflowHandle;
  private current: HeldRequest | undefined;
  private readonly abandoned: HeldRequest[] = [];
  private requestsAsked = 0;
  private readonly tokenOfSerial = new Map<number, { token: string; number: number }>();
  /** The disabled reason's code the last failed answer must give. */
  private failureCode: string | undefined;
  private rejectionRefreshedAt = 0;
  private readonly probes = new Map<string, WorkflowHandle<typeof dependentProbe>>();
  private waiting: Waiting[] = [];
  /** When a call last filled the worker's copy of the grant, and with what. */
  private grantCopiedAt = 0;
  private copiedGrant = '';

  private constructor(
    private readonly bed: TestBed,
    private readonly taskQueue: string,
    private readonly name: string,
    private readonly tokens: HeldTokenEndpoint,
    private readonly api: TokenEchoApi,
  ) {
    this.server = bed.client.workflow.getHandle(serverWorkflowId(name));
  }

  /** Creates the server as the model's first state has it: Not authorized, its first token request under way. */
  static async start(bed: TestBed, taskQueue: string, model: Model): Promise<ModelReplay> {
    const [tokens, api] = await Promise.all([startHeldTokenEndpoint(), startTokenEchoApi()]);
    const config = bed.serverConfig('client_secret_basic', {
      accessTokenUrl: tokens.url,
      allowedOrigins: [api.origin],
      category: model.config.category,
      scope: model.config.scope,
      maxWait: 60_000,
      maxRetryAttempts: 1,
    });
    const replay = new ModelReplay(bed, taskQueue, config.name, tokens, api);
    replay.waiting.push(waiter('the creation', 'authorize', adminOutcome(createServer(bed.client, config, { taskQueue }))));
    await replay.syncRequest({ ...snapshotOf(model), request: 'none' }, model);
    await eventually(async () => (await replay.acceptedUpdates()) === 1, { what: 'the creation waits for its token', intervalMs: 20 });
    await replay.compare(model, 'the creation', false);
    return replay;
  }

  /** Does for real what `command` just did to the model, then compares. */
  async replay(command: Command, before: ModelBefore, model: Model): Promise<void> {
    const step = command.toString();
    let settles = false;
    if (command instanceof Authorize) await this.authorize(before);
    else if (command instanceof WantToken) await this.call(false, before, model);
    else if (command instanceof RejectToken && command.current) await this.call(true, before, model);
    else if (command instanceof Edit) await this.edit(command.configIndex);
    else if (command instanceof Delete) await this.remove(command.force, model);
    else if (command instanceof TokenAnswer) await this.answer(command, model);
    else if (command instanceof Register) await this.register(command.ids, before);
    else if (command instanceof DependentsEnd) settles = await this.end(command.ids, before);
    // The workflow's loop starts a request as soon as it is asked for: syncRequest has already seen it arrive.
    else if (!(command instanceof LoopStartsRequest)) throw new Error(`${step}: no real counterpart`);
    await this.syncRequest(before, model);
    await this.answerWaiting(model);
    await this.compare(model, step, settles);
  }

  /** Ends what the sequence left: held requests, the endpoints, and (after a failure) the server and its dependents. */
  async close(model: Model): Promise<void> {
    if (!model.deleted) await deleteServer(this.bed.client, this.name, { force: true }).catch(() => undefined);
    await Promise.all([...this.probes.values()].map((probe) => probe.terminate().catch(() => undefined)));
    await Promise.all([this.tokens.close(), this.api.close()]);
  }

  private async authorize(before: ModelBefore): Promise<void> {
    const authorize = () => adminOutcome(authorizeServer(this.bed.client, this.name));
    if (before.deleted) return assert.equal(await within(authorize(), STEP_DEADLINE_MS, 'authorize'), AFTER_DELETE.admin, 'authorize after the delete');
    await this.startWaiting('an authorize', 'authorize', authorize);
  }

  /** A call from a workflow; `rejected`: the API rejects the token it carries, once. */
  private async call(rejected: boolean, before: ModelBefore, model: Model): Promise<void> {
    await this.untilWorkersCannotHoldAnOlderGrant(before);
    const rejects = rejected && !before.deleted && before.status === 'OK';
    const current = this.tokenOfSerial.get(before.serial);
    if (rejects && current) this.api.rejectOnce(current.token);
    const what = rejected ? `a call whose token is rejected (serial ${before.serial})` : 'a call';
    const input = { server: this.name, url: this.api.url, timeoutMs: 60_000 };
    const call = () => workflowOutcome(callFromWorkflow(this.taskQueue, input), callResult);
    // A worker holding an OK token calls with it at once; only a worker without one waits, as the model's waiter does:
    // for a replacement of its rejected token in an update, for a token on its way by reading the server's status.
    if (model.waiters > before.waiters && (rejects || before.status !== 'OK')) {
      if (rejects) await this.startWaiting(what, 'call', call, `rejected ${before.serial}`);
      else await this.startReading(what, await startCallFromWorkflow(this.taskQueue, input));
      if (model.lastRejectionRefreshAt !== before.lastRejectionRefreshAt) this.rejectionRefreshedAt = Date.now();
    } else {
      let expected = this.expectedCall(before);
      if (rejects) {
        assert.ok(Date.now() - this.rejectionRefreshedAt < REJECTION_REFRESH_INTERVAL_MS - 2_000, 'the sequence ran too long to compare the rationing of rejection refreshes');
        expected = `failed ${WebServiceCallFailure.RejectedTokenRefreshRationed}`;
      }
      const outcome = await within(call(), STEP_DEADLINE_MS, what);
      assert.equal(outcome, expected, what);
      this.callEnded(before, outcome);
    }
    assert.equal(this.api.rejecting, undefined, `${what}: the API never saw the token`);
  }

  private async edit(configIndex: number): Promise<void> {
    const config = CONFIGS[configIndex]!;
    assert.equal(await adminOutcome(editServer(this.bed.client, this.name, { category: config.category, scope: config.scope })), 'view NotAuthorized', 'the edit');
  }

  private async remove(force: boolean, model: Model): Promise<void> {
    const outcome = await within(adminOutcome(deleteServer(this.bed.client, this.name, { force })), STEP_DEADLINE_MS, 'the delete');
    assert.equal(outcome, model.deleted ? 'done' : `refused ${ServerFailure.HasDependents}`, force ? 'the forced delete' : 'the delete');
    if (!model.deleted) return;
    for (const [id, probe] of this.probes) {
      assert.equal(await within(workflowOutcome(probe.result(), (status) => status), STEP_DEADLINE_MS, `dependent ${id} ends`), 'Deleted', `dependent ${id} ends on the delete`);
    }
    this.probes.clear();
  }

  private async answer(command: TokenAnswer, model: Model): Promise<void> {
    if (command.stale) return this.answerAbandoned(command.outcome, model);
    const request = this.current;
    assert.ok(request, 'the model answers a request the workflow never sent');
    assert.ok(Date.now() - request.receivedAt < HELD_REQUEST_LIMIT_MS, 'the sequence held a token request too long to compare');
    const { response, issued } = this.scripted(command.outcome);
    request.reply(response);
    if (issued) this.tokenOfSerial.set(model.serial, issued);
    else if (!command.outcome.ok) this.failureCode = expectedCode(command.outcome.code);
    await eventually(async () => !(await showServer(this.bed.client, this.name)).acquiring, { what: 'the workflow took the answer', intervalMs: 20 });
  }

  /** The answer to a request an edit or a delete cancelled arrives after all: it must change nothing. */
  private async answerAbandoned(outcome: TokenOutcome, model: Model): Promise<void> {
    const request = this.abandoned.findLast((candidate) => !candidate.answered);
    if (!request) return;
    const stillRunning = !model.deleted && Date.now() - request.receivedAt < HELD_REQUEST_LIMIT_MS;
    const before = stillRunning ? await this.pendingActivities() : 0;
    request.reply(this.scripted(outcome).response);
    if (stillRunning) await eventually(async () => (await this.pendingActivities()) < before, { what: 'the cancelled token request ended', intervalMs: 20 });
  }

  private async register(ids: readonly string[], before: ModelBefore): Promise<void> {
    for (const id of ids) {
      if (!before.deleted && this.probes.has(id)) continue;
      const probe = await this.bed.client.workflow.start<typeof dependentProbe>('dependentProbe', {
        taskQueue: this.taskQueue,
        workflowId: `model-probe-${id}-${randomUUID()}`,
        args: [this.name],
      });
      if (before.deleted) {
        const outcome = await within(workflowOutcome(probe.result(), (status) => `ended ${status}`), STEP_DEADLINE_MS, `dependent ${id} registers`);
        assert.equal(outcome, AFTER_DELETE.registration, `dependent ${id} registers after the delete`);
        continue;
      }
      this.probes.set(id, probe);
      // The registration answers with the availability: the first thing the dependent knows.
      const heard = await eventually(() => probe.query(probeStatusQuery), { what: `dependent ${id} registered`, intervalMs: 20 });
      assert.equal(heard, availabilityOf(before), `dependent ${id} on registering`);
    }
  }

  /**
   * Each probe the model knows ends as a dependent does, telling the server on its way out. Returns
   * whether the server learns of any later (a signal).
   */
  private async end(ids: readonly string[], before: ModelBefore): Promise<boolean> {
    let ended = false;
    for (const id of ids) {
      const probe = this.probes.get(id);
      if (!probe) continue;
      this.probes.delete(id);
      await probe.signal(finishSignal);
      assert.equal(await within(workflowOutcome(probe.result(), (status) => status), STEP_DEADLINE_MS, `dependent ${id} ends`), availabilityOf(before), `dependent ${id} ends`);
      ended = true;
    }
    return ended;
  }

  /** The endpoint's answer for a model's token outcome, and the token it hands out. */
  private scripted(outcome: TokenOutcome): { response: ScriptedResponse | 'reset'; issued?: { token: string; number: number } } {
    if (outcome.ok) {
      const token = `model-replay-${randomUUID()}`;
      this.bed.rememberSecret(token);
      const body = { access_token: token, token_type: 'Bearer', expires_in: Math.max(outcome.expiresInSeconds, MIN_REPLAYED_LIFETIME_S) };
      return { response: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, issued: { token, number: this.api.issue(token) } };
    }
    if (outcome.code === 'connection_failed') return { response: 'reset' };
    if (outcome.code === 'timeout') return { response: { status: 503 } };
    return { response: { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: outcome.code }) } };
  }

  /**
   * A request the model asked for reaches the token endpoint with the settings of the moment; one cancelled is
   * left hanging. A scheduled refresh reaches it only when due, which no sequence lives to see.
   */
  private async syncRequest(before: ModelBefore, model: Model): Promise<void> {
    if (!acquiringPhase(model.request)) {
      if (this.current && !this.current.answered) this.abandoned.push(this.current);
      this.current = undefined;
    } else if (!this.current) {
      assert.ok(!acquiringPhase(before.request), 'the replay lost track of the request in flight');
      const index = this.requestsAsked;
      this.requestsAsked += 1;
      this.current = await eventually(() => this.tokens.held[index], { what: 'the token request the model asked for', timeoutMs: STEP_DEADLINE_MS, intervalMs: 20 });
      assert.equal(this.current.scope, model.config.scope, 'a token request goes out with the current settings');
    }
    assert.equal(this.tokens.held.length, this.requestsAsked, 'token requests that reached the endpoint');
  }

  /** Sends a request that waits, and waits until the server has taken it, unless it joins a worker's flight already waiting. */
  private async startWaiting(what: string, kind: WaiterKind, send: () => Promise<string>, flight?: string): Promise<void> {
    const joins = flight !== undefined && this.waiting.some((other) => other.flight === flight);
    const accepted = await this.acceptedUpdates();
    this.waiting.push(waiter(what, kind, send(), flight));
    if (!joins) await eventually(async () => (await this.acceptedUpdates()) > accepted, { what: `the server took ${what}`, intervalMs: 20 });
  }

  /** A call that waits for a token on its way by reading the server's status, which leaves no trace in its history: it waits once its activity runs. */
  private async startReading(what: string, call: WorkflowHandleWithFirstExecutionRunId<typeof callOnce>): Promise<void> {
    this.waiting.push(waiter(what, 'call', workflowOutcome(call.result(), callResult)));
    await eventually(async () => (await workersRunningActivities(call)).size > 0, { what: `${what} running`, intervalMs: 20 });
  }

  /** The model answers every waiter at once, when its request ends. */
  private async answerWaiting(model: Model): Promise<void> {
    if (acquiringPhase(model.request)) {
      for (const waiting of this.waiting) assert.ok(!waiting.ended, `${waiting.what} ended though the model says it still waits`);
      return;
    }
    const answered = this.waiting;
    this.waiting = [];
    for (const waiting of answered) {
      const expected = waiting.kind === 'call' ? this.expectedCall(model) : model.deleted ? `refused ${ServerFailure.Deleted}` : `view ${model.status}`;
      const outcome = await within(waiting.outcome, STEP_DEADLINE_MS, waiting.what);
      assert.equal(outcome, expected, waiting.what);
      if (waiting.kind === 'call') this.callEnded(model, outcome);
    }
  }

  private expectedCall(state: ModelBefore): string {
    if (state.deleted) return AFTER_DELETE.call;
    if (state.status === 'OK') return `200 with token ${JSON.stringify(this.tokenOfSerial.get(state.serial)?.number)}`;
    return `failed ${state.status === 'Error' ? WebServiceCallFailure.ServerDisabled : WebServiceCallFailure.ServerNotAuthorized}`;
  }

  /** A worker trusts the grant it last saw for STATUS_RECHECK_MS: a call sooner after a change could rightly use the older one. */
  private async untilWorkersCannotHoldAnOlderGrant(state: ModelBefore): Promise<void> {
    if (grantKey(state) !== this.copiedGrant) await delay(Math.max(0, this.grantCopiedAt + STATUS_RECHECK_MS + 100 - Date.now()));
  }

  /** Only a call that got a token leaves a copy of the grant behind; a failed one may leave the older copy in place. */
  private callEnded(state: ModelBefore, outcome: string): void {
    if (!outcome.startsWith('200 ')) return;
    this.grantCopiedAt = Date.now();
    this.copiedGrant = grantKey(state);
  }

  /** What an admin and each dependent see now, against the model. */
  private async compare(model: Model, step: string, eventual: boolean): Promise<void> {
    const check = async () => {
      if (model.deleted) {
        assert.equal(await adminOutcome(showServer(this.bed.client, this.name)), AFTER_DELETE.admin, `after "${step}": show a deleted server`);
        return true;
      }
      const view = await showServer(this.bed.client, this.name);
      const seen = {
        status: view.status,
        acquiring: view.acquiring,
        tokenSerial: view.tokenSerial,
        dependents: view.dependents,
        category: view.config.category,
        scope: view.config.scope,
        disabledCode: view.disabledReason?.code,
      };
      const expected = {
        status: model.status,
        acquiring: acquiringPhase(model.request),
        tokenSerial: model.serial,
        dependents: model.dependents.size,
        category: model.config.category,
        scope: model.config.scope,
        disabledCode: model.status === 'Error' ? this.failureCode : undefined,
      };
      assert.deepEqual(seen, expected, `after "${step}": the server's view`);
      return true;
    };
    if (eventual) await eventually(check, { what: `after "${step}": the server's view`, timeoutMs: STEP_DEADLINE_MS, intervalMs: 50 });
    else await check();
    for (const [id, probe] of this.probes) {
      const what = `after "${step}": what dependent ${id} heard last`;
      const heard = async () => {
        assert.equal(await probe.query(probeStatusQuery), availabilityOf(model), what);
        return true;
      };
      await eventually(heard, { what, timeoutMs: STEP_DEADLINE_MS, intervalMs: 50 });
    }
  }

  private async acceptedUpdates(): Promise<number> {
    const history = await this.server.fetchHistory();
    return history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length ?? 0;
  }

  private async pendingActivities(): Promise<number> {
    return (await this.server.describe()).raw.pendingActivities?.length ?? 0;
  }
}

function waiter(what: string, kind: WaiterKind, outcome: Promise<string>, flight?: string): Waiting {
  const waiting: Waiting = { what, kind, flight, outcome, ended: false };
  void outcome.finally(() => (waiting.ended = true));
  return waiting;
}

/** The disabled reason's code for a failed answer of the endpoint (see `scripted`). */
function expectedCode(code: string): string {
  if (code === 'timeout') return 'unexpected_status';
  return code;
}
