import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { authorizeServer, createServer, deleteServer, editServer, WebServiceCallFailure } from '../src';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV } from '../src/codec/codec-keys';
import { serverWorkflowId, tokenGrantQuery } from '../src/contract/definitions';
import { normaliseServerName } from '../src/oauth/server-name';
import { capturedLogs } from './support/captured-logs';
import { eventually } from './support/eventually';
import { freePort } from './support/free-port';
import { callFromWorkflow, failureTypeOf } from './support/run-workflow';
import { CODEC_KEYS_FIXTURE, testBed, type TestBed } from './support/test-bed';
import { startWorkerProcess, type WorkerProcess } from './support/worker-processes';
import { finishSignal, probeStatusQuery, type dependentProbe } from './workflows';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (the Runtime writes no timestamps, and no escapes in these labels). */
function samplesOf(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[name!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum over every series of `name` that has these labels (whatever its namespace, task queue or activity type); an absent label is empty, as in PromQL. */
function total(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => (sample.labels[label] ?? '') === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** A worker process with the plugin whose Runtime exports its metrics on a Prometheus endpoint of its own. */
async function startMetricsWorker(bed: TestBed, taskQueue: string): Promise<{ worker: WorkerProcess; scrape: () => Promise<string> }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, [CODEC_KEY_FILE_ENV]: CODEC_KEYS_FIXTURE, PROMETHEUS_BIND_ADDRESS: `127.0.0.1:${port}` };
  delete env[CODEC_KEYS_ENV];
  const worker = await startWorkerProcess(bed.temporal, taskQueue, { env, onOutput: (text) => capturedLogs.push(text) });
  return {
    worker,
    scrape: async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // Into the suite's log, which the last test scans for leaked secrets and tokens.
      capturedLogs.push(text);
      return text;
    },
  };
}

/**
 * The figures once they are what the test expects, or as they are at the deadline: the exporter may
 * lag the calls a little, and a whole comparison reads better than a timeout.
 */
async function settledFigures<T>(scrape: () => Promise<string>, figures: (samples: Sample[]) => T, expected: T): Promise<{ actual: T; text: string }> {
  let last = { actual: figures([]), text: '' };
  await eventually(
    async () => {
      const text = await scrape();
      last = { actual: figures(samplesOf(text)), text };
      return JSON.stringify(last.actual) === JSON.stringify(expected) ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'the expected figures on the metrics endpoint' },
  ).catch(() => undefined);
  return last;
}

