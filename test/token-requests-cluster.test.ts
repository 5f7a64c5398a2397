import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAUTH_SEARCH_ATTRIBUTES, createServer } from '../src';
import { serverViewQuery, serverWorkflowId } from '../src/contract/definitions';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';
import { refreshAt } from '../src/oauth/token-timing';
import { refusedUpdates } from '../bench/metrics';
import type { callMany, CallOutcome, callSteadily } from './workflows';
import { testLogger } from './support/captured-logs';
import { eventually, within } from './support/eventually';
import { freePort } from './support/free-port';
import { collectRawHistories, serverLogFile } from './support/leak-scan';
import { API_SCOPES, testBed } from './support/test-bed';
import { startTestWorkerProcess } from './support/test-worker-processes';
import { workersRunningActivities } from './support/workers-running';
import { forwardTokenRequest, startScriptedEndpoint } from './support/token-endpoints';
import type { WorkerProcess } from './support/worker-processes';

/**
 * Every process has its own token cache and asks the one server workflow. Ten, one past what an
 * update per waiting process would allow: createServer's own update waits in the workflow until the
 * first token arrives, and a workflow holds at most ten updates in flight.
 */
const WORKER_PROCESSES = 10;
const COLD_CALLS = 500;
const TOKEN_TTL_SECONDS = 8;
const REFRESH_INTERVAL_MS = refreshAt(0, TOKEN_TTL_SECONDS * 1000);
/** Steady callers, each calling one at a time with a pause between calls, for two and a half token lifetimes. */
const STEADY_CALLERS = 10;
const STEADY_PAUSE_MS = 250;
const STEADY_MS = 2.5 * TOKEN_TTL_SECONDS * 1000;

/**
 * The calls' outcomes that say something about tokens: every HTTP status other than 200 (a 401 is a
 * stale token) and every failure but a timeout, which says only that this shared machine was slow.
 */
function tokenTroubles(outcomes: readonly CallOutcome[]): string[] {
  return outcomes.flatMap((outcome) => ('status' in outcome ? (outcome.status === 200 ? [] : [`HTTP ${outcome.status}`]) : /timed out/.test(outcome.failure) ? [] : [outcome.failure]));
}

