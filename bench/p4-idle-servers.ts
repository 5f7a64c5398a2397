import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { authorizeServer, createServer, type OAuthServerConfigInput } from '../src';
import { OAUTH_SERVER_WORKFLOW_TYPE, serverViewQuery, serverWorkflowId, tokenGrantQuery } from '../src/contract/definitions';
import { refreshAt } from '../src/oauth/token-timing';
import { eventually } from '../test/support/eventually';
import type { BenchBed } from './bed';
import { residentMiB } from './metrics';
import type { BenchOptions } from './options';
import { inLanes, range } from './lanes';
import { median, rounded, type Figure } from './report';

const { EventType } = temporal.api.enums.v1;

const QUERIES_IN_FLIGHT = 50;
const OK_ATTEMPTS = 3;
/** A query slower than this counts as timed out, whatever the server would have done. */
const QUERY_TIMEOUT_MS = 10_000;

/** What P4 saw once the worker held a given number of idle servers. */
interface Checkpoint {
  servers: number;
  workerRssMiB?: number;
  devServerRssMiB?: number;
  queryTimeouts: number;
  queryMs: { p50: number; p99: number; max: number };
}

/**
 * P4: idle servers (600 s tokens) added to one worker process whose cache holds far fewer of them,
 * measured at each count of `--p4-servers`: its memory and the dev server's, and a timed tokenGrant
 * query to every server so far (the query webServiceCall depends on; most are answered by
 * replaying a server the cache had evicted). From a few servers beside them with short-lived
 * tokens: the history events each token refresh costs, and how long histories grow before
 * continue-as-new.
 */
