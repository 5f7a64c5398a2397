import assert from 'node:assert/strict';
import { AUTH_METHODS, createServer } from '../src';
import { callFromWorkflow } from './support/run-workflow';
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
});
