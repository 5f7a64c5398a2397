import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { passwordMatcher } from '../../src/admin-page/admin-credential';
import { LoginLimiter } from '../../src/admin-page/login-limiter';
import { isCrossSiteWrite, isKnownHost, pageOrigins } from '../../src/admin-page/request-origin';
import { SESSION_COOKIE, SessionStore } from '../../src/admin-page/sessions';

const fakeRequest = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;

/** A clock the test moves by hand. */
function manualClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('admin page security (pure)', () => {
  it('allows 5 failed logins a minute per address, then makes every attempt wait until the oldest failure is a minute old', () => {
    const clock = manualClock();
    const limiter = new LoginLimiter(clock.now);
    for (let i = 0; i < 5; i += 1) {
      assert.equal(limiter.waitMs('10.0.0.1'), 0);
      limiter.fail('10.0.0.1');
      clock.advance(1_000);
    }
    assert.equal(limiter.waitMs('10.0.0.1'), 55_000);
    assert.equal(limiter.waitMs('10.0.0.2'), 0, 'another address was held back');
    clock.advance(55_000);
    assert.equal(limiter.waitMs('10.0.0.1'), 0);
    limiter.succeed('10.0.0.1');
    assert.equal(limiter.waitMs('10.0.0.1'), 0);
  });

  it('ends a session after 30 idle minutes or 12 hours, and at log out', () => {
    const clock = manualClock();
    const sessions = new SessionStore(clock.now);
    const cookieOf = (setCookie: string) => fakeRequest('GET', { cookie: `other=1; ${setCookie.split(';')[0]}` });
    const first = sessions.start();
    assert.match(first, new RegExp(`^${SESSION_COOKIE}=[\\w-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
    clock.advance(29 * 60_000);
    assert.equal(sessions.isValid(cookieOf(first)), true);
    clock.advance(31 * 60_000);
    assert.equal(sessions.isValid(cookieOf(first)), false, 'an idle session stayed valid');

    const second = sessions.start();
    // Kept busy every 25 minutes: alive for 700 minutes, ended past 720.
    for (let visit = 0; visit < 28; visit += 1) {
      clock.advance(25 * 60_000);
      assert.equal(sessions.isValid(cookieOf(second)), true);
    }
    clock.advance(25 * 60_000);
    assert.equal(sessions.isValid(cookieOf(second)), false, 'a session outlived 12 hours');

    const third = sessions.start();
    assert.match(sessions.end(cookieOf(third)), /Max-Age=0/);
    assert.equal(sessions.isValid(cookieOf(third)), false);
    assert.equal(sessions.isValid(fakeRequest('GET', { cookie: `${SESSION_COOKIE}=made-up` })), false);
  });

  it('compares the admin password exactly and refuses one shorter than 12 characters', () => {
    const matches = passwordMatcher('correct horse battery');
    assert.equal(matches('correct horse battery'), true);
    assert.equal(matches('correct horse batterY'), false);
    assert.equal(matches(''), false);
    assert.throws(() => passwordMatcher('short'), /at least 12 characters/);
  });

  it("takes writes from the page's own origin only, and requests for its own host names only", () => {
    const origins = pageOrigins(8080, ['https://admin.example.com']);
    const page = 'http://127.0.0.1:8080';
    assert.equal(isCrossSiteWrite(fakeRequest('GET', {}), origins), false);
    assert.equal(isCrossSiteWrite(fakeRequest('POST', { origin: page, 'sec-fetch-site': 'same-origin' }), origins), false);
    assert.equal(isCrossSiteWrite(fakeRequest('DELETE', { origin: 'https://admin.example.com' }), origins), false);
    const refused: Record<string, string>[] = [{}, { origin: 'null' }, { origin: 'http://127.0.0.1:8081' }, { origin: page, 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'same-origin' }];
    for (const headers of refused) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        assert.equal(isCrossSiteWrite(fakeRequest(method, headers), origins), true, `${method} with ${JSON.stringify(headers)} was taken`);
      }
    }
    assert.equal(isKnownHost(fakeRequest('GET', { host: 'localhost:8080' }), origins), true);
    assert.equal(isKnownHost(fakeRequest('GET', { host: 'admin.example.com' }), origins), true);
    assert.equal(isKnownHost(fakeRequest('GET', { host: 'rebound.example:8080' }), origins), false);
    assert.equal(isKnownHost(fakeRequest('GET', {}), origins), false);
  });
});
