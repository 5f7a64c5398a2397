import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CURRENT_RULES, LEGACY_RULES, REJECTION_REFRESH_INTERVAL_MS, awaitingStart, refusal, step } from '../../src/workflows/server-machine';
import { grantOf } from '../../src/workflows/server-views';
import { assertProperty } from '../support/generated-cases';
import { CONFIGS, Harness, newRun, serverCommands } from '../support/server-machine-model';

describe('the OAuth server state machine', () => {
  it('keeps its invariants over 10,000 random sequences of admin actions, token outcomes, rejections, dependents and continue-as-new', function () {
    this.timeout(120_000);
    assertProperty(
      fc.property(serverCommands, (commands) => {
        const run = newRun(CURRENT_RULES);
        fc.modelRun(() => run, commands);
        run.real.drain();
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps the same invariants under the rules older histories were recorded with (2,000 sequences)', function () {
    this.timeout(120_000);
    assertProperty(
      fc.property(serverCommands, (commands) => {
        const run = newRun(LEGACY_RULES);
        fc.modelRun(() => run, commands);
        run.real.drain();
      }),
      { numRuns: 2_000 },
    );
  });

  it('an edit during a token request cancels it, and the next authorize requests a token with the new settings', () => {
    const real = new Harness(CURRENT_RULES);
    real.apply({ type: 'requestStarted', requestId: awaitingStart(real.state)!.id });
    const first = real.state.request!.id;
    real.apply({ type: 'edit', config: CONFIGS[1]! });
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
    real.apply({ type: 'delete' });
    assert.deepEqual(grantOf(real.state), { ...grantOf(real.state), status: 'Deleted', token: undefined, acquiring: false });
    assert.equal(grantOf(real.state).token, undefined);
  });
});
