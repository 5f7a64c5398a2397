import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createServer, WebServiceCallFailure, type WebServiceCallInput } from '../src';
import { connectionCounter } from './support/connection-counter';
import { callFromWorkflow } from './support/run-workflow';
import { startScriptedEndpoint, type RecordedRequest, type ScriptedResponse, type TokenEndpoint } from './support/token-endpoints';
import { testBed } from './support/test-bed';

/** A web service on its own origin that answers as `route` says, recording every request. */
async function startApi(route: (request: RecordedRequest, origin: string) => ScriptedResponse | Promise<ScriptedResponse>): Promise<TokenEndpoint & { origin: string }> {
  let origin = '';
  const endpoint = await startScriptedEndpoint((request) => route(request, origin));
  origin = new URL(endpoint.url).origin;
  return { ...endpoint, origin };
}

/** The failure a call that should have failed ended with. */
async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await call.then(
    () => assert.fail('the call succeeded'),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof WorkflowFailedError);
  assert.ok(error.cause instanceof ActivityFailure);
  assert.ok(error.cause.cause instanceof ApplicationFailure);
  return error.cause.cause;
}

/** A server allowed to call `origin`, on the worker's task queue. */
async function serverFor(taskQueue: string, origin: string): Promise<string> {
  const bed = testBed();
  const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [origin] });
  assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
  return config.name;
}

function bearerOf(request: RecordedRequest | undefined): string {
  const token = /^Bearer (\S+)$/.exec(request?.headers.authorization ?? '')?.[1];
  assert.ok(token, `no bearer token on ${request?.url ?? 'a missing request'}`);
  return token;
}

/** Neither the token nor any encoding of it is in any request line a server recorded. */
function assertTokenInNoUrl(token: string, requests: RecordedRequest[]): void {
  for (const request of requests) {
    for (const form of [token, encodeURIComponent(token), Buffer.from(token).toString('base64')]) {
      assert.ok(!request.url.includes(form), `the token is in the URL ${request.url.slice(0, 20)}…`);
    }
  }
}

