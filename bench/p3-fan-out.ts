import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer } from '../src';
import { dependentsQuery, serverWorkflowId } from '../src/contract/definitions';
import { startBreakableTokenEndpoint } from '../test/support/breakable-token-endpoint';
import { busyActivities } from '../test/support/busy-activities';
import { eventually } from '../test/support/eventually';
import type { BenchBed } from './bed';
import type { BenchOptions } from './options';
import { inLanes, range } from './lanes';
import { interleavedRounds, median, ratioOfRounds, rounded, type Figure } from './report';
import { wakeSignal, type disableWatcher, type signalWaiter } from './workflows';

/** Workflows started at once while setting a round up (not measured). */
const STARTS_IN_FLIGHT = 200;
const SETTLE_POLL_MS = 500;
/** Started, task scheduled, started, completed. */
const FIRST_TASK_COMPLETED_EVENTS = 4;

/**
 * P3: from the admin's authorize that disables a server (its token endpoint is down) until every
 * one of N dependents has heard, ÷ a client signalling N waiting workflows all at once until every
 * one has ended; interleaved rounds, one figure per size of N. Also the server's history events per
 * disable.
 */
export async function fanOut(bed: BenchBed, options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of options.p3Dependents.split(',').map(Number)) figures.push(await fanOutOf(bed, size, options.rounds));
  return figures;
}

async function fanOutOf(bed: BenchBed, dependents: number, rounds: number): Promise<Figure> {
  const benchClient = await bed.registerClient();
  const endpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
  const eventsPerDisable: number[] = [];
  const phases: FanOutPhases[] = [];
  try {
    const measured = await bed.withWorker((taskQueue) =>
      interleavedRounds(
        rounds,
        async () => {
          endpoint.repair();
          const config = bed.serverConfig(benchClient, { accessTokenUrl: endpoint.url, maxRetryAttempts: 1 });
          if ((await createServer(bed.client, config, { taskQueue })).status !== 'OK') throw new Error('P3: the server did not reach OK');
          const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));
          const watchers = await startAll(dependents, () =>
            bed.client.workflow.start<typeof disableWatcher>('disableWatcher', { taskQueue, workflowId: `p3-watcher-${randomUUID()}`, args: [config.name] }),
          );
          await eventually(async () => (await server.query(dependentsQuery)).length === dependents, {
            // Generous: a busy machine registers slowly, and a figure lost to a deadline costs every round before it.
            timeoutMs: 120_000 + dependents * 100,
            intervalMs: SETTLE_POLL_MS,
            what: `${dependents} dependents registered`,
          });
          // Registered is not yet idle: each watcher still has the task that reads its registration's result.
          await allIdle(watchers);
          const before = await settledHistoryLength(server);
          endpoint.break();
          const startedAt = Date.now();
          await authorizeServer(bed.client, config.name);
          await Promise.all(watchers.map((watcher) => watcher.result()));
          const heardAt = Date.now();
          eventsPerDisable.push((await settledHistoryLength(server)) - before);
          phases.push(await fanOutPhases(server, before, startedAt, heardAt));
          process.stderr.write(`[bench] P3 ${dependents}: disable → all heard ${rounded((heardAt - startedAt) / 1000)} s\n`);
          return (heardAt - startedAt) / 1000;
        },
        async () => {
          const waiters = await startAll(dependents, () =>
            bed.client.workflow.start<typeof signalWaiter>('signalWaiter', { taskQueue, workflowId: `p3-waiter-${randomUUID()}` }),
          );
          // As idle as the registered dependents: the signals must not queue behind the waiters' first tasks.
          await allIdle(waiters);
          const started = performance.now();
          await Promise.all(waiters.map((waiter) => waiter.signal(wakeSignal)));
          // Only then wait for the ends: long polls opened beside the signals would hold the connection's streams.
          await Promise.all(waiters.map((waiter) => waiter.result()));
          const seconds = (performance.now() - started) / 1000;
          process.stderr.write(`[bench] P3 ${dependents}: client signalling all → all ended ${rounded(seconds)} s\n`);
          return seconds;
        },
      ),
    );
    const figure = ratioOfRounds(measured);
    const events = median(eventsPerDisable);
    return {
      bench: 'P3',
      ...figure,
      unit: 's',
      goal: '≤ 1.1',
      args: `--p3-dependents ${dependents}`,
      summary:
        `disable → ${dependents} dependents have heard ${figure.value} s ÷ a client signalling all ${dependents} at once ${figure.baseline} s = ${figure.ratio}; ` +
        `the server's history grows by ${events} events per disable (${rounds} interleaved rounds, medians; per-round ratios ${figure.rounds.map((round) => (round as { ratio: number }).ratio).join(', ')}); ` +
        `where the time went, medians in s: ${describePhases(phases)}`,
      details: { dependents, serverEventsPerDisable: rounded(events), serverEventsPerDisableRounds: eventsPerDisable, phaseSeconds: phases },
    };
  } finally {
    await endpoint.close();
  }
}

