import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createServer } from '../src';
import { tokenRequestTaskQueue } from '../src/contract/definitions';
import { eventually, within } from './support/eventually';
import { testBed, testPlugin, type TestBed } from './support/test-bed';

const { TaskQueueType } = temporal.api.enums.v1;

async function activityPollers(bed: TestBed, taskQueue: string): Promise<string[]> {
  const { pollers } = await bed.client.workflowService.describeTaskQueue({
    namespace: bed.temporal.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (pollers ?? []).map((poller) => poller.identity ?? '?');
}

describe('the plugin on a worker', () => {
  it('serves the token requests of its server workflows on a task queue of their own, beside the worker', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const pollers = await eventually(async () => {
        const seen = await activityPollers(bed, tokenRequestTaskQueue(taskQueue));
        return seen.length > 0 ? seen : undefined;
      }, { what: 'a poller on the token-request task queue', timeoutMs: 10_000 });
      assert.ok(pollers.every((identity) => identity.endsWith('token requests')), pollers.join(', '));
      assert.equal((await createServer(bed.client, bed.serverConfig('client_secret_basic'), { taskQueue })).status, 'OK');
    });
  });

  it('runUntil with work that ends at once stops the worker and the token-request worker beside it', async () => {
    const bed = testBed();
    const worker = await Worker.create({
      connection: bed.temporal.nativeConnection,
      namespace: bed.temporal.namespace,
      taskQueue: `tq-${randomUUID()}`,
      workflowBundle: bed.workflowBundle,
      plugins: [testPlugin()],
    });
    await within(
      worker.runUntil(() => Promise.resolve()),
      20_000,
      'runUntil',
    );
    assert.equal(worker.getState(), 'STOPPED');
  });

  it('a worker whose connection carries the plugin gets one token-request worker, not one per level', async () => {
    const bed = testBed();
    const connection = await NativeConnection.connect({ address: bed.temporal.address, plugins: [testPlugin()] });
    const taskQueue = `tq-${randomUUID()}`;
    try {
      const worker = await Worker.create({ connection, namespace: bed.temporal.namespace, taskQueue, workflowBundle: bed.workflowBundle });
      await within(
        worker.runUntil(async () => {
          assert.equal((await createServer(bed.client, bed.serverConfig('client_secret_basic'), { taskQueue })).status, 'OK');
          assert.deepEqual(await activityPollers(bed, tokenRequestTaskQueue(tokenRequestTaskQueue(taskQueue))), []);
        }),
        60_000,
        'the worker run',
      );
    } finally {
      await connection.close();
    }
  });
});
