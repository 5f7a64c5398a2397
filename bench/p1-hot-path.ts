import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { createServer, parseOAuthServerConfig } from '../src';
import { requestToken } from '../src/oauth/token-request';
import type { BenchBed } from './bed';
import type { BenchOptions } from './options';
import { interleavedRounds, median, ratioOfRounds, rounded, type Figure } from './report';
import type { BareActivities, callLoad, CallLoadInput } from './workflows';

/** The bare worker takes a new token well before the authorization server's 600 s lifetime ends. */
const BARE_TOKEN_REUSE_MS = 300_000;
const WARM_UP_CALLS = 50;

/**
 * P1: warm-token webServiceCall throughput ÷ a bare activity making the same undici GET on a worker
 * without the plugin: same resource API (which introspects every token), same concurrency, same
 * calling workflow; interleaved rounds.
 */
export async function hotPath(bed: BenchBed, { rounds, p1Calls: calls, p1Concurrency: concurrency }: BenchOptions): Promise<Figure> {
  const benchClient = await bed.registerClient();
  const config = bed.serverConfig(benchClient);
  const url = `${bed.api.url}/whoami`;
  const bareActivities: BareActivities = { bareGet: bareGetWith(bareToken(config, benchClient.secret)) };
  // The bench process's CPU per call of each round (both workers, the API and the authorization server
  // run in it): on a shared machine, other processes slow the calls down but spend none of this CPU.
  const cpuPerCall: Record<CallLoadInput['via'], number[]> = { plugin: [], bare: [] };

  const { a, b } = await bed.withWorker(
    (bareQueue) =>
      bed.withWorker(async (pluginQueue) => {
        if ((await createServer(bed.client, config, { taskQueue: pluginQueue })).status !== 'OK') throw new Error('P1: the server did not reach OK');
        const load = (via: CallLoadInput['via'], count: number) => {
          const [client, taskQueue] = via === 'plugin' ? [bed.client, pluginQueue] : [bed.bareClient, bareQueue];
          return throughput(client, taskQueue, { via, call: { server: config.name, url }, calls: count, concurrency });
        };
        // Warm: the worker holds the token, the connections are open, the workflow code is loaded.
        await load('plugin', WARM_UP_CALLS);
        await load('bare', WARM_UP_CALLS);
        const measuredLoad = async (via: CallLoadInput['via']) => {
          const before = process.cpuUsage();
          const callsPerSecond = await load(via, calls);
          const used = process.cpuUsage(before);
          cpuPerCall[via].push(Math.round((used.user + used.system) / calls));
          return callsPerSecond;
        };
        return interleavedRounds(
          rounds,
          () => measuredLoad('plugin'),
          () => measuredLoad('bare'),
        );
      }),
    { bare: { activities: bareActivities } },
  );
  const measured = ratioOfRounds({ a, b });
  return {
    bench: 'P1',
    ...measured,
    unit: 'calls/s',
    goal: '≥ 0.95',
    summary:
      `warm-token webServiceCall ${measured.value} calls/s ÷ bare activity without the plugin ${measured.baseline} calls/s = ${measured.ratio} ` +
      `(${calls} calls at concurrency ${concurrency}, ${rounds} interleaved rounds, medians; per-round ratios ${measured.rounds.map((round) => (round as { ratio: number }).ratio).join(', ')}); ` +
      `bench-process CPU per call ${median(cpuPerCall.plugin)} µs with the plugin, ${median(cpuPerCall.bare)} µs bare (rounds ${cpuPerCall.plugin.join('/')} vs ${cpuPerCall.bare.join('/')})`,
    details: { calls, concurrency, cpuMicrosPerCall: { plugin: median(cpuPerCall.plugin), bare: median(cpuPerCall.bare) } },
  };
}

async function throughput(client: Client, taskQueue: string, input: CallLoadInput): Promise<number> {
  const started = performance.now();
  const tally = await client.workflow.execute<typeof callLoad>('callLoad', { taskQueue, workflowId: `p1-${input.via}-${randomUUID()}`, args: [input] });
  const seconds = (performance.now() - started) / 1000;
  if (tally['200'] !== input.calls) throw new Error(`P1: not every ${input.via} call answered 200: ${JSON.stringify(tally)}`);
  return rounded(input.calls / seconds, 1);
}

/** The bare worker's token, fetched by the bench itself, as an application without the plugin would hold one. */
function bareToken(input: ReturnType<BenchBed['serverConfig']>, secret: string): () => Promise<string> {
  const config = parseOAuthServerConfig(input);
  let held: { value: Promise<string>; at: number } | undefined;
  return () => {
    if (!held || Date.now() - held.at > BARE_TOKEN_REUSE_MS) {
      held = { value: requestToken(config, { tokenEndpoint: config.accessTokenUrl! }, { secret, timeoutMs: 10_000 }).then((token) => token.accessToken), at: Date.now() };
    }
    return held.value;
  };
}

function bareGetWith(token: () => Promise<string>): BareActivities['bareGet'] {
  return async (url) => {
    const response = await request(url, { method: 'GET', headers: { authorization: `Bearer ${await token()}` } });
    return { status: response.statusCode, body: await response.body.json() };
  };
}
