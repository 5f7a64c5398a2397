import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createServer, WebServiceCallFailure } from '../src';
import { within } from './support/eventually';
import { forwardTokenRequest, startScriptedEndpoint, type ScriptedResponse, type TokenEndpoint } from './support/token-endpoints';
import { testBed } from './support/test-bed';
import type { callWithDefaults } from './workflows';

/** The default first retry interval of both the token activity and webServiceCall is 1 s: 1.9 s can only be Retry-After. */
const HONOURED_GAP_MS = 1_900;

interface ScriptedApi extends TokenEndpoint {
  origin: string;
  /** When each request arrived (epoch ms), in order. */
  arrivals: number[];
}

/**
 * A web service that accepts any bearer token and answers its first request with `first`, every
 * later one 200 JSON. A request without a bearer token gets a 401, so a missing token shows.
 */
async function startFlakyApi(first: () => ScriptedResponse): Promise<ScriptedApi> {
  const arrivals: number[] = [];
  const endpoint = await startScriptedEndpoint((request) => {
    arrivals.push(Date.now());
    if (!/^Bearer \S+$/.test(request.headers.authorization ?? '')) return { status: 401, headers: { 'www-authenticate': 'Bearer' } };
    if (arrivals.length === 1) return first();
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answered: arrivals.length }) };
  });
  return { ...endpoint, origin: new URL(endpoint.url).origin, arrivals };
}

/** Runs `callWithDefaults` (the helper's default retry policy) against `api` with a server allowed to call it. */
async function callThroughDefaults(api: ScriptedApi) {
  const bed = testBed();
  return bed.withWorker(async (taskQueue) => {
    const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [api.origin] });
    assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
    return bed.client.workflow.execute<typeof callWithDefaults>('callWithDefaults', {
      taskQueue,
      workflowId: `call-${randomUUID()}`,
      args: [{ server: config.name, url: `${api.origin}/resource` }],
      workflowExecutionTimeout: '1 minute',
    });
  });
}

function gap(arrivals: number[]): number {
  assert.equal(arrivals.length, 2, `${arrivals.length} requests`);
  return (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
}

describe('Retry-After', () => {
  it('token requests honour Retry-After within maxWait: after a 503 with Retry-After: 2 the next attempt waits 2 s', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const arrivals: number[] = [];
    const endpoint = await startScriptedEndpoint((request, body) => {
      arrivals.push(Date.now());
      if (arrivals.length === 1) return { status: 503, headers: { 'retry-after': '2', 'content-type': 'text/plain' }, body: 'busy, come back later' };
      return forwardTokenRequest(bed.authorizationServer.tokenEndpoint, request, body);
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: endpoint.url, maxWait: 'PT20S', maxRetryAttempts: 3 });
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
        assert.equal(view.tokenSerial, 1);
        const waited = gap(arrivals);
        assert.ok(waited >= HONOURED_GAP_MS, `the second token request came ${waited} ms after the 503`);
        assert.ok(waited < 5_000, `the second token request came only ${waited} ms after the 503`);
      });
    } finally {
      await endpoint.close();
    }
  });

  it('a token endpoint asking, by a 429 with an HTTP-date Retry-After, for more than maxWait leaves: Error at once with that cause', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const endpoint = await startScriptedEndpoint(() => ({
      status: 429,
      headers: { 'retry-after': new Date(Date.now() + 120_000).toUTCString(), 'content-type': 'text/plain' },
      body: 'come back in two minutes',
    }));
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: endpoint.url, maxWait: 'PT20S', maxRetryAttempts: 3 });
        const started = Date.now();
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.httpStatus, 429);
        assert.equal(view.disabledReason?.attempts, 1);
        assert.equal(endpoint.requests.length, 1);
        assert.ok(Date.now() - started < 10_000, `disabled only after ${Date.now() - started} ms: it waited for a retry that maxWait could not allow`);
      });
    } finally {
      await endpoint.close();
    }
  });

  it('API calls honour Retry-After in seconds on 429: the retry waits 2 s and returns 200', async function () {
    this.timeout(60_000);
    const api = await startFlakyApi(() => ({ status: 429, headers: { 'retry-after': '2', 'content-type': 'text/plain' }, body: 'slow down' }));
    try {
      const result = await callThroughDefaults(api);
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { answered: 2 });
      const waited = gap(api.arrivals);
      assert.ok(waited >= HONOURED_GAP_MS, `the retry came ${waited} ms after the 429`);
      assert.ok(waited < 5_000, `the retry came only ${waited} ms after the 429`);
    } finally {
      await api.close();
    }
  });

  it('API calls honour Retry-After as an HTTP-date on 503: the retry waits until that date and returns 200', async function () {
    this.timeout(60_000);
    let retryAt = 0;
    const api = await startFlakyApi(() => {
      // An HTTP-date has whole seconds: round up, so that the date is at least 2 s ahead.
      retryAt = Math.ceil((Date.now() + 2_000) / 1_000) * 1_000;
      return { status: 503, headers: { 'retry-after': new Date(retryAt).toUTCString(), 'content-type': 'text/plain' }, body: 'maintenance' };
    });
    try {
      const result = await callThroughDefaults(api);
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { answered: 2 });
      const waited = gap(api.arrivals);
      assert.ok(waited >= HONOURED_GAP_MS, `the retry came ${waited} ms after the 503`);
      assert.ok((api.arrivals[1] ?? 0) >= retryAt - 50, `the retry came ${retryAt - (api.arrivals[1] ?? 0)} ms before the Retry-After date`);
      assert.ok(waited < 6_000, `the retry came only ${waited} ms after the 503`);
    } finally {
      await api.close();
    }
  });

  it('an API asking for more than the cap (Retry-After: 3600) is not waited for: the call fails at once with HttpRetryAfterTooLong, saying how long it asked', async function () {
    this.timeout(60_000);
    const api = await startFlakyApi(() => ({ status: 503, headers: { 'retry-after': '3600', 'content-type': 'text/plain' }, body: 'back in an hour' }));
    try {
      const error = await within(
        callThroughDefaults(api).then(
          () => assert.fail('the call succeeded'),
          (failure: unknown) => failure,
        ),
        20_000,
        'the call failing',
      );
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ActivityFailure && error.cause.cause instanceof ApplicationFailure, String(error));
      const failure = error.cause.cause;
      assert.equal(failure.type, WebServiceCallFailure.RetryAfterTooLong);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /3600 s/);
      assert.deepEqual(failure.details?.[0], { status: 503, retryAfterMs: 3_600_000, body: 'back in an hour' });
      assert.equal(api.arrivals.length, 1);
    } finally {
      await api.close();
    }
  });

  it('a 503 whose body is HTML labelled JSON is still a 503: retried, and the retry returns 200', async function () {
    this.timeout(60_000);
    const api = await startFlakyApi(() => ({ status: 503, headers: { 'content-type': 'application/json' }, body: '<html><body>Service Unavailable</body></html>' }));
    try {
      const result = await callThroughDefaults(api);
      assert.equal(result.status, 200);
      assert.deepEqual(result.body, { answered: 2 });
      assert.equal(api.arrivals.length, 2);
    } finally {
      await api.close();
    }
  });
});