describe('redirects', () => {
  it('a redirect to another origin is not followed with the token: RedirectRefused names that origin, which gets no connection', async () => {
    const bed = testBed();
    const foreign = await connectionCounter();
    const api = await startApi(() => ({ status: 302, headers: { location: `${foreign.origin}/collect?from=api` }, body: '' }));
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [api.origin] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const error = await callFromWorkflow(taskQueue, { server: config.name, url: `${api.origin}/moved` }).then(
          () => assert.fail('the call succeeded'),
          (failure: unknown) => failure,
        );
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ActivityFailure);
        assert.ok(error.cause.cause instanceof ApplicationFailure);
        assert.equal(error.cause.cause.type, 'RedirectRefused');
        assert.equal(error.cause.cause.nonRetryable, true);
        assert.ok(error.cause.cause.message.includes(foreign.origin), error.cause.cause.message);
        assert.deepEqual(error.cause.cause.details, [{ status: 302, origin: foreign.origin }]);

        assert.equal(foreign.connections(), 0);
        assert.deepEqual(
          api.requests.map((request) => request.url),
          ['/moved'],
        );
        assertTokenInNoUrl(bearerOf(api.requests[0]), api.requests);
      });
    } finally {
      await api.close();
      await foreign.close();
    }
  });

  it('a redirect within the allowed origin is followed (relative and absolute Location) and returns 200; the token is never in a URL', async () => {
    const bed = testBed();
    const api = await startApi((request, origin): ScriptedResponse => {
      const path = new URL(request.url, origin).pathname;
      if (path === '/start') return { status: 302, headers: { location: '/middle' } };
      if (path === '/middle') return { status: 307, headers: { location: `${origin}/final?page=2` } };
      if (path === '/final') return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reached: request.url }) };
      return { status: 404 };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { allowedOrigins: [api.origin] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${api.origin}/start` });
        assert.equal(result.status, 200);
        assert.deepEqual(result.body, { reached: '/final?page=2' });

        assert.deepEqual(
          api.requests.map((request) => request.url),
          ['/start', '/middle', '/final?page=2'],
        );
        const token = bearerOf(api.requests[0]);
        assert.deepEqual(
          api.requests.map((request) => bearerOf(request)),
          [token, token, token],
        );
        assertTokenInNoUrl(token, api.requests);
      });
    } finally {
      await api.close();
    }
  });
});

describe('redirects: method, body and deadline', () => {
  it('303, and POST after 301 or 302, go on as GET without the body or its content headers; 307 and 308, and PUT after 302, keep both (Fetch standard)', async () => {
    const bed = testBed();
    const api = await startApi((request): ScriptedResponse => {
      const [, status] = /^\/from\/(\d+)/.exec(request.url) ?? [];
      if (status) return { status: Number(status), headers: { location: `/to/${status}` } };
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: request.method, body: request.body }) };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const server = await serverFor(taskQueue, api.origin);
        const send = (method: 'POST' | 'PUT', status: number) =>
          callFromWorkflow(taskQueue, {
            server,
            method,
            url: `${api.origin}/from/${status}`,
            headers: { 'content-language': 'en', 'x-kept': 'yes' },
            body: { json: { order: 'A-1' } },
          });
        const cases: Array<{ method: 'POST' | 'PUT'; status: number; then: string }> = [
          { method: 'POST', status: 303, then: 'GET' },
          { method: 'PUT', status: 303, then: 'GET' },
          { method: 'POST', status: 301, then: 'GET' },
          { method: 'POST', status: 302, then: 'GET' },
          { method: 'PUT', status: 302, then: 'PUT' },
          { method: 'POST', status: 307, then: 'POST' },
          { method: 'POST', status: 308, then: 'POST' },
        ];
        for (const { method, status, then } of cases) {
          const label = `${method} then ${status}`;
          const result = await send(method, status);
          assert.equal(result.status, 200, label);
          const keepsBody = then !== 'GET';
          assert.deepEqual(result.body, { method: then, body: keepsBody ? '{"order":"A-1"}' : '' }, label);
          const followed = api.requests.at(-1);
          assert.equal(followed?.url, `/to/${status}`, label);
          assert.equal(followed?.headers['content-type'], keepsBody ? 'application/json' : undefined, label);
          assert.equal(followed?.headers['content-language'], keepsBody ? 'en' : undefined, label);
          assert.equal(followed?.headers['x-kept'], 'yes', label);
          assert.ok(followed?.headers.authorization, label);
        }
      });
    } finally {
      await api.close();
    }
  });

  it('one timeoutMs covers every hop: three hops of 700 ms each fail a 1.5 s call with HttpTransport (timed out)', async () => {
    const bed = testBed();
    const HOP_MS = 700;
    const api = await startApi(async (request): Promise<ScriptedResponse> => {
      await new Promise((resolve) => setTimeout(resolve, HOP_MS));
      const hop = Number(/^\/hop\/(\d+)/.exec(request.url)?.[1] ?? 0);
      return hop < 3 ? { status: 302, headers: { location: `/hop/${hop + 1}` } } : { status: 200, headers: { 'content-type': 'text/plain' }, body: 'arrived' };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const server = await serverFor(taskQueue, api.origin);
        const input: WebServiceCallInput = { server, url: `${api.origin}/hop/0`, timeoutMs: 1_500 };
        const failure = await failureOf(callFromWorkflow(taskQueue, input));
        assert.equal(failure.type, WebServiceCallFailure.HttpTransport);
        assert.match(failure.message, /timed out/);
        assert.deepEqual(
          api.requests.map((request) => request.url),
          ['/hop/0', '/hop/1', '/hop/2'],
        );
        // With room for all four hops, the same chain arrives: the deadline, not the chain, failed it.
        const result = await callFromWorkflow(taskQueue, { ...input, timeoutMs: 10_000 });
        assert.equal(result.body, 'arrived');
      });
    } finally {
      await api.close();
    }
  });

  it('one timeoutMs covers the retry after a rejected token too: a slow 401 and a slow retry fail a call whose timeout each would fit', async () => {
    const bed = testBed();
    const ANSWER_MS = 900;
    const api = await startApi(async (): Promise<ScriptedResponse> => {
      await new Promise((resolve) => setTimeout(resolve, ANSWER_MS));
      // Rejects every token, so the retry is as slow as the first try.
      return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const server = await serverFor(taskQueue, api.origin);
        const failure = await failureOf(callFromWorkflow(taskQueue, { server, url: `${api.origin}/slow`, timeoutMs: 1_500 }));
        assert.equal(failure.type, WebServiceCallFailure.HttpTransport, failure.message);
        assert.match(failure.message, /timed out/);
        assert.equal(api.requests.length, 2);
      });
    } finally {
      await api.close();
    }
  });
});
