import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { STATUS_RECHECK_MS, WorkerTokenCache } from '../../src/activities/token-cache';
import type { TokenSource } from '../../src/activities/token-source';
import type { TokenGrant } from '../../src/contract/definitions';
import { WebServiceCallFailure } from '../../src/contract/failures';
import { eventually } from '../support/eventually';

const HOUR = 3_600_000;

function grant(serial: number, now: number): TokenGrant {
  return {
    status: 'OK',
    allowedOrigins: ['https://api.example.com'],
    acquiring: false,
    token: { accessToken: `token-${serial}`, serial, obtainedAt: now, expiresAt: now + HOUR },
  };
}

/** A token source whose answers the test releases one by one, in any order. */
function scriptedSource() {
  const pending: { kind: 'current' | 'fresh'; resolve(grant: TokenGrant): void }[] = [];
  const source: TokenSource = {
    current: () => new Promise((resolve) => pending.push({ kind: 'current', resolve })),
    fresh: () => new Promise((resolve) => pending.push({ kind: 'fresh', resolve })),
  };
  return { source, pending };
}

/** Until the cache has made `count` reads in all: its re-reads of a token on its way come after a pause of its own. */
const readsMade = (pending: readonly unknown[], count: number) => eventually(() => pending.length === count, { timeoutMs: 5_000, intervalMs: 5, what: `read ${count}` });

const settle = () => new Promise((resolve) => setImmediate(resolve));

function disabledGrant(now: number): TokenGrant {
  return {
    status: 'Error',
    allowedOrigins: ['https://api.example.com'],
    acquiring: false,
    disabledReason: { code: 'invalid_client', elapsedMs: 5, at: new Date(now).toISOString(), message: 'the client secret was refused' },
  };
}

function isDisabledFailure(error: unknown): true {
  assert.ok(error instanceof ApplicationFailure);
  assert.equal(error.type, WebServiceCallFailure.ServerDisabled);
  return true;
}

/** A cache on a scripted source and a clock of the test's, once it holds serial 1 from the status read just made. */
async function holdingFirstToken() {
  const clock = { now: 1_000 };
  const { source, pending } = scriptedSource();
  const cache = new WorkerTokenCache(source, () => clock.now);
  const first = cache.get('api');
  await settle();
  pending[0]!.resolve(grant(1, clock.now));
  await first;
  return { cache, pending, clock };
}

