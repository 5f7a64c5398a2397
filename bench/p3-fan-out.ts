import { randomUUID } from 'node:crypto';
import { Client, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { authorizeServer, createServer, type OAuthServerConfigInput } from '../src';
import { dependentsQuery, serverWorkflowId } from '../src/contract/definitions';
import { ensureSearchAttributes } from '../src/dev-server/temporal-environment';
import { startBreakableTokenEndpoint } from '../test/support/breakable-token-endpoint';
import { busyActivities } from '../test/support/busy-activities';
import { eventually } from '../test/support/eventually';
import type { BenchBed } from './bed';
import type { BenchOptions } from './options';
import { inLanes, range } from './lanes';
import { eventTimeMs } from '../test/support/event-time';
import { cpuMeter, type CpuSpent } from './metrics';
import { interleavedRounds, median, medianOf, ratioOfRounds, rounded, type Figure } from './report';
import { P3_HEARD, P3_HEARD_AT_MS, P3_POPULATION, wokenBy } from './p3-marks';
import { dependentTaskTimes, sampleOf, type DependentTaskTimes } from './p3-task-times';
import { wakeSignal, type disableWatcher, type signalWaiter } from './workflows';

/** Workflows started (or terminated) at once while setting a size up or ending it (not measured). */
const STARTS_IN_FLIGHT = 200;
const SETTLE_POLL_MS = 500;
/**
 * How long a woken workflow's task may wait for the worker that caches it. At the SDK's default,
 * 10 s, a round of 1,000 on 2 cores (9-10 s) sits at the edge: past it a task times out
 * (SCHEDULE_TO_START, seen in a waiter's history after a round of 14.5 s), is moved to the shared
 * queue and replayed, which slows the rest of the round on whichever side crossed it. Both sides
 * share the worker.
 */
const STICKY_TASK_WAIT = '15 minutes';
/**
 * Rounds of each side run before the measured ones, and not kept: the first disable after setting
 * a size up took 1.5-2 times the median of the next ones (15.1, 15.1, 17.7, 21.7 s where the rest
 * were 9-12 s at 1,000), at every quantile of the dependents, while the setup's work was still being
 * digested; and it always fell on the plugin's side, which goes first.
 */
const WARM_UP_ROUNDS = 1;
/**
 * The server's tokens outlive any run: a refresh is not what P3 measures, and the server is allowed
 * one attempt (so that a broken endpoint disables it at once), so a refresh that times out while
 * 10,000 workflows are being set up on two cores disables it before the first round (the likely
 * end of a 10,000 run whose watchers had all heard OK at setup and none at the first round).
 */
const TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * P3: from the admin's authorize that disables a server (its token endpoint is down) until every
 * one of N dependents has heard, ÷ a client signalling N waiting workflows all at once until every
 * one has heard; interleaved rounds, one figure per size of N. Also the server's history events per
 * disable. One population per size (the server, N watchers registered as its dependents, N waiters)
 * serves every round: after each disable the server is authorized again and its watchers hear OK,
 * so that the next round starts from the same state.
 */
export async function fanOut(bed: BenchBed, options: BenchOptions): Promise<Figure[]> {
  await ensureSearchAttributes(bed.temporal.connection, bed.temporal.namespace, [P3_POPULATION, P3_HEARD, P3_HEARD_AT_MS], () => undefined);
  const figures: Figure[] = [];
  for (const size of options.p3Dependents.split(',').map(Number)) figures.push(await fanOutOf(bed, size, options));
  return figures;
}

async function fanOutOf(bed: BenchBed, dependents: number, { rounds, p3CachedWorkflows, p3BaselineConnection }: BenchOptions): Promise<Figure> {
  const benchClient = await bed.registerClient(TOKEN_TTL_SECONDS);
  const endpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
  const population: Population = { id: randomUUID(), dependents, started: [] };
  const eventsPerDisable: number[] = [];
  const phases: FanOutPhases[] = [];
  const watcherTasks: DependentTaskTimes[] = [];
  const waiterTasks: DependentTaskTimes[] = [];
  const watcherCpu: CpuSpent[] = [];
  const waiterCpu: CpuSpent[] = [];
  try {
    const measured = await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig(benchClient, { accessTokenUrl: endpoint.url, maxRetryAttempts: 1 });
        const { server, watchers, waiters: waitersOfBed } = await setUp(bed, population, config, taskQueue);
        const waiters = p3BaselineConnection === 'worker' ? onWorkerConnection(bed, waitersOfBed) : waitersOfBed;
        // Both populations live on one worker: past its cache, each side's round finds its workflows evicted by the other's.
        const workflows = population.started.length;
        if (workflows > p3CachedWorkflows) {
          process.stderr.write(
            `[bench] P3 ${dependents}: ${workflows} workflows, the worker caches ${p3CachedWorkflows}: each side replays its evicted workflows (--p3-cached-workflows ${workflows} keeps them all)\n`,
          );
        }
        let waitersHeard = wokenBy(undefined);
        return interleavedRounds(
          rounds,
          async (round) => {
            await allHeard(bed, population, 'OK');
            const registered = (await server.query(dependentsQuery)).length;
            if (registered !== dependents) throw new Error(`P3: the server lists ${registered} dependents, not ${dependents}`);
            const before = await settledHistoryLength(server);
            endpoint.break();
            const cpu = await cpuMeter(bed.devServerPid);
            const startedAt = Date.now();
            await authorizeServer(bed.client, config.name);
            const heardAt = await lastHeard(bed, population, 'Error');
            eventsPerDisable.push((await settledHistoryLength(server)) - before);
            const cpuSpent = await cpu();
            const phase = await fanOutPhases(server, before, startedAt, heardAt);
            const tasks = await dependentTaskTimes(sampleOf(watchers), startedAt);
            if (round >= WARM_UP_ROUNDS) {
              phases.push(phase);
              watcherTasks.push(tasks);
              watcherCpu.push(cpuSpent);
            }
            process.stderr.write(
              `[bench] P3 ${dependents}${warmingUp(round)}: disable → all heard ${rounded((heardAt - startedAt) / 1000)} s (${JSON.stringify(phase)}; a watcher's task, medians: ${JSON.stringify(tasks)}; CPU s until the server settled: ${JSON.stringify(cpuSpent)})\n`,
            );
            // Not measured: the next round's disable must find the server OK and its watchers idle.
            const lap = laps(`P3 ${dependents} watchers`, 'after the round');
            endpoint.repair();
            if ((await authorizeServer(bed.client, config.name)).status !== 'OK') throw new Error('P3: the server did not reach OK again');
            await allHeard(bed, population, 'OK');
            lap('authorized again, all heard OK');
            return (heardAt - startedAt) / 1000;
          },
          async (round) => {
            // As idle as the watchers: the signals must not queue behind a task of the last round.
            await allHeard(bed, population, waitersHeard);
            const cpu = await cpuMeter(bed.devServerPid);
            const startedAt = Date.now();
            const measuredWake = 2 * round;
            waitersHeard = wokenBy(measuredWake);
            // Watched from the start, as the plugin's side is from its authorize on: the visibility counts load the dev server while the signals go out on both sides.
            const [heardAt, signalling] = await Promise.all([
              lastHeard(bed, population, waitersHeard),
              wakeAll(waiters, measuredWake).then(() => (Date.now() - startedAt) / 1000),
            ]);
            const seconds = (heardAt - startedAt) / 1000;
            const cpuSpent = await cpu();
            const tasks = await dependentTaskTimes(sampleOf(waiters), startedAt);
            if (round >= WARM_UP_ROUNDS) {
              waiterTasks.push(tasks);
              waiterCpu.push(cpuSpent);
            }
            process.stderr.write(
              `[bench] P3 ${dependents}${warmingUp(round)}: client signalling all → all heard ${rounded(seconds)} s (signalling ${rounded(signalling)}, last heard ${rounded(seconds - signalling)} after; a waiter's task, medians: ${JSON.stringify(tasks)}; CPU s until all heard: ${JSON.stringify(cpuSpent)})\n`,
            );
            // Not measured: a watcher hears two messages a round (the disable, then OK), and so must a waiter.
            // Evicted workflows are replayed from their histories, and one side's growing faster than the
            // other's made the plugin's rounds slower round after round (at 10,000: +35 s a round).
            const lap = laps(`P3 ${dependents} waiters`, 'after the round');
            await wakeAll(waiters, measuredWake + 1);
            waitersHeard = wokenBy(measuredWake + 1);
            await allHeard(bed, population, waitersHeard);
            lap('woken again, all heard');
            return seconds;
          },
          { warmUpRounds: WARM_UP_ROUNDS },
        );
      },
      { maxCachedWorkflows: p3CachedWorkflows, stickyQueueScheduleToStartTimeout: STICKY_TASK_WAIT },
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
        `disable → ${dependents} dependents have heard ${figure.value} s ÷ a client signalling all ${dependents} at once${p3BaselineConnection === 'worker' ? " over the worker's connection" : ''} ${figure.baseline} s = ${figure.ratio}; ` +
        `the server's history grows by ${events} events per disable (${rounds} interleaved rounds after ${WARM_UP_ROUNDS} of warm-up, medians; per-round ratios ${figure.rounds.map((round) => (round as { ratio: number }).ratio).join(', ')}); ` +
        `where the time went, medians in s: ${describePhases(phases)}; a dependent's task (signalled, queued, worked): watchers ${describeTasks(watcherTasks)}, waiters ${describeTasks(waiterTasks)}; CPU s per round (dev server, bench process): plugin ${describeCpu(watcherCpu)}, client ${describeCpu(waiterCpu)}`,
      details: { dependents, cachedWorkflows: p3CachedWorkflows, baselineConnection: p3BaselineConnection, serverEventsPerDisable: rounded(events), serverEventsPerDisableRounds: eventsPerDisable, phaseSeconds: phases, watcherTaskSeconds: watcherTasks, waiterTaskSeconds: waiterTasks, watcherCpuSeconds: watcherCpu, waiterCpuSeconds: waiterCpu },
    };
  } finally {
    await endPopulation(population);
    await endpoint.close();
  }
}

