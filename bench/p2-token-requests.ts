import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createServer } from '../src';
import { freshTokenUpdate, serverWorkflowId } from '../src/contract/definitions';
import { refreshAt } from '../src/oauth/token-timing';
import { within } from '../test/support/eventually';
import { forwardTokenRequest, startScriptedEndpoint } from '../test/support/token-endpoints';
import type { BenchBed } from './bed';
import { refusedUpdates } from './metrics';
import type { BenchOptions } from './options';
import type { Figure } from './report';
import type { callLoad, callWaves, CallTally } from './workflows';

const { EventType } = temporal.api.enums.v1;

/** The first token request is held this long, so that the cold calls meet the server while it is under way. */
const COLD_TOKEN_DELAY_MS = 1_500;
const WAVE_INTERVAL_MS = 1_000;

/**
 * P2: token requests of a cluster of worker processes, at a cold start of many concurrent calls and
 * then under steady traffic over several token lifetimes; and updates the server refused because
 * too many were in flight (the dev server's own count, from its metrics).
 */
export async function tokenRequests(bed: BenchBed, options: BenchOptions): Promise<Figure> {
  const { p2Workers: workers, p2Calls: calls, p2TtlSeconds: ttlSeconds, p2Lifetimes: lifetimes, p2WaveCalls: waveCalls } = options;
  const benchClient = await bed.registerClient(ttlSeconds);
  let firstArrived!: () => void;
  const firstRequest = new Promise<void>((resolve) => (firstArrived = resolve));
  const endpoint = await startScriptedEndpoint(async (request, body) => {
    if (endpoint.requests.length === 1) {
      firstArrived();
      await delay(COLD_TOKEN_DELAY_MS);
    }
    return forwardTokenRequest(bed.authorizationServer.tokenEndpoint, request, body);
  });
  const clusterQueue = `p2-cluster-${randomUUID()}`;
  const processes = await bed.startWorkerProcesses(clusterQueue, workers);
  try {
    return await bed.withWorker(async (callersQueue) => {
      const refusedBefore = await refusedUpdates(bed.metricsUrl);
      const config = bed.serverConfig(benchClient, { accessTokenUrl: endpoint.url });
      const creation = createServer(bed.client, config, { taskQueue: clusterQueue });
      await within(firstRequest, 60_000, "the server's first token request");
      const call = { server: config.name, url: `${bed.api.url}/whoami` };
      const coldStartedAt = performance.now();
      const cold = await bed.client.workflow.execute<typeof callLoad>('callLoad', {
        taskQueue: callersQueue,
        workflowId: `p2-cold-${randomUUID()}`,
        args: [{ via: 'plugin', call, calls, concurrency: calls, activityTaskQueue: clusterQueue }],
      });
      if ((await creation).status !== 'OK') throw new Error('P2: the server did not reach OK');
      const coldSeconds = (performance.now() - coldStartedAt) / 1000;

      const steadyMs = ttlSeconds * lifetimes * 1000;
      const steady = await bed.client.workflow.execute<typeof callWaves>('callWaves', {
        taskQueue: callersQueue,
        workflowId: `p2-steady-${randomUUID()}`,
        args: [{ call, calls: waveCalls, activityTaskQueue: clusterQueue, intervalMs: WAVE_INTERVAL_MS, durationMs: steadyMs }],
      });
      const refusedAfter = await refusedUpdates(bed.metricsUrl);
      const refused = refusedAfter === undefined || refusedBefore === undefined ? undefined : refusedAfter - refusedBefore;
      // The cold calls may outlast a refresh interval on a slow machine: the first window holds only the requests the cold start made.
      const [coldRequests = 0, ...perInterval] = requestsPerRefreshInterval(
        endpoint.requests.map((request) => request.receivedAt),
        ttlSeconds * 1000,
      );
      const accepted = await acceptedFreshTokenUpdates(bed.client, config.name);
      const worst = Math.max(coldRequests, ...perInterval);
      const failed = failures(cold) + failures(steady);
      return {
        bench: 'P2',
        ratio: worst,
        rounds: [coldRequests, ...perInterval],
        value: worst,
        baseline: 1,
        unit: 'token requests per refresh interval',
        goal: 'exactly 1 per refresh interval, 0 refused updates',
        summary:
          `${workers} worker processes: ${coldRequests} token request(s) for ${calls} cold calls (${coldSeconds.toFixed(1)} s), then ${perInterval.join(', ')} per refresh interval ` +
          `over ${lifetimes} token lifetimes of ${ttlSeconds} s (waves of ${waveCalls} calls a second); ` +
          `${refused ?? '?'} update(s) refused for the in-flight limit; ${accepted} freshToken update(s) accepted; ${failed} call(s) failed`,
        details: { workers, calls, ttlSeconds, lifetimes, waveCalls, coldRequests, coldSeconds, perInterval, refusedUpdates: refused, acceptedFreshTokenUpdates: accepted, failedCalls: failed, coldTally: cold, steadyTally: steady },
      };
    });
  } finally {
    await Promise.all(processes.map((process) => process.kill()));
    await endpoint.close();
  }
}

/**
 * The cluster's token requests in each refresh interval: windows centred on the first request's time
 * plus whole refresh intervals, so that a request a little early or late still falls in its own
 * interval. The first window is the cold start's: the first request and any that came with it.
 */
function requestsPerRefreshInterval(receivedAt: readonly number[], ttlMs: number): number[] {
  const [first] = receivedAt;
  if (first === undefined) return [];
  const intervalMs = refreshAt(0, ttlMs);
  const counts: number[] = [];
  for (const at of receivedAt) {
    const interval = Math.round((at - first) / intervalMs);
    while (counts.length <= interval) counts.push(0);
    counts[interval] = (counts[interval] ?? 0) + 1;
  }
  return counts;
}

function failures(tally: CallTally): number {
  return Object.entries(tally).reduce((sum, [outcome, count]) => (outcome === '200' ? sum : sum + count), 0);
}

/** The freshToken updates the server took: how many times callers had to wait on it rather than read its token. */
export async function acceptedFreshTokenUpdates(client: Client, server: string): Promise<number> {
  const history = await client.workflow.getHandle(serverWorkflowId(server)).fetchHistory();
  return (history.events ?? []).filter(
    (event) =>
      event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED &&
      event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === freshTokenUpdate.name,
  ).length;
}
