import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from '../src';
import type { callRepeatedly } from './workflows';
import { startRecordingProxy } from './support/token-endpoints';
import { API_SCOPES, testBed } from './support/test-bed';

describe('token refresh', () => {
  it('a token living 5 seconds is replaced before it expires, with no failed call, over more than three lifetimes', async function () {
    this.timeout(120_000);
    const bed = testBed();
    const shortLived = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 5 });
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', {
          accessTokenUrl: proxy.url,
          clientId: shortLived.clientId,
          clientSecret: { source: 'local', value: shortLived.secret },
        });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const callsBefore = bed.api.calls.length;
        const statuses = await bed.client.workflow.execute<typeof callRepeatedly>('callRepeatedly', {
          taskQueue,
          workflowId: `calls-${randomUUID()}`,
          args: [{ call: { server: config.name, url: `${bed.api.url}/whoami` }, count: 40, intervalMs: 400 }],
        });
        assert.deepEqual(new Set(statuses), new Set([200]));
        const lifetimes = proxy.requests.length;
        assert.ok(lifetimes >= 4, `only ${lifetimes} token requests over ${statuses.length} calls`);
        // Each token was replaced ahead of its expiry (5 s after it was requested), not when a call found it expired.
        const gaps = proxy.requests.slice(1).map((request, index) => request.receivedAt - (proxy.requests[index]?.receivedAt ?? 0));
        assert.ok(gaps.every((gap) => gap < 5_000), `token requests ${gaps.join(', ')} ms apart`);
        // webServiceCall would hide one rejection by refreshing and retrying: the API's own log must show none.
        const answered = bed.api.calls.slice(callsBefore).map((call) => call.status);
        assert.equal(answered.length, statuses.length);
        assert.deepEqual(new Set(answered), new Set([200]));
      });
    } finally {
      await proxy.close();
    }
  });
});