describe('metrics through the SDK meter', () => {
  it("a worker's Prometheus endpoint counts token requests by outcome, calls by status class and cache answers, shows a disabled server by status with its dependent and the fan-outs that told it, and holds no secret, token, path or query", async function () {
    this.timeout(240_000);
    const bed = testBed();
    const taskQueue = `tq-${randomUUID()}`;
    const { worker, scrape } = await startMetricsWorker(bed, taskQueue);
    try {
      const calling = bed.serverConfig('client_secret_basic');
      const disabled = bed.serverConfig('client_secret_post');
      const wrongSecret = `wrong-secret-${randomUUID()}`;
      bed.rememberSecret(wrongSecret);
      const queryMarker = `query-marker-${randomUUID()}`;
      const closedOrigin = `http://127.0.0.1:${await freePort()}`;
      assert.equal((await createServer(bed.client, { ...calling, allowedOrigins: [bed.api.origin, closedOrigin] }, { taskQueue })).status, 'OK');
      assert.equal((await createServer(bed.client, disabled, { taskQueue })).status, 'OK');

      assert.equal((await callFromWorkflow(taskQueue, { server: calling.name, url: `${bed.api.url}/whoami` })).status, 200);
      assert.equal((await callFromWorkflow(taskQueue, { server: calling.name, url: `${bed.api.url}/whoami?marker=${queryMarker}` })).status, 200);
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: calling.name, url: `${bed.api.url}/no-such-route` })), WebServiceCallFailure.HttpClientError);
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: calling.name, url: `${closedOrigin}/x`, timeoutMs: 2_000 })), WebServiceCallFailure.HttpTransport);
      // Bad input: what the author wrote is no label, not even the server's name.
      const badServerName = `bad-input-${randomUUID()}`;
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: badServerName, url: 'not a URL' })), WebServiceCallFailure.InvalidInput);

      const dependent = await bed.client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [disabled.name] });
      await eventually(async () => ((await dependent.query(probeStatusQuery)) === 'OK' ? true : undefined), { what: 'the dependent registered' });

      // The disable: a wrong secret, and an authorize that the authorization server refuses; the dependent is told of each.
      await editServer(bed.client, disabled.name, { clientSecret: { source: 'local', value: wrongSecret } });
      assert.equal((await authorizeServer(bed.client, disabled.name)).status, 'Error');
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: disabled.name, url: `${bed.api.url}/whoami` })), WebServiceCallFailure.ServerDisabled);

      const token = (await bed.client.workflow.getHandle(serverWorkflowId(calling.name)).query(tokenGrantQuery)).token?.accessToken;
      assert.ok(token, 'the calling server holds a token');

      const a = normaliseServerName(calling.name);
      const b = normaliseServerName(disabled.name);
      const figures = (samples: Sample[]) => ({
        tokenRequests: {
          [`${a} ok`]: total(samples, 'temporal_oauth_token_requests', { server: a, outcome: 'ok' }),
          [`${b} ok`]: total(samples, 'temporal_oauth_token_requests', { server: b, outcome: 'ok' }),
          [`${b} invalid_client`]: total(samples, 'temporal_oauth_token_requests', { server: b, outcome: 'invalid_client' }),
          timed: total(samples, 'temporal_oauth_token_request_duration_milliseconds_count', { server: a, outcome: 'ok' }),
          // The scheduled refresh's waiting attempt, which every new token starts, is no token request.
          [`${a} all`]: total(samples, 'temporal_oauth_token_requests', { server: a }),
        },
        calls: {
          [`${a} GET 2xx`]: total(samples, 'temporal_oauth_web_service_calls', { server: a, method: 'GET', status_class: '2xx' }),
          [`${a} GET 4xx`]: total(samples, 'temporal_oauth_web_service_calls', { server: a, method: 'GET', status_class: '4xx' }),
          [`${a} GET network_error`]: total(samples, 'temporal_oauth_web_service_calls', { server: a, method: 'GET', status_class: 'network_error' }),
          [`${b} GET refused`]: total(samples, 'temporal_oauth_web_service_calls', { server: b, method: 'GET', status_class: 'refused' }),
          'bad input refused': total(samples, 'temporal_oauth_web_service_calls', { server: '', method: '', status_class: 'refused' }),
          timed: total(samples, 'temporal_oauth_web_service_call_duration_milliseconds_count', { server: a }),
        },
        servers: {
          [`${a} OK`]: total(samples, 'temporal_oauth_servers', { server: a, status: 'OK' }),
          [`${b} OK`]: total(samples, 'temporal_oauth_servers', { server: b, status: 'OK' }),
          [`${b} Error`]: total(samples, 'temporal_oauth_servers', { server: b, status: 'Error' }),
          [`${b} NotAuthorized`]: total(samples, 'temporal_oauth_servers', { server: b, status: 'NotAuthorized' }),
        },
        dependents: total(samples, 'temporal_oauth_server_dependents', { server: b }),
        toldDependents: total(samples, 'temporal_oauth_fan_out_duration_milliseconds_count', { server: b }) >= 2,
        cacheAnswers: total(samples, 'temporal_oauth_token_cache_hits', { server: a }) + total(samples, 'temporal_oauth_token_cache_waits', { server: a }),
      });
      const expected = {
        tokenRequests: { [`${a} ok`]: 1, [`${b} ok`]: 1, [`${b} invalid_client`]: 1, timed: 1, [`${a} all`]: 1 },
        calls: { [`${a} GET 2xx`]: 2, [`${a} GET 4xx`]: 1, [`${a} GET network_error`]: 1, [`${b} GET refused`]: 1, 'bad input refused': 1, timed: 4 },
        servers: { [`${a} OK`]: 1, [`${b} OK`]: 0, [`${b} Error`]: 1, [`${b} NotAuthorized`]: 0 },
        dependents: 1,
        toldDependents: true,
        cacheAnswers: 4,
      };
      const { actual, text } = await settledFigures(scrape, figures, expected);
      assert.deepEqual(actual, expected);

      for (const secret of [...bed.secretsUsed(), token, queryMarker, badServerName]) assert.ok(!text.includes(secret), 'a secret, token or query string is in the metrics');
      assert.ok(!/whoami|no-such-route|Bearer/.test(text), 'a URL path or header is in the metrics');
      await dependent.signal(finishSignal);
      await dependent.result();
    } finally {
      await worker.kill();
    }
  });

  it('a worker that takes a server over reports its status afresh at its first live step (nothing is recorded during replay), and a deleted server drops to 0 in every status', async function () {
    this.timeout(240_000);
    const bed = testBed();
    const taskQueue = `tq-${randomUUID()}`;
    const deleted = bed.serverConfig('client_secret_basic');
    const disabled = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'local', value: `wrong-secret-${randomUUID()}` } });
    const c = normaliseServerName(deleted.name);
    const d = normaliseServerName(disabled.name);
    const statuses = (samples: Sample[], server: string) =>
      Object.fromEntries(['NotAuthorized', 'OK', 'Error'].map((status) => [status, total(samples, 'temporal_oauth_servers', { server, status })]));

    const first = await startMetricsWorker(bed, taskQueue);
    try {
      assert.equal((await createServer(bed.client, deleted, { taskQueue })).status, 'OK');
      assert.equal((await createServer(bed.client, disabled, { taskQueue })).status, 'Error');
      await deleteServer(bed.client, deleted.name);
      const expected = { [c]: { NotAuthorized: 0, OK: 0, Error: 0 }, [d]: { NotAuthorized: 0, OK: 0, Error: 1 } };
      const { actual } = await settledFigures(first.scrape, (samples) => ({ [c]: statuses(samples, c), [d]: statuses(samples, d) }), expected);
      assert.deepEqual(actual, expected);
    } finally {
      await first.worker.kill();
    }

    const second = await startMetricsWorker(bed, taskQueue);
    try {
      // Still disabled: the status does not change, and yet the new worker must say which it is.
      assert.equal((await authorizeServer(bed.client, disabled.name)).status, 'Error');
      const expected = { [d]: { NotAuthorized: 0, OK: 0, Error: 1 }, [`${d} token requests`]: 1 };
      const { actual } = await settledFigures(
        second.scrape,
        (samples) => ({ [d]: statuses(samples, d), [`${d} token requests`]: total(samples, 'temporal_oauth_token_requests', { server: d, outcome: 'invalid_client' }) }),
        expected,
      );
      assert.deepEqual(actual, expected);
    } finally {
      await second.worker.kill();
    }
  });
});
