import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AUDIT_ENTRIES_KEPT,
  CURRENT_RULES,
  LEGACY_RULES,
  REJECTION_REFRESH_INTERVAL_MS,
  TIMER_REFRESH_RULES,
  awaitingStart,
  refusal,
  step,
  type MachineRules,
  type ServerEvent,
} from '../../src/workflows/server-machine';
import { grantOf, historyOf, viewOf } from '../../src/workflows/server-views';
import { assertProperty } from '../support/generated-cases';
import { CONFIGS, Harness, newRun, RECOVERING_CONFIGS, serverCommands } from '../support/server-machine-model';

/** Runs generated command sequences on the machine under `rules`, the model checking it after every step. */
function keepsInvariants(rules: MachineRules, numRuns: number, configs?: Parameters<typeof newRun>[1]): void {
  assertProperty(
    fc.property(serverCommands, (commands) => {
      const run = newRun(rules, configs);
      fc.modelRun(() => run, commands);
      run.real.drain();
    }),
    { numRuns },
  );
}

describe('the OAuth server state machine', () => {
  it('keeps its invariants over 10,000 random sequences of admin actions, token outcomes, rejections, dependents and continue-as-new', function () {
    this.timeout(120_000);
    keepsInvariants(CURRENT_RULES, 10_000);
  });

  it('keeps the same invariants under the rules older histories were recorded with (2,000 sequences each: before the machine, and before refreshes were scheduled ahead)', function () {
    this.timeout(120_000);
    for (const rules of [LEGACY_RULES, TIMER_REFRESH_RULES]) keepsInvariants(rules, 2_000);
  });

  it('keeps its invariants, recovery probes included, when one configuration has autoRecover (5,000 sequences, and 1,000 under the older rules)', function () {
    this.timeout(120_000);
    for (const [rules, numRuns] of [
      [CURRENT_RULES, 5_000],
      [LEGACY_RULES, 1_000],
    ] as const) {
      keepsInvariants(rules, numRuns, RECOVERING_CONFIGS);
    }
  });

  it('an edit during a token request cancels it, and the next authorize requests a token with the new settings', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    const first = real.state.request!.id;
    real.apply({ type: 'edit', config: CONFIGS[1]!, at: 1 });
    assert.deepEqual([...real.running], []);
    assert.deepEqual(real.abandoned, [first]);
    real.apply({ type: 'authorize', at: 1, waiter: real.waiter() });
    const { commands } = step(real.state, { type: 'requestStarted', requestId: awaitingStart(real.state)!.id }, CURRENT_RULES);
    assert.deepEqual(commands, [{ type: 'startTokenRequest', requestId: first + 1, config: CONFIGS[1] }]);
  });

  it('a rejected token is replaced at most once per interval; further rejections are refused with a named reason', () => {
    const real = new Harness(CURRENT_RULES);
    const obtain = () => {
      real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
      real.apply({ type: 'tokenObtained', requestId: real.state.request!.id, token: { accessToken: 't', expiresInSeconds: 3600 } });
    };
    obtain();
    real.apply({ type: 'tokenRejected', serial: 1, at: 1_000, waiter: real.waiter() });
    obtain();
    assert.equal(real.state.tokenSerial, 2);
    const soon = { type: 'tokenRejected' as const, serial: 2, at: 1_000 + REJECTION_REFRESH_INTERVAL_MS - 1 };
    assert.equal(refusal(real.state, soon, CURRENT_RULES)?.type, 'OAuthRejectedTokenRefreshRationed');
    assert.equal(refusal(real.state, soon, LEGACY_RULES), undefined);
    const later = { type: 'tokenRejected' as const, serial: 2, at: 1_000 + REJECTION_REFRESH_INTERVAL_MS };
    assert.equal(refusal(real.state, later, CURRENT_RULES), undefined);
  });

  it('a token lives from the workflow time it was asked for, whatever clock the worker has', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    real.apply({ type: 'tokenObtained', requestId: real.state.request!.id, token: { accessToken: 't', expiresInSeconds: 600 } });
    assert.equal(real.state.token?.obtainedAt, 0);
    assert.equal(real.state.token?.expiresAt, 600_000);
  });

  it('a deleted server hands out no token and says so', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    real.apply({ type: 'tokenObtained', requestId: real.state.request!.id, token: { accessToken: 't', expiresInSeconds: 600 } });
    assert.equal(grantOf(real.state).status, 'OK');
    real.apply({ type: 'delete', at: 1 });
    assert.deepEqual(grantOf(real.state), { ...grantOf(real.state), status: 'Deleted', token: undefined, acquiring: false });
    assert.equal(grantOf(real.state).token, undefined);
  });
});