describe('the worker token cache', () => {
  it('an older flight that ends last does not replace the newer token another flight brought', async () => {
    let now = 1_000;
    const { source, pending } = scriptedSource();
    const cache = new WorkerTokenCache(source, () => now);
    const first = cache.get('api');
    await settle();
    pending[0]!.resolve(grant(1, now));
    assert.equal((await first).token.serial, 1);

    // A rejection of serial 1 starts a refresh; meanwhile the cached status expires and another caller's re-read brings serial 2.
    const replacing = cache.replaceRejected('api', 1);
    await settle();
    now += 2_000;
    const reading = cache.get('api');
    await settle();
    pending[2]!.resolve(grant(2, now));
    assert.equal((await reading).token.serial, 2);
    // The refresh's answer is older: it brings serial 1 again (its update met a workflow that had not yet seen the rejection).
    pending[1]!.resolve(grant(1, now - 2_000));
    await replacing;
    assert.equal((await cache.get('api')).token.serial, 2);
  });

  it('a valid token is served without waiting for the status read, which starts in the background past half the interval, one for all callers', async () => {
    const { cache, pending, clock } = await holdingFirstToken();

    clock.now += STATUS_RECHECK_MS / 4;
    assert.equal((await cache.get('api')).token.serial, 1);
    assert.equal(pending.length, 1, 'the status was read again early in the interval');

    clock.now += STATUS_RECHECK_MS / 2;
    // The read that starts now is never answered: callers must not wait for it.
    const served = await Promise.all([cache.get('api'), cache.get('API'), cache.get('api')]);
    assert.deepEqual(
      served.map((usable) => usable.token.serial),
      [1, 1, 1],
    );
    assert.deepEqual(
      pending.map((read) => read.kind),
      ['current', 'current'],
      'one status read in the background for all three callers',
    );
  });

  it('a status read in the background that says disabled stops the next call', async () => {
    const { cache, pending, clock } = await holdingFirstToken();

    clock.now += (STATUS_RECHECK_MS * 3) / 4;
    assert.equal((await cache.get('api')).token.serial, 1);
    pending[1]!.resolve(disabledGrant(clock.now));
    await settle();

    const next = cache.get('api');
    await settle();
    pending[2]?.resolve(disabledGrant(clock.now));
    await assert.rejects(next, isDisabledFailure);
  });

  it('after a quiet spell longer than the interval, a call waits for the status read: a server disabled meanwhile is never called with its old token', async () => {
    const { cache, pending, clock } = await holdingFirstToken();

    clock.now += STATUS_RECHECK_MS;
    let settled = false;
    const call = cache.get('api').finally(() => (settled = true));
    await settle();
    assert.equal(settled, false, 'the call was served before the status was read');
    pending[1]!.resolve(disabledGrant(clock.now));
    await assert.rejects(call, isDisabledFailure);
  });

  it('a token past the worker\'s cache time but not expired is used as the server holds it, with no request for a fresh one (that would duplicate the refresh under way)', async () => {
    const { cache, pending, clock } = await holdingFirstToken();

    // Ten seconds before the expiry: past the worker's cache time (30 s before it).
    clock.now += HOUR - 10_000;
    const call = cache.get('api');
    await settle();
    pending[1]!.resolve(grant(1, 1_000));
    await settle();
    await settle();
    assert.deepEqual(
      pending.map((read) => read.kind),
      ['current', 'current'],
      'a fresh token was asked for',
    );
    assert.equal((await call).token.serial, 1);
  });

  it('callers that meet the first token on its way read the status again until it arrives, and ask for no fresh token (no update held in the workflow)', async () => {
    const clock = { now: 1_000 };
    const { source, pending } = scriptedSource();
    const cache = new WorkerTokenCache(source, () => clock.now);
    const calls = [cache.get('api'), cache.get('API')];
    const onItsWay: TokenGrant = { status: 'NotAuthorized', allowedOrigins: ['https://api.example.com'], acquiring: true };
    await readsMade(pending, 1);
    pending[0]!.resolve(onItsWay);
    await readsMade(pending, 2);
    pending[1]!.resolve(onItsWay);
    await readsMade(pending, 3);
    pending[2]!.resolve(grant(1, clock.now));
    const served = await Promise.all(calls);
    assert.deepEqual(served.map((usable) => usable.token.serial), [1, 1]);
    assert.deepEqual(pending.map((read) => read.kind), ['current', 'current', 'current']);
  });

  it('a token request that ends in a disable fails the callers that waited for it', async () => {
    const clock = { now: 1_000 };
    const { source, pending } = scriptedSource();
    const cache = new WorkerTokenCache(source, () => clock.now);
    const call = cache.get('api');
    await readsMade(pending, 1);
    pending[0]!.resolve({ ...disabledGrant(clock.now), acquiring: true });
    await readsMade(pending, 2);
    pending[1]!.resolve(disabledGrant(clock.now));
    await assert.rejects(call, isDisabledFailure);
    assert.deepEqual(pending.map((read) => read.kind), ['current', 'current']);
  });

  it('a deleted server fails every call with OAuthServerDeleted', async () => {
    const source: TokenSource = {
      current: () => Promise.resolve({ status: 'Deleted', allowedOrigins: [], acquiring: false }),
      fresh: () => Promise.resolve({ status: 'Deleted', allowedOrigins: [], acquiring: false }),
    };
    await assert.rejects(new WorkerTokenCache(source).get('api'), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, WebServiceCallFailure.ServerDeleted);
      assert.equal(error.nonRetryable, true);
      return true;
    });
  });
});
