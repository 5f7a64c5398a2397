import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import fc from 'fast-check';
import { TOKEN_FAILURE_TYPES } from '../../src/contract/failures';
import { keptResponseHeaders } from '../../src/activities/kept-response-headers';
import { resultOf, type ApiResponse } from '../../src/activities/response-outcome';
import { transportFailure } from '../../src/activities/http-exchange';
import { disabledReasonFrom } from '../../src/workflows/disabled-reason';
import { tokenFailureWords } from '../../src/oauth/plain-words';
import { assertProperty } from '../support/generated-cases';

const TOKEN = 'access-token-that-must-never-show-0123456789';

/** The disabled reason of an acquisition whose last attempt failed with these details. */
function reasonFor(details: Record<string, unknown>): string {
  const cause = ApplicationFailure.create({ type: String(details.code), message: 'failed', details: [{ retryable: false, attempt: 3, ...details }] });
  const failure = new ActivityFailure('failed', 'acquireOAuthToken', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);
  return disabledReasonFrom(failure, 4_200, 0, 60_000).message;
}

function failureOf(answer: ApiResponse, url = 'https://api.example.com/orders/7?customer=42&api_key=k'): ApplicationFailure {
  try {
    resultOf(answer, { method: 'GET', url: new URL(url), accessToken: TOKEN }, keptResponseHeaders(undefined));
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure);
    return error;
  }
  assert.fail('the error status gave a result');
}

describe('errors read plainly (pure)', () => {
  it('every token failure type, and any code an authorization server invents, has words for what happened and what to do', () => {
    for (const code of TOKEN_FAILURE_TYPES) {
      const { what, todo } = tokenFailureWords(code);
      assert.ok(what.length > 20 && todo.length > 20, code);
    }
    assertProperty(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (code) => {
        const message = reasonFor({ kind: 'oauth', code, status: 400 });
        assert.match(message, /^[A-Z][^.]+\. [A-Z][^.]+\. Details: /);
      }),
      { numRuns: 300 },
    );
  });

  it('a disabled reason says in words what happened and what to do, a library code only in brackets after its words', () => {
    const message = reasonFor({ kind: 'transport', code: 'connection_failed', description: 'could not reach the token endpoint: UND_ERR_SOCKET' });
    assert.match(message, /^The token endpoint could not be reached\. Check the access token URL .* authorize the server again\. /);
    assert.match(message, /the connection closed before an answer came \[UND_ERR_SOCKET\]/);
    assert.doesNotMatch(message, /[^[]UND_ERR_SOCKET/);
    assert.match(message, /gave up after 3 attempts in 4\.2 s$/);
  });

  it('a refused call names the method and path (never the query), the challenge error, and a bounded, redacted excerpt of the body', () => {
    const body = JSON.stringify({ error: 'forbidden', hint: `token ${TOKEN} lacks records:read`, padding: 'x'.repeat(10_000) });
    const failure = failureOf({
      status: 403,
      headers: { 'www-authenticate': 'Bearer realm="api", error="insufficient_scope", scope="records:read"', 'content-type': 'application/json' },
      body: Buffer.from(body),
    });
    assert.match(failure.message, /^GET \/orders\/7 on https:\/\/api\.example\.com answered HTTP 403: the token lacks a scope this call needs \[insufficient_scope\]\. Add the scope/);
    assert.match(failure.message, /The API said: \{"error":"forbidden","hint":"token \[REDACTED\] lacks records:read"/);
    assert.ok(!failure.message.includes(TOKEN) && !failure.message.includes('customer=42') && !failure.message.includes('api_key'));
    assert.ok(failure.message.length < 600, `a message of ${failure.message.length} characters`);
    assert.deepEqual((failure.details?.[0] as { challengeError?: string }).challengeError, 'insufficient_scope');
  });

  it('a call without an answer says why in words, its library code in brackets, and that Temporal retries it', () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const failure = transportFailure(new URL('http://127.0.0.1:1/records?cursor=5'), reset, 'GET');
    assert.equal(failure.message, 'GET /records on http://127.0.0.1:1 failed: the connection closed before an answer came [UND_ERR_SOCKET]. Temporal retries the call; if it keeps failing, check the health of the API.');
  });
});
