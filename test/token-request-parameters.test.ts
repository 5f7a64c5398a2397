import assert from 'node:assert/strict';
import { createServer } from '../src';
import { startRecordingProxy } from './support/token-endpoints';
import { testBed } from './support/test-bed';

describe('what the token request carries', () => {
  it('include-scope off sends no scope; extra query and post parameters arrive', async () => {
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const withScope = bed.serverConfig('client_secret_post', {
          accessTokenUrl: proxy.url,
          queryParams: [{ name: 'tenant', value: 'blue team' }],
          postParams: [
            { name: 'custom_one', value: 'a&b' },
            { name: 'custom_two', value: 'é' },
          ],
        });
        assert.equal((await createServer(bed.client, withScope, { taskQueue })).status, 'OK');
        const first = proxy.requests[0];
        assert.ok(first);
        assert.equal(new URL(first.url, proxy.url).searchParams.get('tenant'), 'blue team');
        const form = new URLSearchParams(first.body);
        assert.equal(form.get('grant_type'), 'client_credentials');
        assert.equal(form.get('scope'), withScope.scope);
        assert.equal(form.get('custom_one'), 'a&b');
        assert.equal(form.get('custom_two'), 'é');

        const withoutScope = bed.serverConfig('client_secret_post', { accessTokenUrl: proxy.url, includeScope: false });
        assert.equal((await createServer(bed.client, withoutScope, { taskQueue })).status, 'OK');
        const second = proxy.requests[1];
        assert.ok(second);
        assert.equal(new URLSearchParams(second.body).has('scope'), false);
      });
    } finally {
      await proxy.close();
    }
  });
});
