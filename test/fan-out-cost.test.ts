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

interface HistorySize {
  events: number;
  bytes: number;
}

/** The history's size once nothing is under way: no pending activity (but a refresh waiting for its time) and no pending workflow task. */
async function settledHistorySize(client: Client, server: string): Promise<HistorySize> {
  const handle = client.workflow.getHandle(serverWorkflowId(server));
  return eventually(
    async () => {
      const { raw } = await handle.describe();
      const busy = busyActivities(raw.pendingActivities) > 0 || raw.pendingWorkflowTask;
      const info = raw.workflowExecutionInfo;
      return busy ? undefined : { events: Number(info?.historyLength), bytes: Number(info?.historySizeBytes) };
    },
    { what: `the history of ${server} settled`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

/**
 * How many events and bytes a disable adds to the server's own history, with `count` dependents to tell and
 * `gone` more registered under IDs no workflow has: the fan-out signals them too, finds them ended,
 * and the server forgets them, which is how a dependent that died unregistered is told.
 */
async function costOfDisable(client: Client, taskQueue: string, count: number, gone = 0): Promise<HistorySize> {
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
    const before = await settledHistorySize(client, config.name);
    tokenEndpoint.break();
    assert.equal((await authorizeServer(client, config.name)).status, 'Error');
    await eventually(async () => ((await Promise.all(probes.map((probe) => probe.query(probeStatusQuery)))).every((status) => status === 'Error') ? true : undefined), {
      what: `all ${count} dependents hearing Error`,
    });
    await eventually(async () => ((await listDependents(client, config.name)).length === count ? true : undefined), { what: `the ${gone} gone dependents forgotten` });
    const after = await settledHistorySize(client, config.name);
    return { events: after.events - before.events, bytes: after.bytes - before.bytes };
  } finally {
    await Promise.all(probes.map((probe) => probe.signal(finishSignal)));
    await tokenEndpoint.close();
  }
}

describe('the cost of a fan-out to the server’s own history', () => {
  it('a disable adds the same number of events to the server’s history with 2 dependents, with 40, and with 3,040 (more than one fan-out activity carried before), and the same bytes with 2 and 40', async function () {
    this.timeout(180_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const few = await costOfDisable(bed.client, taskQueue, 2);
      const many = await costOfDisable(bed.client, taskQueue, 40);
      const thousands = await costOfDisable(bed.client, taskQueue, 40, 3_000);
      process.stderr.write(
        `      [fan-out cost] per disable: ${few.events} events, ${few.bytes} bytes with 2 dependents; ${many.events}, ${many.bytes} with 40; ${thousands.events}, ${thousands.bytes} with 3,040 (3,000 of them ended, which the activity's result names)\n`,
      );
      assert.equal(many.events, few.events);
      assert.equal(thousands.events, few.events);
      // The dependents' IDs are not in history: 38 more of them were about 1,700 bytes more when the fan-out's input carried them.
      assert.ok(Math.abs(many.bytes - few.bytes) < 400, `a disable with 40 dependents added ${many.bytes} bytes to history, with 2 ${few.bytes}`);
    });
  });
});