describe('token requests of a cluster of worker processes', () => {
  let temporal: TemporalEnvironment | undefined;
  let metricsUrl: string | undefined;

  before(async function () {
    this.timeout(120_000);
    // A dev server of its own, for its metrics: the only place an update refused for the in-flight limit shows.
    const metricsPort = await freePort();
    temporal = await startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      extraArgs: ['--metrics-port', String(metricsPort)],
      outputFile: serverLogFile('token-requests-cluster'),
      log: (line) => testLogger.info(line),
    });
    metricsUrl = temporal.external ? undefined : `http://127.0.0.1:${metricsPort}/metrics`;
  });

  after(async function () {
    this.timeout(120_000);
    // Its histories go into the suite's final scan for leaked secrets before the server is gone.
    if (temporal) await collectRawHistories(temporal.client, 'token-requests-cluster');
    await temporal?.teardown();
  });

  it(`${WORKER_PROCESSES} worker processes: one token request for ${COLD_CALLS} cold calls, then one per refresh interval over two token lifetimes, and no update refused`, async function () {
    this.timeout(240_000);
    const bed = testBed();
    const env = temporal!;
    const client = bed.clientFor(env);
    const registered = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: TOKEN_TTL_SECONDS });
    let firstArrived!: () => void;
    const firstRequest = new Promise<void>((resolve) => (firstArrived = resolve));
    let releaseFirst!: () => void;
    const firstReleased = new Promise<void>((resolve) => (releaseFirst = resolve));
    // The first token request is held until the cold calls are under way, so that they all meet the server while it is still fetching.
    const endpoint = await startScriptedEndpoint(async (request, body) => {
      if (endpoint.requests.length === 1) {
        firstArrived();
        await within(firstReleased, 60_000, 'the cold calls to start').catch(() => undefined);
      }
      return forwardTokenRequest(bed.authorizationServer.tokenEndpoint, request, body);
    });
    const bundleFolder = mkdtempSync(join(tmpdir(), 'temporal-oauth-cluster-'));
    const processes: WorkerProcess[] = [];
    try {
      // Bundled once for all the processes: ten bundlings at once would cost this machine a minute of CPU.
      const workflowBundlePath = join(bundleFolder, 'workflows.js');
      if (!('code' in bed.workflowBundle)) throw new Error('the test bed bundles its workflows in memory');
      writeFileSync(workflowBundlePath, bed.workflowBundle.code);
      const taskQueue = `cluster-${randomUUID()}`;
      const startedAt = performance.now();
      processes.push(...(await Promise.all(Array.from({ length: WORKER_PROCESSES }, () => startTestWorkerProcess(env, taskQueue, { workflowBundlePath })))));
      const readyAt = performance.now();
      const refusedBefore = await refusedUpdates(metricsUrl);

      const config = bed.serverConfig('client_secret_basic', {
        accessTokenUrl: endpoint.url,
        clientId: registered.clientId,
        clientSecret: { source: 'local', value: registered.secret },
      });
      const creation = createServer(client, config, { taskQueue });
      await within(firstRequest, 60_000, "the server's first token request");
      // Fifty waiting calls per process: every process asks the server for the first token while it is held.
      const cold = await client.workflow.start<typeof callMany>('callMany', {
        taskQueue,
        workflowId: `cluster-cold-${randomUUID()}`,
        args: [{ server: config.name, url: `${bed.api.url}/whoami` }, COLD_CALLS],
      });
      // Held until every process has calls waiting for it.
      await eventually(async () => (await workersRunningActivities(cold)).size >= WORKER_PROCESSES, {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: `cold calls waiting for the first token on all ${WORKER_PROCESSES} processes`,
      });
      releaseFirst();
      const coldOutcomes = await cold.result();
      assert.equal((await creation).status, 'OK');
      assert.deepEqual(tokenTroubles(coldOutcomes), []);

      const coldAt = performance.now();
      const steadyFrom = endpoint.requests.length;
      const steadyOutcomes = await client.workflow.execute<typeof callSteadily>('callSteadily', {
        taskQueue,
        workflowId: `cluster-steady-${randomUUID()}`,
        args: [{ server: config.name, url: `${bed.api.url}/whoami` }, { callers: STEADY_CALLERS, pauseMs: STEADY_PAUSE_MS, durationMs: STEADY_MS }],
      });
      assert.deepEqual(tokenTroubles(steadyOutcomes), []);

      const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);
      const timing = `processes started in ${seconds(startedAt, readyAt)} s, cold calls ${seconds(readyAt, coldAt)} s, steady calls ${seconds(coldAt, performance.now())} s`;
      const arrivals = endpoint.requests.map((request) => request.receivedAt);
      const gaps = arrivals.slice(1).map((at, index) => at - (arrivals[index] ?? at));
      const refreshes = arrivals.length - steadyFrom;
      const refused = await refusedUpdates(metricsUrl);
      process.stderr.write(
        `      [cluster] ${WORKER_PROCESSES} processes: ${steadyFrom} token request(s) while ${COLD_CALLS} cold calls ran, ${refreshes} refreshes over ` +
          `${steadyOutcomes.length} steady calls (gaps ${gaps.join(', ')} ms; refresh interval ${Math.round(REFRESH_INTERVAL_MS)} ms); ` +
          `${refused === undefined || refusedBefore === undefined ? '?' : refused - refusedBefore} update(s) refused; ${timing}\n`,
      );
      // However slowly this machine runs the calls: never two requests in one refresh interval, from
      // the cold start (the calls waiting for the first token) to the last refresh.
      for (const gap of gaps) assert.ok(gap > REFRESH_INTERVAL_MS / 2, `two token requests ${gap} ms apart, within one refresh interval of ${REFRESH_INTERVAL_MS} ms`);
      // Two and a half token lifetimes of steady calls hold three refresh intervals; a busy machine may start the last late.
      assert.ok(refreshes >= 2, `${refreshes} refreshes in two and a half token lifetimes`);
      assert.equal((await client.workflow.getHandle(serverWorkflowId(config.name)).query(serverViewQuery)).tokenSerial, arrivals.length, 'every token request gave the server its next token');
      if (refused !== undefined && refusedBefore !== undefined) assert.equal(refused - refusedBefore, 0, 'updates refused for the in-flight limit');
      else process.stderr.write('      [cluster] refused updates not counted: TEMPORAL_ADDRESS names a server without the dev server metrics\n');
    } finally {
      await Promise.all(processes.map((process) => process.kill()));
      await endpoint.close();
      rmSync(bundleFolder, { recursive: true, force: true });
    }
  });
});
