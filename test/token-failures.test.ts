import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer, showServer, WebServiceCallFailure } from '../src';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { callFromWorkflow, failureTypeOf } from './support/run-workflow';
import { startHangingEndpoint, startRecordingProxy, startResettingEndpoint, startStatusEndpoint } from './support/token-endpoints';
import { testBed } from './support/test-bed';
import { serverWorkflowId } from '../src/contract/definitions';

/** The token activity's failure types as Temporal stores them, in clear, in the server's raw history. */
async function tokenFailureTypesInHistory(server: string): Promise<{ types: string[]; rawHistory: string }> {
  const history = await testBed().rawClient.workflow.getHandle(serverWorkflowId(server)).fetchHistory();
  const types = (history.events ?? []).flatMap((event) => {
    const type = event.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type;
    return type ? [type] : [];
  });
  return { types, rawHistory: JSON.stringify(history) };
}

/** A loopback origin whose port was just free and is closed again: connecting to it is refused. */
async function closedPortOrigin(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('a server that cannot get a token is disabled', () => {
  it('wrong secret: Error after exactly one attempt, the reason names invalid_client and the HTTP status, and holds no secret', async () => {
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    const wrongSecret = 'this-is-the-wrong-secret-0123456789';
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url, clientSecret: { source: 'local', value: wrongSecret } });
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(proxy.requests.length, 1, 'invalid_client must not be retried');
        assert.equal(view.disabledReason?.code, 'invalid_client');
        assert.equal(view.disabledReason?.httpStatus, 401);
        assert.equal(view.disabledReason?.attempts, 1);
        assert.match(view.disabledReason?.message ?? '', /invalid_client \(HTTP 401\)/);
        assert.ok(!JSON.stringify(view).includes(wrongSecret), 'the server view carries the secret');
      });
    } finally {
      await proxy.close();
    }
  });

  it('invalid_request (HTTP 400): Error after exactly one attempt, the reason naming it', async () => {
    const bed = testBed();
    const endpoint = await startStatusEndpoint(400, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'invalid_request', error_description: 'the audience parameter is not supported' }),
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const view = await createServer(bed.client, bed.serverConfig('client_secret_post', { accessTokenUrl: endpoint.url, maxRetryAttempts: 3 }), { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(endpoint.requests.length, 1, 'invalid_request must not be retried');
        assert.equal(view.disabledReason?.code, 'invalid_request');
        assert.equal(view.disabledReason?.httpStatus, 400);
        assert.equal(view.disabledReason?.description, 'the audience parameter is not supported');
        assert.deepEqual((await tokenFailureTypesInHistory(view.config.name)).types, ['invalid_request']);
      });
    } finally {
      await endpoint.close();
    }
  });

  it('an error code outside RFC 6749: the failure type Temporal stores in clear is other_oauth_error, the code itself only in the encoded reason', async () => {
    const bed = testBed();
    const hostile = 'acme_tenant_4711_quota_exceeded_for_customer_jane_doe';
    const endpoint = await startStatusEndpoint(400, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: hostile, error_description: 'try again next month' }),
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const view = await createServer(bed.client, bed.serverConfig('client_secret_post', { accessTokenUrl: endpoint.url }), { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.code, hostile);
        assert.equal(view.disabledReason?.httpStatus, 400);
        assert.equal(view.disabledReason?.description, 'try again next month');
        const { types, rawHistory } = await tokenFailureTypesInHistory(view.config.name);
        assert.deepEqual(types, ['other_oauth_error']);
        assert.ok(!rawHistory.includes(hostile), 'the server\'s error code is in the raw history in clear');
      });
    } finally {
      await endpoint.close();
    }
  });

  const unreachable = [
    { what: 'resetting connections', start: startResettingEndpoint, code: 'connection_failed', status: undefined },
    { what: 'answering 503', start: () => startStatusEndpoint(503), code: 'unexpected_status', status: 503 },
  ];
  for (const { what, start, code, status } of unreachable) {
    it(`token endpoint ${what}: exactly maxRetryAttempts requests, then Error`, async () => {
      const bed = testBed();
      const endpoint = await start();
      try {
        await bed.withWorker(async (taskQueue) => {
          const config = bed.serverConfig('client_secret_post', { accessTokenUrl: endpoint.url, maxRetryAttempts: 3, maxWait: 'PT30S' });
          const view = await createServer(bed.client, config, { taskQueue });
          assert.equal(view.status, 'Error');
          assert.equal(endpoint.requests.length, 3);
          assert.equal(view.disabledReason?.code, code);
          assert.equal(view.disabledReason?.httpStatus, status);
          assert.equal(view.disabledReason?.attempts, 3);
        });
      } finally {
        await endpoint.close();
      }
    });
  }

  it('token endpoint on a port nobody listens on: connection refused maxRetryAttempts times, then Error', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: `${await closedPortOrigin()}/token`, maxRetryAttempts: 3, maxWait: 'PT30S' });
      const view = await createServer(bed.client, config, { taskQueue });
      assert.equal(view.status, 'Error');
      assert.equal(view.disabledReason?.code, 'connection_failed');
      assert.equal(view.disabledReason?.httpStatus, undefined);
      assert.equal(view.disabledReason?.attempts, 3);
    });
  });

  it('token endpoint slower than maxWait: Error within maxWait plus a small margin', async () => {
    const bed = testBed();
    const endpoint = await startHangingEndpoint();
    const maxWaitMs = 3_000;
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: endpoint.url, maxWait: maxWaitMs, maxRetryAttempts: 5 });
        const started = Date.now();
        const view = await createServer(bed.client, config, { taskQueue });
        const elapsed = Date.now() - started;
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.code, 'timeout');
        assert.equal(view.disabledReason?.attempts, endpoint.requests.length, 'the reason miscounts the attempts');
        // The last attempt stops a moment before the deadline so that its failure, not a bare timeout, is reported.
        assert.ok(elapsed >= maxWaitMs - 500, `disabled after ${elapsed} ms, long before maxWait`);
        assert.ok(elapsed < maxWaitMs + 3_000, `disabled after ${elapsed} ms`);
        // The reason tells how long the server tried, in its fields and in its one line.
        const reason = view.disabledReason;
        assert.ok(reason.elapsedMs >= maxWaitMs - 500 && reason.elapsedMs <= elapsed, `the reason says ${reason.elapsedMs} ms`);
        assert.match(reason.message, new RegExp(`gave up after ${reason.attempts} attempts? in ${(reason.elapsedMs / 1000).toFixed(1)} s$`));
        assert.ok(Math.abs(Date.parse(reason.at) - Date.now()) < 10_000, `disabled at ${reason.at}`);
      });
    } finally {
      await endpoint.close();
    }
  });

  it('a refresh after an API rejected the token, with the token endpoint down: maxRetryAttempts requests, then Error, and the call fails as disabled', async () => {
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 2, maxWait: 'PT20S' });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const call = { server: config.name, url: `${bed.api.url}/whoami` };
        assert.equal((await callFromWorkflow(taskQueue, call)).status, 200);
        const token = bed.api.calls.at(-1)?.tokenSha256;
        assert.ok(token);

        bed.api.rejectToken(token);
        tokenEndpoint.break();
        assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, call)), WebServiceCallFailure.ServerDisabled);
        assert.equal(tokenEndpoint.requests.length, 1 + 2, 'token requests: the first, then the budget of the refresh');
        const view = await showServer(bed.client, config.name);
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.httpStatus, 503);
        assert.equal(view.disabledReason?.attempts, 2);
      });
    } finally {
      await tokenEndpoint.close();
    }
  });
});
