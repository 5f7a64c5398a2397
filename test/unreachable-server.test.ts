import assert from 'node:assert/strict';
import { createServer, showServer, ServerUnreachableError } from '../src';
import { serverRows } from '../src/admin-page/server-rows';
import { testBed } from './support/test-bed';

describe('a server whose workers have all stopped', () => {
  it('does not hold up the admin page’s list: its row comes from visibility, marked unreachable; showServer with a timeout says so', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const config = bed.serverConfig('client_secret_basic');
    // The worker stops when this returns: no one is left to answer the server's queries.
    await bed.withWorker(async (taskQueue) => {
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
    });
    await assert.rejects(showServer(bed.client, config.name, { timeoutMs: 2_000 }), ServerUnreachableError);
    const { rows } = await serverRows(bed.client, { name: config.name });
    assert.deepEqual(
      rows.map(({ name, status, unreachable }) => ({ name, status, unreachable })),
      [{ name: config.name, status: 'OK', unreachable: true }],
    );
  });
});
