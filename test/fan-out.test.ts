import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer, listDependents, OAUTH_SEARCH_ATTRIBUTES } from '../src';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';
import type { disableAndResumeWatcher } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually, within } from './support/eventually';
import { testLogger } from './support/captured-logs';
import { testBed } from './support/test-bed';

/**
 * More than one signal batch of the fan-out. FAN_OUT_DEPENDENTS=2100 (beyond the 2,000 signals one
 * workflow may have pending, FACTS) passes too, but takes about 5 minutes here: `npm run bench:fan-out`
 * measures that scale instead of the suite.
 */
const DEPENDENTS = Number(process.env.FAN_OUT_DEPENDENTS ?? 600);
/** Client requests in flight at once, within the dev server's limits (long polls above all). */
const REQUESTS_IN_FLIGHT = 200;

describe('fan-out to many dependents', () => {
  let temporal: TemporalEnvironment | undefined;

  before(async function () {
    this.timeout(120_000);
    // A server of its own: thousands of workflows would otherwise crowd the final scan of the suite's histories.
    temporal = await startTemporalEnvironment({ searchAttributes: OAUTH_SEARCH_ATTRIBUTES, log: (line) => testLogger.info(line) });
  });

  after(async function () {
    this.timeout(60_000);
    await temporal?.teardown();
  });

  it(`${DEPENDENTS} dependents all hear the disable and the re-authorization, and are forgotten once they end`, async function () {
    this.timeout(600_000);
    const bed = testBed();
    const env = temporal!;
    const client = bed.clientFor(env);
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
          assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
          const watchers: WorkflowHandle<typeof disableAndResumeWatcher>[] = [];
          while (watchers.length < DEPENDENTS) {
            const batch = Math.min(REQUESTS_IN_FLIGHT, DEPENDENTS - watchers.length);
            watchers.push(
              ...(await Promise.all(
                Array.from({ length: batch }, () =>
                  client.workflow.start<typeof disableAndResumeWatcher>('disableAndResumeWatcher', {
                    taskQueue,
                    workflowId: `watcher-${randomUUID()}`,
                    args: [config.name],
                  }),
                ),
              )),
            );
          }
          await eventually(async () => ((await listDependents(client, config.name)).length === DEPENDENTS ? true : undefined), {
            what: `all ${DEPENDENTS} dependents registered`,
            timeoutMs: 240_000,
            intervalMs: 1_000,
          });

          tokenEndpoint.break();
          assert.equal((await authorizeServer(client, config.name)).status, 'Error');
          tokenEndpoint.repair();
          // Re-authorizing at once: a dependent must still hear both, in order, though they come close together.
          assert.equal((await authorizeServer(client, config.name)).status, 'OK');
          // A few hundred results awaited at a time: every one a long poll, and the namespace limits those.
          const allHeard = async () => {
            for (let start = 0; start < watchers.length; start += REQUESTS_IN_FLIGHT) {
              await Promise.all(watchers.slice(start, start + REQUESTS_IN_FLIGHT).map((watcher) => watcher.result()));
            }
          };
          await within(allHeard(), 240_000, `all ${DEPENDENTS} dependents hearing Error, then OK`);
          await eventually(async () => ((await listDependents(client, config.name)).length === 0 ? true : undefined), {
            what: 'the ended dependents forgotten',
            timeoutMs: 120_000,
            intervalMs: 1_000,
          });
        },
        { temporal: env },
      );
    } finally {
      await tokenEndpoint.close();
    }
  });
});
