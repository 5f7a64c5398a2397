import assert from 'node:assert/strict';
import { createServer, showServer } from '../src';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { loseTheFirstWait } from './support/lost-wait';
import { API_SCOPES, testBed } from './support/test-bed';

describe('a refresh scheduled ahead', () => {
  it('waits for its time as no attempt: one due 22 s ahead (beyond the 10 s retry interval cap) that fails makes maxRetryAttempts attempts from its due time, then disables the server', async function () {
    this.timeout(120_000);
    const bed = testBed();
    // A third of 33 s: the refresh is due 11 s before expiry, 22 s after the token.
    const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 33 });
    const endpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', {
          accessTokenUrl: endpoint.url,
          clientId: client.clientId,
          clientSecret: { source: 'local', value: client.secret },
          maxRetryAttempts: 2,
        });
        const created = await createServer(bed.client, config, { taskQueue });
        assert.equal(created.status, 'OK');
        assert.equal(created.acquiring, false, 'a server whose refresh is only scheduled is not acquiring');
        const dueAt = Date.parse(created.tokenExpiresAt!) - 11_000;
        endpoint.break();
        const before = endpoint.requests.length;

        const disabled = await eventually(
          async () => {
            const view = await showServer(bed.client, config.name);
            return view.status === 'Error' ? view : undefined;
          },
          { what: 'the failed refresh disabled the server', timeoutMs: 60_000, intervalMs: 200 },
        );
        const reason = disabled.disabledReason!;
        assert.equal(reason.code, 'unexpected_status');
        assert.equal(reason.attempts, 2, 'the wait is not one of the attempts');
        const attempts = endpoint.requests.slice(before);
        assert.equal(attempts.length, 2);
        // Due time and recorded times are the Temporal server's clock, on this machine the endpoint's too.
        assert.ok(attempts[0]!.receivedAt >= dueAt, `asked ${dueAt - attempts[0]!.receivedAt} ms before its time`);
        assert.equal(reason.elapsedMs, Date.parse(reason.at) - dueAt, 'the time it took counts from its due time');
      });
    } finally {
      await endpoint.close();
    }
  });

  it('waits again when the attempt that stood for its wait is lost (its worker died, its completion timed out): the refresh comes on time and the server stays OK', async function () {
    this.timeout(120_000);
    const bed = testBed();
    // A third of 12 s: the refresh is due 8 s after the token.
    const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 12 });
    const endpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const lostWait = loseTheFirstWait();
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', {
            accessTokenUrl: endpoint.url,
            clientId: client.clientId,
            clientSecret: { source: 'local', value: client.secret },
            maxRetryAttempts: 1,
          });
          const created = await createServer(bed.client, config, { taskQueue });
          assert.equal(created.status, 'OK');
          const dueAt = Date.parse(created.tokenExpiresAt!) - 4_000;
          const before = endpoint.requests.length;
          const refreshed = await eventually(
            async () => {
              const view = await showServer(bed.client, config.name);
              assert.notEqual(view.status, 'Error', `the lost wait disabled the server: ${JSON.stringify(view.disabledReason)}`);
              return view.tokenExpiresAt !== created.tokenExpiresAt ? view : undefined;
            },
            { what: 'the refresh after the lost wait', timeoutMs: 30_000, intervalMs: 200 },
          );
          assert.equal(refreshed.status, 'OK');
          assert.equal(lostWait.lost(), 1);
          const requests = endpoint.requests.slice(before);
          assert.equal(requests.length, 1, 'one token request, at its time');
          assert.ok(requests[0]!.receivedAt >= dueAt, `asked ${dueAt - requests[0]!.receivedAt} ms before its time`);
        },
        { activityInterceptors: [lostWait.interceptor] },
      );
    } finally {
      await endpoint.close();
    }
  });
});
