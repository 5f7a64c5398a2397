import { Worker } from '@temporalio/worker';
import type { TokenRequestActivities } from '../activities/acquire-token';
import { tokenRequestTaskQueue } from '../workflows/definitions';

/** Token requests are few (one per server per token lifetime) but each may wait out a slow endpoint. */
const TOKEN_REQUEST_SLOTS = 20;

/**
 * Runs `worker` together with a worker of its own for the token requests of the server workflows
 * on its task queue, and stops both together: when either ends, the other is shut down.
 */
export async function runWithTokenRequestWorker(
  worker: Worker,
  next: (worker: Worker) => Promise<void>,
  activities: TokenRequestActivities,
): Promise<void> {
  const connection = worker.connection;
  if (!connection) return next(worker);
  const tokenWorker = await Worker.create({
    connection,
    namespace: worker.options.namespace,
    taskQueue: tokenRequestTaskQueue(worker.options.taskQueue),
    identity: `${worker.options.identity} token requests`,
    dataConverter: worker.options.dataConverter,
    activities,
    maxConcurrentActivityTaskExecutions: TOKEN_REQUEST_SLOTS,
  });
  const tokenWorkerFailure = tokenWorker.run().then(
    () => undefined,
    (error: unknown) => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      return { error };
    },
  );
  let failure: { error: unknown } | undefined;
  try {
    await next(worker);
  } finally {
    if (tokenWorker.getState() === 'RUNNING') tokenWorker.shutdown();
    failure = await tokenWorkerFailure;
  }
  if (failure) throw failure.error;
}
