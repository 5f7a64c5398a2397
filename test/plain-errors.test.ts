import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { createServer, WebServiceCallFailure } from '../src';
import { listen, closeServer } from '../src/http/server-lifecycle';
import { callFromWorkflow } from './support/run-workflow';
import { testBed } from './support/test-bed';

describe('errors read plainly, on the dev server', () => {
  it('a call the API refuses for want of a scope names its method and path, insufficient_scope, and what the API said', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      // The server may ask for api:read only: the API's /records needs records:read.
      const config = bed.serverConfig('client_secret_basic', { scope: 'api:read', allowedOrigins: [bed.api.origin] });
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
      const call = callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/records?cursor=0&limit=5` });
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ActivityFailure && error.cause.cause instanceof ApplicationFailure, String(error));
        const failure = error.cause.cause;
        assert.equal(failure.type, WebServiceCallFailure.HttpClientError);
        assert.equal(
          failure.message,
          `GET /records on ${bed.api.origin} answered HTTP 403: the token lacks a scope this call needs [insufficient_scope]. ` +
            "Add the scope the API names to the OAuth server's scope, then authorize the server again. " +
            'The API said: {"error":"the token lacks the scope records:read"}',
        );
        return true;
      });
    });
  });

  it('a token endpoint that drops the connection disables the server with a reason in words, the library code only in brackets', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const dropping = createHttpServer((request) => request.socket.destroy());
    const { port } = await listen(dropping, 0, '127.0.0.1');
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: `http://127.0.0.1:${port}/token`, maxRetryAttempts: 1 });
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'Error');
        const message = view.disabledReason?.message ?? '';
        assert.match(message, /^The token endpoint could not be reached\. Check the access token URL and that its server is up and reachable from the workers, then authorize the server again\. /);
        assert.match(message, /the connection closed before an answer came \[UND_ERR_SOCKET\]/);
        assert.doesNotMatch(message, /[^[]UND_ERR_/);
      });
    } finally {
      await closeServer(dropping);
    }
  });
});
