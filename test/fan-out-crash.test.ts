import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer, listDependents } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { probeStatusQuery, type dependentProbe } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { registerMadeUpDependents } from './support/made-up-dependents';
import { testBed } from './support/test-bed';
import { startTestWorkerProcess } from './support/test-worker-processes';
import type { WorkerProcess } from './support/worker-processes';

/** Dependents told before the crash, and as many listed after the made-up ones, which the crash keeps untold. */
const PROBES_EACH_SIDE = 5;
/**
 * Told one at a time, so that the fan-out is still among them when the test kills its worker: at
 * about a millisecond a signal here, seconds of signalling stand between the two sets of probes.
 */
const MADE_UP_DEPENDENTS = 5_000;
const { EventType } = temporal.api.enums.v1;

describe('a worker that crashes in the middle of a fan-out', () => {
  it('leaves no dependent untold: Temporal retries the fan-out on the worker left, which tells every one', async function () {
    this.timeout(240_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const serverQueue = `fan-out-crash-${randomUUID()}`;
    const workers: WorkerProcess[] = [];
    try {
      const first = await startTestWorkerProcess(bed.temporal, serverQueue, { fanOutSignalsInFlight: 1 });
      workers.push(first);
      const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
      assert.equal((await createServer(bed.client, config, { taskQueue: serverQueue })).status, 'OK');
      const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));

      await bed.withWorker(async (probeQueue) => {
        const startProbes = async (): Promise<WorkflowHandle<typeof dependentProbe>[]> => {
          const probes = await Promise.all(
            Array.from({ length: PROBES_EACH_SIDE }, () =>
              bed.client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue: probeQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }),
            ),
          );
          await eventually(async () => ((await statusesOf(probes)).every((status) => status === 'OK') ? true : undefined), {
            what: 'the probes registered and told OK',
            timeoutMs: 60_000,
          });
          return probes;
        };
        // The server tells its dependents in the order they registered.
        const toldBeforeCrash = await startProbes();
        await registerMadeUpDependents(
          server,
          Array.from({ length: MADE_UP_DEPENDENTS }, () => `made-up-${randomUUID()}`),
        );
        const untoldAtCrash = await startProbes();
        assert.equal((await listDependents(bed.client, config.name)).length, 2 * PROBES_EACH_SIDE + MADE_UP_DEPENDENTS);

        tokenEndpoint.break();
        assert.equal((await authorizeServer(bed.client, config.name)).status, 'Error');
        await eventually(async () => ((await statusesOf(toldBeforeCrash)).every((status) => status === 'Error') ? true : undefined), {
          what: 'the first probes told of the disable',
          timeoutMs: 60_000,
          intervalMs: 10,
        });
        await first.crash();
        assert.deepEqual(await statusesOf(untoldAtCrash), Array(PROBES_EACH_SIDE).fill('OK'), 'the fan-out had reached the last probes before the crash');

        const second = await startTestWorkerProcess(bed.temporal, serverQueue);
        workers.push(second);
        // The crashed attempt stops heartbeating: Temporal times it out and retries it on the worker left.
        await eventually(async () => ((await statusesOf(untoldAtCrash)).every((status) => status === 'Error') ? true : undefined), {
          what: 'the last probes told of the disable after the crash',
          timeoutMs: 150_000,
          intervalMs: 500,
        });
        assert.deepEqual(await statusesOf(toldBeforeCrash), Array(PROBES_EACH_SIDE).fill('Error'));
        // The retry's result reached the server: it forgot the made-up dependents, which no workflow has.
        await eventually(async () => ((await listDependents(bed.client, config.name)).length === 2 * PROBES_EACH_SIDE ? true : undefined), {
          what: 'the made-up dependents forgotten',
          timeoutMs: 60_000,
          intervalMs: 500,
        });
        const fanOut = await completedFanOut(server);
        assert.ok(fanOut.attempt >= 2, `the fan-out completed on attempt ${fanOut.attempt}`);
        // The fan-out runs on the token-request worker beside the process's worker, which names itself after it.
        assert.equal(fanOut.identity, `${second.identity} token requests`, 'the worker left completed the fan-out');

        await Promise.all([...toldBeforeCrash, ...untoldAtCrash].map((probe) => probe.signal('finish')));
      });
    } finally {
      await Promise.all(workers.map((worker) => worker.kill()));
      await tokenEndpoint.close();
    }
  });
});

function statusesOf(probes: readonly WorkflowHandle<typeof dependentProbe>[]): Promise<string[]> {
  return Promise.all(probes.map((probe) => probe.query(probeStatusQuery)));
}

/** The attempt and worker that completed the server's one fan-out activity, from its history. */
async function completedFanOut(server: WorkflowHandle): Promise<{ attempt: number; identity: string }> {
  const events = (await server.fetchHistory()).events ?? [];
  const scheduled = events.filter(
    (event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'tellOAuthDependents',
  );
  assert.equal(scheduled.length, 1, 'fan-out activities scheduled');
  const completed = events.find(
    (event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled[0]!.eventId),
  );
  const startedEventId = String(completed?.activityTaskCompletedEventAttributes?.startedEventId);
  const started = events.find((event) => String(event.eventId) === startedEventId)?.activityTaskStartedEventAttributes;
  if (!completed || !started) throw new Error('the fan-out activity did not complete');
  return { attempt: started.attempt ?? 0, identity: started.identity ?? '' };
}