function startAll<T extends WorkflowHandle>(count: number, start: () => Promise<T>): Promise<T[]> {
  return inLanes(range(count), STARTS_IN_FLIGHT, start);
}

/** Waits until every workflow has run its first task and waits for nothing but a signal: no workflow task, no activity. */
async function allIdle(handles: readonly WorkflowHandle[]): Promise<void> {
  await inLanes(handles, STARTS_IN_FLIGHT, (handle) =>
    eventually(
      async () => {
        const { raw, historyLength } = await handle.describe();
        return !raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0 && historyLength >= FIRST_TASK_COMPLETED_EVENTS;
      },
      { timeoutMs: 120_000, intervalMs: SETTLE_POLL_MS, what: `${handle.workflowId} to wait idle` },
    ),
  );
}

/** The server's history length once it has nothing left to do: no workflow task, no activity (but a refresh waiting for its time), and no new event for a poll. */
async function settledHistoryLength(server: WorkflowHandle): Promise<number> {
  let previous = -1;
  return eventually(
    async () => {
      const { historyLength, raw } = await server.describe();
      const idle = !raw.pendingWorkflowTask && busyActivities(raw.pendingActivities) === 0 && historyLength === previous;
      previous = historyLength;
      return idle ? historyLength : undefined;
    },
    { timeoutMs: 120_000, intervalMs: SETTLE_POLL_MS, what: "the server's history to settle" },
  );
}

/**
 * Where a disable's time goes, in seconds, from the server's own history: until the fan-out
 * activities were scheduled (the update, the failed token request, the workflow task), until a
 * worker picked the first up, until the last had signalled every dependent, and until the last
 * dependent had run the task that heard it.
 */
interface FanOutPhases {
  disable: number;
  pickUp: number;
  signalling: number;
  lastHeard: number;
}

async function fanOutPhases(server: WorkflowHandle, fromEvent: number, startedAt: number, heardAt: number): Promise<FanOutPhases> {
  const events = ((await server.fetchHistory()).events ?? []).slice(fromEvent);
  const timeOf = (event: (typeof events)[number]) => Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
  const scheduled = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tellOAuthDependents');
  const fanOutIds = new Set(scheduled.map((event) => Number(event.eventId)));
  const ofFanOut = (scheduledEventId: unknown) => fanOutIds.has(Number(scheduledEventId));
  const started = events.filter((event) => ofFanOut(event.activityTaskStartedEventAttributes?.scheduledEventId)).map(timeOf);
  const completed = events.filter((event) => ofFanOut(event.activityTaskCompletedEventAttributes?.scheduledEventId)).map(timeOf);
  const firstScheduled = Math.min(...scheduled.map(timeOf));
  const seconds = (ms: number) => rounded(ms / 1000);
  return {
    disable: seconds(firstScheduled - startedAt),
    pickUp: seconds(Math.min(...started) - firstScheduled),
    signalling: seconds(Math.max(...completed) - Math.min(...started)),
    lastHeard: seconds(heardAt - Math.max(...completed)),
  };
}

function describePhases(phases: readonly FanOutPhases[]): string {
  const of = (key: keyof FanOutPhases) => rounded(median(phases.map((phase) => phase[key])));
  return `disable → fan-out scheduled ${of('disable')}, picked up ${of('pickUp')}, signalling ${of('signalling')}, last dependent heard ${of('lastHeard')} after`;
}