describe('the audit trail of admin actions', () => {
  it('keeps the latest 100 actions and counts them all, the create first', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'authorize', at: 0, waiter: real.waiter(), actor: 'creator', create: true });
    for (let i = 1; i <= 250; i += 1) real.apply({ type: 'authorize', at: i * 1_000, waiter: real.waiter(), actor: `admin-${i}` });
    const history = historyOf(real.state);
    assert.equal(history.total, 251);
    assert.equal(history.entries.length, AUDIT_ENTRIES_KEPT);
    assert.deepEqual(history.entries.at(-1), { action: 'authorize', at: new Date(250_000).toISOString(), actor: 'admin-250' });
    assert.equal(history.entries[0]?.actor, 'admin-151');
  });

  it('a create is refused once the server has a history: only the start of a new server says create', () => {
    const real = new Harness(CURRENT_RULES);
    assert.equal(refusal(real.state, { type: 'create' }, CURRENT_RULES), undefined);
    real.apply({ type: 'authorize', at: 0, waiter: real.waiter(), actor: 'creator', create: true });
    assert.deepEqual(historyOf(real.state).entries, [{ action: 'create', at: new Date(0).toISOString(), actor: 'creator' }]);
    assert.equal(refusal(real.state, { type: 'create' }, CURRENT_RULES)?.type, 'InvalidOAuthServerRequest');
  });

  it('an edit records the names of the settings it changed, never a value; a forced delete and Request Cancellation are told apart', () => {
    const real = new Harness(CURRENT_RULES);
    const rotated = { ...CONFIGS[0]!, clientSecret: { source: 'local' as const, value: 'rotated-secret-value' }, maxRetryAttempts: 5 };
    real.apply({ type: 'edit', config: rotated, at: 5, actor: 'alice' });
    assert.deepEqual(historyOf(real.state).entries, [{ action: 'edit', at: new Date(5).toISOString(), actor: 'alice', fields: ['clientSecret', 'maxRetryAttempts'] }]);
    assert.ok(!JSON.stringify(historyOf(real.state)).includes('rotated-secret-value'));
    const forced = step(real.state, { type: 'delete', at: 6, actor: 'bob', force: true }, CURRENT_RULES).state;
    assert.deepEqual(historyOf(forced).entries.at(-1), { action: 'forceDelete', at: new Date(6).toISOString(), actor: 'bob' });
    const cancelled = step(real.state, { type: 'delete', at: 7, cancelled: true }, CURRENT_RULES).state;
    assert.deepEqual(historyOf(cancelled).entries.at(-1), { action: 'requestCancellation', at: new Date(7).toISOString() });
    // A delete that finds the server deleted already changes nothing, the history included.
    assert.equal(step(cancelled, { type: 'delete', at: 8, actor: 'carol' }, CURRENT_RULES).state, cancelled);
  });
});