/** One size's workflows: `started` holds every one started so far (the server too), to end them however the size ends. */
interface Population {
  id: string;
  dependents: number;
  started: WorkflowHandle[];
}

/**
 * Creates the server (OK), starts its N watchers and N waiters, and waits until every one has
 * marked what it first heard (registered and idle). Not measured, but its phases are printed.
 */
async function setUp(
  bed: BenchBed,
  population: Population,
  config: OAuthServerConfigInput,
  taskQueue: string,
): Promise<{ server: WorkflowHandle; watchers: WorkflowHandle<typeof disableWatcher>[]; waiters: WorkflowHandle<typeof signalWaiter>[] }> {
  const { id, dependents, started } = population;
  if ((await createServer(bed.client, config, { taskQueue })).status !== 'OK') throw new Error('P3: the server did not reach OK');
  const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));
  started.push(server);
  const typedSearchAttributes = [{ key: P3_POPULATION, value: id }];
  const watchersLap = laps(`P3 ${dependents} watchers`, 'setup');
  const watchers = await startAll(started, dependents, () =>
    bed.client.workflow.start<typeof disableWatcher>('disableWatcher', { taskQueue, workflowId: `p3-watcher-${randomUUID()}`, args: [config.name], typedSearchAttributes }),
  );
  watchersLap('started');
  await allHeard(bed, population, 'OK');
  watchersLap('registered and idle');
  const waitersLap = laps(`P3 ${dependents} waiters`, 'setup');
  const waiters = await startAll(started, dependents, () =>
    bed.client.workflow.start<typeof signalWaiter>('signalWaiter', { taskQueue, workflowId: `p3-waiter-${randomUUID()}`, typedSearchAttributes }),
  );
  waitersLap('started');
  await allHeard(bed, population, wokenBy(undefined));
  waitersLap('idle');
  return { server, watchers, waiters };
}

