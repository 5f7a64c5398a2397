import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer } from '../src';
import { dependentsQuery, serverWorkflowId } from '../src/contract/definitions';
import { ensureSearchAttributes } from '../src/dev-server/temporal-environment';
import { startBreakableTokenEndpoint } from '../test/support/breakable-token-endpoint';
import { busyActivities } from '../test/support/busy-activities';
import { eventually } from '../test/support/eventually';
import type { BenchBed } from './bed';
import type { BenchOptions } from './options';
import { inLanes, range } from './lanes';
import { interleavedRounds, median, ratioOfRounds, rounded, type Figure } from './report';
import { P3_IDLE_ROUND, wakeSignal, type disableWatcher, type signalWaiter } from './workflows';

/** Workflows started at once while setting a round up (not measured). */
const STARTS_IN_FLIGHT = 200;
const SETTLE_POLL_MS = 500;

/**
 * P3: from the admin's authorize that disables a server (its token endpoint is down) until every
 * one of N dependents has heard, ÷ a client signalling N waiting workflows all at once until every
 * one has ended; interleaved rounds, one figure per size of N. Also the server's history events per
 * disable.
 */
export async function fanOut(bed: BenchBed, options: BenchOptions): Promise<Figure[]> {
  await ensureSearchAttributes(bed.temporal.connection, bed.temporal.namespace, [P3_IDLE_ROUND], () => undefined);
  const figures: Figure[] = [];
  for (const size of options.p3Dependents.split(',').map(Number)) figures.push(await fanOutOf(bed, size, options));
  return figures;
}

async function fanOutOf(bed: BenchBed, dependents: number, { rounds, p3CachedWorkflows }: BenchOptions): Promise<Figure> {
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
          const lap = setupLaps(`P3 ${dependents} watchers`);
          const round = randomUUID();
          await startAll(dependents, () =>
            bed.client.workflow.start<typeof disableWatcher>('disableWatcher', { taskQueue, workflowId: `p3-watcher-${randomUUID()}`, args: [config.name, round] }),
          );
          lap('started');
          // Registered and idle: each watcher writes its round in the task that reads its registration's result.
          await allIdle(bed, round, dependents);
          lap('registered and idle');
          const registered = (await server.query(dependentsQuery)).length;
          if (registered !== dependents) throw new Error(`P3: the server lists ${registered} dependents, not ${dependents}`);
          const before = await settledHistoryLength(server);
          endpoint.break();
          const startedAt = Date.now();
          await authorizeServer(bed.client, config.name);
          const heardAt = await lastEnded(bed, round, dependents);
          eventsPerDisable.push((await settledHistoryLength(server)) - before);
          const phase = await fanOutPhases(server, before, startedAt, heardAt);
          phases.push(phase);
          process.stderr.write(`[bench] P3 ${dependents}: disable → all heard ${rounded((heardAt - startedAt) / 1000)} s (${JSON.stringify(phase)})\n`);
          return (heardAt - startedAt) / 1000;
        },
        async () => {
          const lap = setupLaps(`P3 ${dependents} waiters`);
          const round = randomUUID();
          const waiters = await startAll(dependents, () =>
            bed.client.workflow.start<typeof signalWaiter>('signalWaiter', { taskQueue, workflowId: `p3-waiter-${randomUUID()}`, args: [round] }),
          );
          lap('started');
          // As idle as the registered dependents: the signals must not queue behind the waiters' first tasks.
          await allIdle(bed, round, dependents);
          lap('idle');
          const startedAt = Date.now();
          // A failed signal is sent again, as the fan-out's activity sends its dependents again: at 10,000 at once one failed.
          await Promise.all(waiters.map((waiter) => waiter.signal(wakeSignal).catch(() => waiter.signal(wakeSignal))));
          const seconds = ((await lastEnded(bed, round, dependents)) - startedAt) / 1000;
          process.stderr.write(`[bench] P3 ${dependents}: client signalling all → all ended ${rounded(seconds)} s\n`);
          return seconds;
        },
      ),
      { maxCachedWorkflows: p3CachedWorkflows },
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
      details: { dependents, cachedWorkflows: p3CachedWorkflows, serverEventsPerDisable: rounded(events), serverEventsPerDisableRounds: eventsPerDisable, phaseSeconds: phases },
    };
  } finally {
    await endpoint.close();
  }
}

/** Setting a round up is not measured, but its phases are printed: where a long setup spends its time. */
function setupLaps(what: string): (phase: string) => void {
  let since = performance.now();
  return (phase) => {
    const now = performance.now();
    process.stderr.write(`[bench] ${what} setup: ${phase} in ${rounded((now - since) / 1000)} s\n`);
    since = now;
  };
}

function startAll<T extends WorkflowHandle>(count: number, start: () => Promise<T>): Promise<T[]> {
  return inLanes(range(count), STARTS_IN_FLIGHT, start);
}

/**
 * Waits until all `count` workflows of a round are idle: each has completed the task that wrote its
 * round, and waits for nothing but a signal (no workflow task, no activity). One visibility count a
 * poll, whatever the count.
 */
async function allIdle(bed: BenchBed, round: string, count: number): Promise<void> {
  const query = `${P3_IDLE_ROUND.name} = '${round}' AND ExecutionStatus = 'Running'`;
  await eventually(async () => (await bed.client.workflow.count(query)).count === count, {
    // Generous: a busy machine registers slowly, and a figure lost to a deadline costs every round before it.
    timeoutMs: 120_000 + count * 100,
    intervalMs: SETTLE_POLL_MS,
    what: `${count} workflows of round ${round} to wait idle`,
  });
}

/**
 * When the last of a round's `count` workflows ended, once all have: their close times from
 * visibility, polled by one count, so that no long poll per workflow (10,000 of them failed) competes
 * with the signals being measured. The same on both sides of the ratio.
 */
async function lastEnded(bed: BenchBed, round: string, count: number): Promise<number> {
  const query = `${P3_IDLE_ROUND.name} = '${round}' AND ExecutionStatus = 'Completed'`;
  await eventually(async () => (await bed.client.workflow.count(query)).count === count, {
    timeoutMs: 120_000 + count * 100,
    intervalMs: SETTLE_POLL_MS,
    what: `${count} workflows of round ${round} to end`,
  });
  let last = 0;
  for await (const execution of bed.client.workflow.list({ query, pageSize: 1_000 })) last = Math.max(last, execution.closeTime?.getTime() ?? Number.NaN);
  return last;
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
