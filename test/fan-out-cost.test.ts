import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer, listDependents } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { finishSignal, probeStatusQuery, type dependentProbe } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { busyActivities } from './support/busy-activities';
import { eventually } from './support/eventually';
import { registerMadeUpDependents } from './support/made-up-dependents';
import { testBed } from './support/test-bed';

/** The history's length once nothing is under way: no pending activity (but a refresh waiting for its time) and no pending workflow task. */
async function settledHistoryLength(client: Client, server: string): Promise<number> {
  const handle = client.workflow.getHandle(serverWorkflowId(server));
  return eventually(
    async () => {
      const { raw } = await handle.describe();
      const busy = busyActivities(raw.pendingActivities) > 0 || raw.pendingWorkflowTask;
      return busy ? undefined : Number(raw.workflowExecutionInfo?.historyLength);
    },
    { what: `the history of ${server} settled`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

/**
 * How many events a disable adds to the server's own history, with `count` dependents to tell and
 * `gone` more registered under IDs no workflow has: the fan-out signals them too, finds them ended,
 * and the server forgets them, which is how a dependent that died unregistered is told.
 */
async function eventsPerDisable(client: Client, taskQueue: string, count: number, gone = 0): Promise<number> {
  const bed = testBed();
  const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
  const probes: WorkflowHandle<typeof dependentProbe>[] = [];
  try {
    const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
    assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
    for (let i = 0; i < count; i += 1) {
      probes.push(await client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }));
    }
    const server = client.workflow.getHandle(serverWorkflowId(config.name));
    const goneIds = Array.from({ length: gone }, () => `gone-${randomUUID()}`);
    await registerMadeUpDependents(server, goneIds);
    await eventually(async () => ((await listDependents(client, config.name)).length === count + gone ? true : undefined), { what: `${count + gone} dependents registered` });
    const before = await settledHistoryLength(client, config.name);
    tokenEndpoint.break();
    assert.equal((await authorizeServer(client, config.name)).status, 'Error');
    await eventually(async () => ((await Promise.all(probes.map((probe) => probe.query(probeStatusQuery)))).every((status) => status === 'Error') ? true : undefined), {
      what: `all ${count} dependents hearing Error`,
    });
    await eventually(async () => ((await listDependents(client, config.name)).length === count ? true : undefined), { what: `the ${gone} gone dependents forgotten` });
    return (await settledHistoryLength(client, config.name)) - before;
  } finally {
    await Promise.all(probes.map((probe) => probe.signal(finishSignal)));
    await tokenEndpoint.close();
  }
}

describe('the cost of a fan-out to the server’s own history', () => {
  it('a disable adds the same number of events to the server’s history with 2 dependents, with 40, and with 3,040 (more than one fan-out activity carried before)', async function () {
    this.timeout(180_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const few = await eventsPerDisable(bed.client, taskQueue, 2);
      const many = await eventsPerDisable(bed.client, taskQueue, 40);
      const thousands = await eventsPerDisable(bed.client, taskQueue, 40, 3_000);
      process.stderr.write(`      [fan-out cost] events per disable: ${few} with 2 dependents, ${many} with 40, ${thousands} with 3,040\n`);
      assert.equal(many, few);
      assert.equal(thousands, few);
    });
  });
});
