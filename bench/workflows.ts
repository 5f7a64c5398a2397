/** Workflows of the benchmark suite (npm run bench). */
import { condition, defineSignal, proxyActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { OAuthServerDependency, webServiceCall, type WebServiceCallInput } from '../src/workflow';
import { inLanes, range } from './lanes';
import { P3_HEARD, P3_HEARD_AT_MS, wokenBy } from './p3-marks';

/** P3's baseline: a client wakes every waiter with a number that grows with every wake (two a round). */
export const wakeSignal = defineSignal<[number]>('wake');

/**
 * The bench's plain activity: the same undici GET as webServiceCall's, with a token the worker
 * already holds, returning what a caller needs (status and parsed body).
 */
export interface BareActivities {
  bareGet(url: string): Promise<{ status: number; body: unknown }>;
}

export interface CallLoadInput {
  /** 'bare' runs `bareGet` on a worker without the plugin; 'plugin' runs webServiceCall with its defaults. */
  via: 'bare' | 'plugin';
  call: WebServiceCallInput;
  /** Calls made in all. */
  calls: number;
  /** Calls in flight at any time. */
  concurrency: number;
  /** Where the activities run, when not on this workflow's own task queue. */
  activityTaskQueue?: string;
}

/** What became of the calls of one load: a tally of HTTP statuses and failure messages. */
export type CallTally = Record<string, number>;

/**
 * Makes `calls` calls, `concurrency` at a time, each a single attempt (a retry would hide a
 * refusal), and tallies their outcomes rather than failing on the first.
 */
export async function callLoad({ via, call, calls, concurrency, activityTaskQueue }: CallLoadInput): Promise<CallTally> {
  const once = single(via, call, activityTaskQueue);
  const tally: CallTally = {};
  await inLanes(range(calls), concurrency, async () => {
    const outcome = await once().then(String, (error: unknown) => describe(error));
    tally[outcome] = (tally[outcome] ?? 0) + 1;
  });
  return tally;
}

export interface CallWavesInput extends Omit<CallLoadInput, 'via' | 'concurrency'> {
  /** Waves of `calls` concurrent calls, one every `intervalMs`, until `durationMs` has passed. */
  intervalMs: number;
  durationMs: number;
}

/** Steady traffic through webServiceCall over several token lifetimes: every wave is a burst of concurrent calls. */
export async function callWaves({ call, calls, activityTaskQueue, intervalMs, durationMs }: CallWavesInput): Promise<CallTally> {
  const tally: CallTally = {};
  for (let elapsed = 0; elapsed < durationMs; elapsed += intervalMs) {
    const [wave] = await Promise.all([callLoad({ via: 'plugin', call, calls, concurrency: calls, activityTaskQueue }), sleep(intervalMs)]);
    for (const [outcome, count] of Object.entries(wave)) tally[outcome] = (tally[outcome] ?? 0) + count;
  }
  return tally;
}

function single(via: CallLoadInput['via'], call: WebServiceCallInput, taskQueue: string | undefined): () => Promise<number> {
  const options = { retry: { maximumAttempts: 1 }, ...(taskQueue ? { taskQueue } : {}) };
  if (via === 'plugin') return async () => (await webServiceCall(call, options)).status;
  const { bareGet } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute', ...options });
  return async () => (await bareGet(call.url)).status;
}

function describe(error: unknown): string {
  const messages: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) messages.push(cause.message);
  return messages.join(': ') || String(error);
}

function markHeard(heard: string): void {
  upsertSearchAttributes([
    { key: P3_HEARD, value: heard },
    { key: P3_HEARD_AT_MS, value: String(Date.now()) },
  ]);
}

/**
 * A dependent that lives across P3's rounds: it marks every change of its server's status it hears
 * (OK after registering, Error on each disable, OK on each authorize after it) until it is terminated.
 */
export async function disableWatcher(server: string): Promise<void> {
  const dependency = await OAuthServerDependency.register(server);
  for (;;) {
    const heard = dependency.availability.status;
    markHeard(heard);
    await condition(() => dependency.availability.status !== heard);
  }
}

/** The baseline: a workflow that marks each wake signal it hears, until it is terminated. */
export async function signalWaiter(): Promise<void> {
  let woken: number | undefined;
  setHandler(wakeSignal, (wake) => {
    // A signal sent again (the bench re-sends one that failed) may arrive after a newer one.
    woken = Math.max(wake, woken ?? wake);
  });
  for (;;) {
    const heard = woken;
    markHeard(wokenBy(heard));
    await condition(() => woken !== heard);
  }
}