/** Every waiter at once; a failed signal is sent again, as the fan-out's activity sends its dependents again: at 10,000 at once one failed. */
async function wakeAll(waiters: readonly WorkflowHandle<typeof signalWaiter>[], wake: number): Promise<void> {
  await Promise.all(waiters.map((waiter) => waiter.signal(wakeSignal, wake).catch(() => waiter.signal(wakeSignal, wake))));
}

/** The same waiters, signalled over the P3 worker's own connection, as the fan-out activity signals. */
function onWorkerConnection(bed: BenchBed, waiters: readonly WorkflowHandle<typeof signalWaiter>[]): WorkflowHandle<typeof signalWaiter>[] {
  const client = new Client({ connection: bed.temporal.nativeConnection, namespace: bed.temporal.namespace });
  return waiters.map((waiter) => client.workflow.getHandle<typeof signalWaiter>(waiter.workflowId));
}

function warmingUp(round: number): string {
  return round < WARM_UP_ROUNDS ? ' (warm-up, not kept)' : '';
}

/** Unmeasured work is not part of a figure, but its phases are printed: where a long run spends its time. */
function laps(what: string, stage: string): (phase: string) => void {
  let since = performance.now();
  return (phase) => {
    const now = performance.now();
    process.stderr.write(`[bench] ${what} ${stage}: ${phase} in ${rounded((now - since) / 1000)} s\n`);
    since = now;
  };
}