export async function idleServers(bed: BenchBed, options: BenchOptions): Promise<Figure> {
  const { p4CreateConcurrency, p4RefreshingServers, p4RefreshTtlSeconds, p4Refreshes, p4CachedWorkflows: cachedWorkflows, p4WorkerHeapMib: heapMib } = options;
  const counts = options.p4Servers.split(',').map(Number).sort((a, b) => a - b);
  const servers = counts.at(-1) ?? 0;
  const idleClient = await bed.registerClient();
  const refreshingClient = await bed.registerClient(p4RefreshTtlSeconds);
  const taskQueue = `p4-${randomUUID()}`;
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${heapMib}`.trim() };
  const [worker] = await bed.startWorkerProcesses(taskQueue, 1, { maxCachedWorkflows: cachedWorkflows, env });
  if (!worker) throw new Error('P4: no worker process');
  try {
    const memoryBefore = await memory(bed, worker.pid);
    // First, so that they refresh while the idle servers are added.
    const { names: refreshing } = await createAll(bed, taskQueue, p4RefreshingServers, p4CreateConcurrency, () => bed.serverConfig(refreshingClient), true);
    const idle: string[] = [];
    let createdInError = 0;
    const checkpoints: Checkpoint[] = [];
    const createdAt = performance.now();
    for (const count of counts) {
      const created = await createAll(bed, taskQueue, count - idle.length, p4CreateConcurrency, () => bed.serverConfig(idleClient));
      idle.push(...created.names);
      createdInError += created.inError;
      const queries = await timeQueries(bed.client, idle);
      // After the queries, which have cycled every server through the cache: the most the worker holds.
      const after = await memory(bed, worker.pid);
      checkpoints.push({ servers: count, workerRssMiB: after.worker, devServerRssMiB: after.devServer, queryTimeouts: queries.timeouts, queryMs: { p50: queries.p50Ms, p99: queries.p99Ms, max: queries.maxMs } });
      process.stderr.write(`[bench] P4 at ${count} servers: worker ${after.worker ?? '?'} MiB, dev server ${after.devServer ?? '?'} MiB, ${queries.timeouts} query timeouts (p99 ${queries.p99Ms} ms)\n`);
    }
    const creationSeconds = (performance.now() - createdAt) / 1000;
    await eventually(
      async () => {
        const serials = await Promise.all(refreshing.map(async (name) => (await bed.client.workflow.getHandle(serverWorkflowId(name)).query(serverViewQuery)).tokenSerial));
        return serials.every((serial) => serial > p4Refreshes);
      },
      { timeoutMs: (p4Refreshes + 2) * p4RefreshTtlSeconds * 1000 + 60_000, intervalMs: 1_000, what: `${p4Refreshes} token refreshes` },
    );
    const eventsPerRefresh = median(await Promise.all(refreshing.map((name) => eventsPerTokenRefresh(bed.client, name))));
    const histories = await longestHistories(bed.client, [...idle, ...refreshing]);
    const first = checkpoints[0];
    const last = checkpoints.at(-1);
    const value = last?.workerRssMiB ?? Number.NaN;
    const baseline = first?.workerRssMiB ?? Number.NaN;
    const timeouts = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.queryTimeouts, 0);
    const queried = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.servers, 0);
    return {
      bench: 'P4',
      ratio: rounded(value / baseline),
      rounds: checkpoints,
      value,
      baseline,
      unit: `worker RSS MiB at ${servers} servers ÷ at ${first?.servers ?? '?'}`,
      goal: 'worker memory bounded by its cache (ratio about 1), ≤ 8 events per refresh, 0 query timeouts',
      summary:
        `idle servers on one worker caching ${cachedWorkflows} workflows (V8 heap limit ${heapMib} MiB): worker RSS ${memoryBefore.worker ?? '?'} MiB with none, ` +
        `${checkpoints.map((checkpoint) => `${checkpoint.workerRssMiB ?? '?'} MiB at ${checkpoint.servers}`).join(', ')}; ` +
        `dev server ${memoryBefore.devServer ?? '?'} → ${checkpoints.map((checkpoint) => checkpoint.devServerRssMiB ?? '?').join(' → ')} MiB; ` +
        `${eventsPerRefresh} history events per token refresh; ${describeHistories(histories, eventsPerRefresh)}; ` +
        `${timeouts} of ${queried} tokenGrant queries timed out or failed (at ${servers}: p50 ${last?.queryMs.p50 ?? '?'} ms, p99 ${last?.queryMs.p99 ?? '?'} ms, max ${last?.queryMs.max ?? '?'} ms); ` +
        `${servers} created in ${rounded(creationSeconds, 1)} s (${createdInError} came up in Error: their first token request failed on the busy machine)`,
      details: {
        servers,
        cachedWorkflows,
        workerHeapMib: heapMib,
        workerRssMiB: { none: memoryBefore.worker, ...Object.fromEntries(checkpoints.map((checkpoint) => [checkpoint.servers, checkpoint.workerRssMiB])) },
        devServerRssMiB: { none: memoryBefore.devServer, ...Object.fromEntries(checkpoints.map((checkpoint) => [checkpoint.servers, checkpoint.devServerRssMiB])) },
        eventsPerRefresh,
        ...histories,
        queryTimeouts: timeouts,
        creationSeconds: rounded(creationSeconds, 1),
        createdInError,
      },
    };
  } finally {
    await worker.kill();
  }
}

/**
 * Temporal suggests continue-as-new at 4,096 events (its default `limit.historyCount.suggestContinueAsNew`),
 * and the server follows at its next quiet moment: a run this short sees it only from servers that
 * refreshed hundreds of times, so the line says when it would come.
 */
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4_096;
const IDLE_TOKEN_LIFETIME_S = 600;

function describeHistories({ longestBeforeContinueAsNew, longestRunning }: { longestBeforeContinueAsNew?: number; longestRunning: number }, eventsPerRefresh: number): string {
  const refreshes = Math.ceil(SUGGEST_CONTINUE_AS_NEW_EVENTS / eventsPerRefresh);
  const days = rounded((refreshes * refreshAt(0, IDLE_TOKEN_LIFETIME_S)) / 86_400, 1);
  const measured = longestBeforeContinueAsNew === undefined ? 'no server continued as new in this run' : `longest history before continue-as-new ${longestBeforeContinueAsNew} events`;
  return `${measured} (longest running ${longestRunning}; Temporal suggests it at ${SUGGEST_CONTINUE_AS_NEW_EVENTS} events: after about ${refreshes} refreshes, ${days} days at ${IDLE_TOKEN_LIFETIME_S} s tokens)`;
}

async function memory(bed: BenchBed, workerPid: number): Promise<{ worker?: number; devServer?: number }> {
  return { worker: await residentMiB(workerPid), devServer: bed.devServerPid === undefined ? undefined : await residentMiB(bed.devServerPid) };
}

/**
 * Creates `count` servers, `inFlight` at a time, and returns their names and how many came up in
 * Error: on a busy machine a first token request can time out, and such a server still counts as
 * an idle one. `mustBeOk` servers are authorized again until they are OK.
 */
async function createAll(bed: BenchBed, taskQueue: string, count: number, inFlight: number, config: () => OAuthServerConfigInput, mustBeOk = false): Promise<{ names: string[]; inError: number }> {
  let inError = 0;
  const names = await inLanes(range(count), inFlight, async () => {
    const server = config();
    let view = await createServer(bed.client, server, { taskQueue });
    for (let attempt = 1; mustBeOk && view.status !== 'OK' && attempt < OK_ATTEMPTS; attempt += 1) view = await authorizeServer(bed.client, server.name);
    if (view.status !== 'OK') {
      if (mustBeOk) throw new Error(`P4: server ${server.name} is ${view.status} after ${OK_ATTEMPTS} attempts`);
      inError += 1;
    }
    return server.name;
  });
  return { names, inError };
}

interface QueryTimes {
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every hundredth latency, so that the JSON line shows the spread without thousands of numbers. */
  sampleMs: number[];
}

async function timeQueries(client: Client, names: readonly string[]): Promise<QueryTimes> {
  const outcomes = await inLanes(names, QUERIES_IN_FLIGHT, async (name) => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error('timeout')), QUERY_TIMEOUT_MS)));
    try {
      await Promise.race([client.workflow.getHandle(serverWorkflowId(name)).query(tokenGrantQuery), timedOut]);
      return performance.now() - started;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  });
  const sorted = outcomes.filter((latency) => latency !== undefined).sort((a, b) => a - b);
  const at = (fraction: number) => rounded(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN, 1);
  const every = Math.max(1, Math.floor(sorted.length / 100));
  return {
    timeouts: names.length - sorted.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: at(1),
    sampleMs: sorted.filter((_latency, index) => index % every === 0).map((latency) => rounded(latency, 1)),
  };
}

/** Events from one token request to the next in a server's history: what one refresh costs it. */
async function eventsPerTokenRefresh(client: Client, name: string): Promise<number> {
  const history = await client.workflow.getHandle(serverWorkflowId(name)).fetchHistory();
  // From the second request on: the first cycle also holds the server's creation.
  const refreshes = (history.events ?? []).flatMap((event, index) => (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [index] : [])).slice(1);
  const [first] = refreshes;
  const last = refreshes.at(-1);
  if (first === undefined || last === undefined || refreshes.length < 2) throw new Error(`P4: server ${name} refreshed its token fewer than twice`);
  return (last - first) / (refreshes.length - 1);
}

/**
 * The longest history of the servers' runs that continued as new (visibility keeps a closed run's
 * length), and of the runs still going (visibility does not keep theirs up to date: described one by one).
 */
async function longestHistories(client: Client, names: readonly string[]): Promise<{ longestBeforeContinueAsNew?: number; longestRunning: number }> {
  let longestBeforeContinueAsNew: number | undefined;
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${OAUTH_SERVER_WORKFLOW_TYPE}' AND ExecutionStatus = 'ContinuedAsNew'` })) {
    longestBeforeContinueAsNew = Math.max(longestBeforeContinueAsNew ?? 0, execution.historyLength);
  }
  const running = await inLanes(names, QUERIES_IN_FLIGHT, async (name) => (await client.workflow.getHandle(serverWorkflowId(name)).describe()).historyLength);
  return { longestBeforeContinueAsNew, longestRunning: Math.max(0, ...running) };
}
