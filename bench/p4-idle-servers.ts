import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createServer, type OAuthServerConfigInput } from '../src';
import { OAUTH_SERVER_WORKFLOW_TYPE, serverViewQuery, serverWorkflowId, tokenGrantQuery } from '../src/contract/definitions';
import { eventually } from '../test/support/eventually';
import type { BenchBed } from './bed';
import { residentMiB } from './metrics';
import type { BenchOptions } from './options';
import { inLanes, range } from './lanes';
import { median, rounded, type Figure } from './report';

const { EventType } = temporal.api.enums.v1;

const QUERIES_IN_FLIGHT = 50;
/** A query slower than this counts as timed out, whatever the server would have done. */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * P4: many idle servers (600 s tokens) on one worker process: its memory and the dev server's,
 * a timed tokenGrant query to every server (the query webServiceCall depends on), and, from a few
 * servers beside them with short-lived tokens, the history events each token refresh costs and
 * how long histories grow before continue-as-new.
 */
export async function idleServers(bed: BenchBed, options: BenchOptions): Promise<Figure> {
  const { p4Servers: servers, p4CreateConcurrency, p4RefreshingServers, p4RefreshTtlSeconds, p4Refreshes } = options;
  const idleClient = await bed.registerClient();
  const refreshingClient = await bed.registerClient(p4RefreshTtlSeconds);
  const taskQueue = `p4-${randomUUID()}`;
  const [worker] = await bed.startWorkerProcesses(taskQueue, 1);
  if (!worker) throw new Error('P4: no worker process');
  try {
    const memoryBefore = await memory(bed, worker.pid);
    const createdAt = performance.now();
    const idle = await createAll(bed, taskQueue, servers, p4CreateConcurrency, () => bed.serverConfig(idleClient));
    const creationSeconds = (performance.now() - createdAt) / 1000;
    const refreshing = await createAll(bed, taskQueue, p4RefreshingServers, p4CreateConcurrency, () => bed.serverConfig(refreshingClient));
    await eventually(
      async () => {
        const serials = await Promise.all(refreshing.map(async (name) => (await bed.client.workflow.getHandle(serverWorkflowId(name)).query(serverViewQuery)).tokenSerial));
        return serials.every((serial) => serial > p4Refreshes);
      },
      { timeoutMs: (p4Refreshes + 2) * p4RefreshTtlSeconds * 1000 + 60_000, intervalMs: 1_000, what: `${p4Refreshes} token refreshes` },
    );
    const memoryAfter = await memory(bed, worker.pid);
    const queries = await timeQueries(bed.client, idle);
    const eventsPerRefresh = median(await Promise.all(refreshing.map((name) => eventsPerTokenRefresh(bed.client, name))));
    const histories = await longestHistories(bed.client, [...idle, ...refreshing]);
    const perServerMiB = memoryAfter.worker !== undefined && memoryBefore.worker !== undefined ? rounded((memoryAfter.worker - memoryBefore.worker) / servers, 3) : undefined;
    const value = memoryAfter.worker ?? Number.NaN;
    const baseline = memoryBefore.worker ?? Number.NaN;
    return {
      bench: 'P4',
      ratio: rounded(value / baseline),
      rounds: queries.sampleMs,
      value,
      baseline,
      unit: 'worker RSS MiB',
      goal: 'worker memory bounded by its cache setting, ≤ 8 events per refresh, 0 query timeouts',
      summary:
        `${servers} idle servers on one worker: worker RSS ${baseline} → ${value} MiB (${perServerMiB ?? '?'} MiB per server), ` +
        `dev server ${memoryBefore.devServer ?? '?'} → ${memoryAfter.devServer ?? '?'} MiB; ${eventsPerRefresh} history events per token refresh; ` +
        `longest history ${histories.longestBeforeContinueAsNew ?? 'none continued as new'} before continue-as-new (longest running ${histories.longestRunning}); ` +
        `${queries.timeouts} of ${servers} tokenGrant queries timed out or failed (p50 ${queries.p50Ms} ms, p99 ${queries.p99Ms} ms, max ${queries.maxMs} ms); created in ${rounded(creationSeconds, 1)} s`,
      details: {
        servers,
        workerRssMiB: { before: memoryBefore.worker, after: memoryAfter.worker, perServer: perServerMiB },
        devServerRssMiB: { before: memoryBefore.devServer, after: memoryAfter.devServer },
        eventsPerRefresh,
        ...histories,
        queryTimeouts: queries.timeouts,
        queryMs: { p50: queries.p50Ms, p99: queries.p99Ms, max: queries.maxMs },
        creationSeconds: rounded(creationSeconds, 1),
      },
    };
  } finally {
    await worker.kill();
  }
}

async function memory(bed: BenchBed, workerPid: number): Promise<{ worker?: number; devServer?: number }> {
  return { worker: await residentMiB(workerPid), devServer: bed.devServerPid === undefined ? undefined : await residentMiB(bed.devServerPid) };
}

async function createAll(bed: BenchBed, taskQueue: string, count: number, inFlight: number, config: () => OAuthServerConfigInput): Promise<string[]> {
  return inLanes(range(count), inFlight, async () => {
    const server = config();
    const view = await createServer(bed.client, server, { taskQueue });
    if (view.status !== 'OK') throw new Error(`P4: server ${server.name} is ${view.status}`);
    return server.name;
  });
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