function startAll<T extends WorkflowHandle>(started: WorkflowHandle[], count: number, start: () => Promise<T>): Promise<T[]> {
  return inLanes(range(count), STARTS_IN_FLIGHT, async () => {
    const handle = await start();
    started.push(handle);
    return handle;
  });
}

/**
 * Ends every workflow of a size, so that nothing of it keeps running after the bench. Runs in a
 * `finally`: a failure is printed rather than thrown over the error that may have ended the size.
 */
async function endPopulation({ dependents, started }: Population): Promise<void> {
  const lap = laps(`P3 ${dependents}`, 'end');
  const failures = await inLanes(started, STARTS_IN_FLIGHT, (handle) =>
    handle.terminate('the P3 bench is done with this size').then(
      () => undefined,
      // Already ended is as good as terminated.
      (error: unknown) => (error instanceof WorkflowNotFoundError ? undefined : error instanceof Error ? error.message : 'unknown failure'),
    ),
  );
  const failed = failures.filter((failure) => failure !== undefined);
  lap(`terminated ${started.length - failed.length} of ${started.length} workflows${failed.length > 0 ? ` (first failure: ${failed[0]})` : ''}`);
}

/** The visibility query of a population's running workflows that last heard `heard`. */
function heardQuery({ id }: Population, heard: string): string {
  return `${P3_POPULATION.name} = '${id}' AND ${P3_HEARD.name} = '${heard}' AND ExecutionStatus = 'Running'`;
}

/**
 * Waits until N workflows of the population (all its watchers, or all its waiters) have last heard
 * `heard`: each has completed the task that heard it and waits for nothing but its next message. One
 * visibility count a poll, whatever N, so that no long poll per workflow (10,000 of them failed)
 * competes with the messages being measured. The same on both sides of the ratio.
 */
async function allHeard(bed: BenchBed, population: Population, heard: string): Promise<void> {
  const { dependents } = population;
  await eventually(
    async () => {
      const { count } = await bed.client.workflow.count(heardQuery(population, heard));
      // Thrown rather than returned, so that a timeout says how far it got.
      if (count !== dependents) throw new Error(`the last count was ${count}`);
      return true;
    },
    {
      // Generous: a busy machine registers slowly, and a figure lost to a deadline costs every round before it.
      timeoutMs: 120_000 + dependents * 100,
      intervalMs: SETTLE_POLL_MS,
      what: `${dependents} workflows of P3 population ${population.id} to have heard ${heard}`,
    },
  );
}

/** When the last of N workflows heard `heard`, once all have: the latest start of the tasks that heard it, listed from visibility. */
async function lastHeard(bed: BenchBed, population: Population, heard: string): Promise<number> {
  await allHeard(bed, population, heard);
  let last = 0;
  for await (const execution of bed.client.workflow.list({ query: heardQuery(population, heard), pageSize: 1_000 })) {
    last = Math.max(last, Number(execution.typedSearchAttributes.get(P3_HEARD_AT_MS) ?? Number.NaN));
  }
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
  const scheduled = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'tellOAuthDependents');
  const fanOutIds = new Set(scheduled.map((event) => Number(event.eventId)));
  const ofFanOut = (scheduledEventId: unknown) => fanOutIds.has(Number(scheduledEventId));
  const started = events.filter((event) => ofFanOut(event.activityTaskStartedEventAttributes?.scheduledEventId)).map(eventTimeMs);
  const completed = events.filter((event) => ofFanOut(event.activityTaskCompletedEventAttributes?.scheduledEventId)).map(eventTimeMs);
  const firstScheduled = Math.min(...scheduled.map(eventTimeMs));
  const seconds = (ms: number) => rounded(ms / 1000);
  return {
    disable: seconds(firstScheduled - startedAt),
    pickUp: seconds(Math.min(...started) - firstScheduled),
    signalling: seconds(Math.max(...completed) - Math.min(...started)),
    lastHeard: seconds(heardAt - Math.max(...completed)),
  };
}

function describePhases(phases: readonly FanOutPhases[]): string {
  const of = (key: keyof FanOutPhases) => medianOf(phases, key);
  return `disable → fan-out scheduled ${of('disable')}, picked up ${of('pickUp')}, signalling ${of('signalling')}, last dependent heard ${of('lastHeard')} after`;
}

function describeTasks(rounds: readonly DependentTaskTimes[]): string {
  return `${medianOf(rounds, 'signalled')}, ${medianOf(rounds, 'queued')}, ${medianOf(rounds, 'worked')}`;
}

function describeCpu(rounds: readonly CpuSpent[]): string {
  return `${medianOf(rounds, 'devServer')}, ${medianOf(rounds, 'bench')}`;
}
