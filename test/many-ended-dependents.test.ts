import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { authorizeServer, createServer, listDependents } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { registerMadeUpDependents } from './support/made-up-dependents';
import { testBed } from './support/test-bed';

/**
 * Near the most a server carries across continue-as-new (1.5 MiB of IDs, about 32,000 of this
 * length): dependents that all ended without unregistering, as when a batch of workflows was
 * terminated, come back from one fan-out together.
 */
const ENDED_DEPENDENTS = 24_000;

describe('a server whose dependents have all ended', () => {
  it(`forgets ${ENDED_DEPENDENTS} of them found ended by one fan-out, in the workflow task that hears of them`, async function () {
    this.timeout(300_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));
        await registerMadeUpDependents(
          server,
          Array.from({ length: ENDED_DEPENDENTS }, () => `ended-${randomUUID()}`),
        );
        assert.equal((await listDependents(bed.client, config.name)).length, ENDED_DEPENDENTS);

        tokenEndpoint.break();
        assert.equal((await authorizeServer(bed.client, config.name)).status, 'Error');
        await eventually(async () => ((await listDependents(bed.client, config.name)).length === 0 ? true : undefined), {
          what: `the ${ENDED_DEPENDENTS} ended dependents forgotten`,
          timeoutMs: 180_000,
          intervalMs: 1_000,
        });
        // Every workflow task of the server completed: none failed or timed out on the time it took to forget them.
        const { raw } = await server.describe();
        assert.equal(raw.pendingWorkflowTask ?? null, null, 'a workflow task of the server is still pending');
        const troubled = ((await server.fetchHistory()).events ?? []).filter((event) => event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes);
        assert.deepEqual(
          troubled.map((event) => event.workflowTaskFailedEventAttributes?.failure?.message ?? 'timed out'),
          [],
        );
        tokenEndpoint.repair();
        const enabled = await authorizeServer(bed.client, config.name);
        assert.equal(enabled.status, 'OK');
        assert.equal(enabled.dependents, 0);
      });
    } finally {
      await tokenEndpoint.close();
    }
  });
});