describe('the recovery probe', () => {
  const recovering = RECOVERING_CONFIGS[0]!;
  /** Starts the queued request and answers it. */
  const answer = (real: Harness, at: number, ok: boolean) => {
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    const requestId = real.state.request!.id;
    real.apply(
      ok
        ? { type: 'tokenObtained', requestId, token: { accessToken: 't', expiresInSeconds: 600 } }
        : { type: 'tokenFailed', requestId, reason: { code: 'temporarily_unavailable', elapsedMs: 1, at: new Date(at).toISOString(), message: 'down' } },
    );
  };
  const disabledRecovering = () => {
    const real = new Harness(CURRENT_RULES, RECOVERING_CONFIGS);
    answer(real, 0, false);
    return real;
  };

  it('a disabled server with autoRecover tries again after 1, 2, 4, 8, 8 s (the delay doubling up to its cap); a success makes it OK and tells its dependents', () => {
    const real = disabledRecovering();
    real.apply({ type: 'dependentsRegistered', workflowIds: ['import'] });
    let now = 0;
    const delays: number[] = [];
    for (let probe = 0; probe < 5; probe += 1) {
      const { dueAt, delayMs } = real.state.probe!;
      assert.equal(dueAt, now + delayMs);
      delays.push(delayMs);
      // A timer that fires early changes nothing.
      assert.equal(step(real.state, { type: 'probeDue', at: dueAt - 1 }, CURRENT_RULES).state, real.state);
      now = dueAt;
      real.apply({ type: 'probeDue', at: now });
      assert.equal(real.state.probe, undefined);
      answer(real, now, false);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.equal(viewOf(real.state).nextProbeAt, new Date(now + 8_000).toISOString());
    real.apply({ type: 'probeDue', at: now + 8_000 });
    const { commands } = step(real.state, { type: 'requestStarted', requestId: real.state.request!.id }, CURRENT_RULES);
    assert.deepEqual(commands, [{ type: 'startTokenRequest', requestId: real.state.request!.id, config: recovering }]);
    answer(real, now + 8_000, true);
    assert.equal(real.state.status, 'OK');
    assert.equal(real.state.probe, undefined);
    assert.equal(real.heard.get('import'), 'OK');
  });

  it('an admin may authorize at once (a failure then starts again from the first delay); an edit or a delete stops the probing; without autoRecover nothing is scheduled', () => {
    const real = disabledRecovering();
    real.apply({ type: 'probeDue', at: 1_000 });
    answer(real, 1_000, false);
    assert.equal(real.state.probe?.delayMs, 2_000);
    real.apply({ type: 'authorize', at: 1_500, waiter: real.waiter() });
    assert.equal(real.state.probe, undefined);
    answer(real, 1_500, false);
    assert.deepEqual(real.state.probe, { dueAt: 2_500, delayMs: 1_000 });

    const edited = step(real.state, { type: 'edit', config: recovering, at: 2_000 }, CURRENT_RULES).state;
    assert.equal(edited.probe, undefined);
    assert.equal(step(edited, { type: 'probeDue', at: 2_500 }, CURRENT_RULES).state, edited);
    assert.equal(step(real.state, { type: 'delete', at: 2_000 }, CURRENT_RULES).state.probe, undefined);

    const plain = new Harness(CURRENT_RULES);
    answer(plain, 0, false);
    assert.equal(plain.state.status, 'Error');
    assert.equal(plain.state.probe, undefined);
    assert.equal(step(plain.state, { type: 'probeDue', at: 10_000_000 }, CURRENT_RULES).state, plain.state);
  });
});

describe('the refresh scheduled ahead', () => {
  /** A server holding a 600 s token obtained at 0, its refresh scheduled for 540 s (a minute before it expires) and started by the loop. */
  const withToken = (rules = CURRENT_RULES) => {
    const real = new Harness(rules);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    real.apply({ type: 'tokenObtained', requestId: real.state.request!.id, token: { accessToken: 't', expiresInSeconds: 600 } });
    const scheduled = awaitingStart(real.state);
    if (scheduled) real.apply({ type: 'requestStarted', requestId: scheduled.id });
    return real;
  };

  it('is asked for as the token arrives, due when a third of its lifetime (at most a minute) is left; meanwhile the server is not acquiring and callers are served at once', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    real.apply({ type: 'tokenObtained', requestId: real.state.request!.id, token: { accessToken: 't', expiresInSeconds: 600 } });
    const scheduled = awaitingStart(real.state)!;
    assert.equal(scheduled.notBefore, 540_000);
    assert.deepEqual(step(real.state, { type: 'requestStarted', requestId: scheduled.id }, CURRENT_RULES).commands, [
      { type: 'startTokenRequest', requestId: scheduled.id, config: CONFIGS[0], notBefore: 540_000 },
    ]);
    real.apply({ type: 'requestStarted', requestId: scheduled.id });
    assert.equal(grantOf(real.state).acquiring, false);
    assert.equal(viewOf(real.state).acquiring, false);
    const waiter = real.waiter();
    real.apply({ type: 'tokenRejected', at: 1_000, waiter, serial: 0 });
    assert.ok(!real.waiting.has(waiter), 'a rejection of an older token waits for the refresh');
    // Its token lives from when it was due, and the next refresh is scheduled with it.
    real.apply({ type: 'tokenObtained', requestId: scheduled.id, token: { accessToken: 'u', expiresInSeconds: 600 } });
    assert.deepEqual([real.state.token?.obtainedAt, real.state.token?.expiresAt, real.state.request?.notBefore], [540_000, 1_140_000, 1_080_000]);
  });

  it('gives way to a request at once when a token is needed now: an authorize, a rejected token, a worker whose copy is due; an edit and a delete cancel it', () => {
    const needs: Extract<ServerEvent, { at: number }>[] = [
      { type: 'authorize', at: 1_000, waiter: 1 },
      { type: 'tokenRejected', at: 1_000, waiter: 1, serial: 1 },
      // Past the worker's cache time of a 600 s token (570 s), its clock ahead of the refresh's.
      { type: 'tokenWanted', at: 575_000, waiter: 1 },
    ];
    for (const event of needs) {
      const real = withToken();
      const scheduled = real.state.request!;
      const { state, commands } = step(real.state, event, CURRENT_RULES);
      assert.deepEqual(commands, [{ type: 'cancelTokenRequest', requestId: scheduled.id }], event.type);
      assert.deepEqual(state.request, { id: scheduled.id + 1, scheduledAt: event.at, started: false, superseded: false, afterRejection: event.type === 'tokenRejected' });
      assert.deepEqual(state.waiting, [1]);
      assert.equal(grantOf(state).acquiring, true);
    }
    // A worker that asked while the first token was on its way, its update arriving after it, gets the token held.
    const early = withToken();
    const asked = step(early.state, { type: 'tokenWanted', at: 1_000, waiter: 1 }, CURRENT_RULES);
    assert.deepEqual(asked.commands, [{ type: 'answer', waiters: [1], outcome: 'settled' }]);
    assert.equal(asked.state.request, early.state.request, 'the scheduled refresh was replaced');
    for (const event of [{ type: 'edit', config: CONFIGS[1]!, at: 1_000 }, { type: 'delete', at: 1_000 }] as const) {
      const real = withToken();
      const scheduled = real.state.request!;
      const { state, commands } = step(real.state, event, CURRENT_RULES);
      assert.deepEqual(commands[0], { type: 'cancelTokenRequest', requestId: scheduled.id }, event.type);
      assert.equal(state.request, undefined);
    }
  });

  it('is cancelled at continue-as-new, and the new run schedules it again for the same time', () => {
    const real = withToken();
    const scheduled = real.state.request!;
    real.continueAsNew(100_000);
    assert.deepEqual([...real.running], []);
    assert.equal(real.state.request?.notBefore, scheduled.notBefore);
    assert.equal(real.state.request?.started, false);
  });

  it('is not scheduled by runs begun before it: they wait on a timer for refreshDue', () => {
    const real = withToken(TIMER_REFRESH_RULES);
    const obtained = real.state;
    assert.equal(obtained.request, undefined);
    real.apply({ type: 'refreshDue', at: 540_000 });
    assert.equal(real.state.request?.notBefore, undefined);
    assert.equal(grantOf(real.state).acquiring, true);
  });
});
