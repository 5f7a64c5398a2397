import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createServer } from '../src';
import { connectionCounter } from './support/connection-counter';
import { callFromWorkflow } from './support/run-workflow';
import { startScriptedEndpoint, type RecordedRequest, type ScriptedResponse, type TokenEndpoint } from './support/token-endpoints';
import { testBed } from './support/test-bed';

/** A web service on its own origin that answers as `route` says, recording every request. */
async function startApi(route: (request: RecordedRequest, origin: string) => ScriptedResponse): Promise<TokenEndpoint & { origin: string }> {
  let origin = '';
  const endpoint = await startScriptedEndpoint((request) => route(request, origin));
  origin = new URL(endpoint.url).origin;
  return { ...endpoint, origin };
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
