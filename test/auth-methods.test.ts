import assert from 'node:assert/strict';
import { AUTH_METHODS, createServer } from '../src';
import { callFromWorkflow } from './support/run-workflow';
import { startRecordingProxy } from './support/token-endpoints';
import { API_SCOPES, testBed } from './support/test-bed';

describe('each client authentication method against a real authorization server', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: the server reaches OK and a workflow's webServiceCall gets a 200 with a valid, scoped token`, async () => {
      const bed = testBed();
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig(method);
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
        assert.equal(view.grantedScope ?? API_SCOPES, API_SCOPES);

        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` });
        assert.equal(result.status, 200);
        assert.deepEqual(result.body, { client_id: bed.clients[method].clientId, scope: API_SCOPES });
        const seen = bed.api.calls.filter((call) => call.clientId === bed.clients[method].clientId && call.path === '/whoami');
        assert.ok(seen.some((call) => call.status === 200 && call.scope === API_SCOPES), 'the resource API did not accept the token');
      });
    });
  }

  for (const method of ['client_secret_jwt', 'private_key_jwt'] as const) {
    it(`${method}: with issuer set, the assertion's audience is the issuer, which a server behind another token URL (a proxy) accepts`, async () => {
      const bed = testBed();
      const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
      try {
        await bed.withWorker(async (taskQueue) => {
          // Without the issuer the audience is the proxy's URL, which the authorization server refuses.
          const withoutIssuer = await createServer(bed.client, bed.serverConfig(method, { accessTokenUrl: proxy.url }), { taskQueue });
          assert.equal(withoutIssuer.status, 'Error');
          assert.equal(withoutIssuer.disabledReason?.code, 'invalid_client');

          const config = bed.serverConfig(method, { accessTokenUrl: proxy.url, issuer: bed.authorizationServer.issuer });
          const view = await createServer(bed.client, config, { taskQueue });
          assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
          assert.equal(view.config.issuer, bed.authorizationServer.issuer);
          const audiences = proxy.requests.map((request) => {
            const assertion = new URLSearchParams(request.body).get('client_assertion') ?? '';
            bed.rememberSecret(assertion);
            return (JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: unknown }).aud;
          });
          assert.deepEqual(audiences, [proxy.url, bed.authorizationServer.issuer]);
        });
      } finally {
        await proxy.close();
      }
    });
  }
});
