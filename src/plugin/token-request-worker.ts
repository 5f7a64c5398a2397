import { Worker } from '@temporalio/worker';
import type { ServerWorkflowActivities } from '../activities';
import { tokenRequestTaskQueue } from '../contract/definitions';

/** Token requests and fan-outs are few (one per server per token lifetime or change) but each may wait out a slow endpoint. */
const TOKEN_REQUEST_SLOTS = 20;

type Outcome = { failed: false } | { failed: true; error: unknown };

function outcomeOf(run: Promise<void>): Promise<Outcome> {
  return run.then(
    () => ({ failed: false }),
    (error: unknown) => ({ failed: true, error }),
  );
}

function stop(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}

/**
 * Runs `worker` together with a worker of its own for the token requests of the server workflows
 * on its task queue. The main worker starts first and at once, as its caller expects; when either
 * worker ends, the other is shut down, and the first failure is what the caller sees.
 */
export async function runWithTokenRequestWorker(
  worker: Worker,
  next: (worker: Worker) => Promise<void>,
  activities: ServerWorkflowActivities,
): Promise<void> {
  const connection = worker.connection;
  if (!connection) return next(worker);
  const main = outcomeOf(next(worker));
  let tokenWorker: Worker;
  try {
    tokenWorker = await Worker.create({
      connection,
      namespace: worker.options.namespace,
      taskQueue: tokenRequestTaskQueue(worker.options.taskQueue),
      identity: `${worker.options.identity} token requests`,
      dataConverter: worker.options.dataConverter,
      interceptors: { activity: worker.options.interceptors.activity },
      shutdownGraceTime: worker.options.shutdownGraceTimeMs,
      shutdownForceTime: worker.options.shutdownForceTimeMs,
      activities,
      maxConcurrentActivityTaskExecutions: TOKEN_REQUEST_SLOTS,
    });
  } catch (error) {
    stop(worker);
    const mainOutcome = await main;
    throw mainOutcome.failed ? mainOutcome.error : error;
  }
  const token = outcomeOf(tokenWorker.run());
  void main.then(() => stop(tokenWorker));
  void token.then(() => stop(worker));
  const [mainOutcome, tokenOutcome] = await Promise.all([main, token]);
  if (mainOutcome.failed) throw mainOutcome.error;
  if (tokenOutcome.failed) throw tokenOutcome.error;
}
