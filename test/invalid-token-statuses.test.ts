import assert from 'node:assert/strict';
import { createServer } from '../src';
import { callFromWorkflow } from './support/run-workflow';
import { startRecordingProxy, startScriptedEndpoint, type ScriptedResponse } from './support/token-endpoints';
import { testBed } from './support/test-bed';

describe('APIs that reject tokens with another status', () => {
  it('a status named in invalidTokenStatuses (403 here) replaces the token once and retries the call', async () => {
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    const tokensSeen: string[] = [];
    // Rejects the first token it sees with a bare 403, as some APIs do, and accepts any other.
    const api = await startScriptedEndpoint((request) => {
      const token = String(request.headers.authorization ?? '');
      tokensSeen.push(token);
      return token === tokensSeen[0]
        ? { status: 403, headers: { 'content-type': 'text/plain' }, body: 'token revoked' }
        : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const origin = new URL(api.url).origin;
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url, allowedOrigins: [origin], invalidTokenStatuses: [403] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${origin}/resource` });
        assert.equal(result.status, 200);
        assert.deepEqual(result.body, { ok: true });
        assert.equal(proxy.requests.length, 2, 'exactly one extra token request');
        assert.equal(tokensSeen.length, 2);
        assert.notEqual(tokensSeen[0], tokensSeen[1]);
      });
    } finally {
      await Promise.all([proxy.close(), api.close()]);
    }
  });

  it('a 401 invalid_token whose body is HTML labelled JSON still replaces the token once and retries the call', async () => {
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    const tokensSeen: string[] = [];
    const api = await startScriptedEndpoint((request): ScriptedResponse => {
      const token = String(request.headers.authorization ?? '');
      tokensSeen.push(token);
      return token === tokensSeen[0]
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' }, body: '<html>Unauthorized</html>' }
        : { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const origin = new URL(api.url).origin;
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url, allowedOrigins: [origin] });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${origin}/resource` });
        assert.deepEqual([result.status, result.body], [200, { ok: true }]);
        assert.equal(proxy.requests.length, 2, 'exactly one extra token request');
        assert.equal(tokensSeen.length, 2);
        assert.notEqual(tokensSeen[0], tokensSeen[1]);
      });
    } finally {
      await Promise.all([proxy.close(), api.close()]);
    }
  });
});
