import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type WorkerOptions } from '@temporalio/worker';
import { OAUTH_SEARCH_ATTRIBUTES, TemporalOAuthPlugin, type OAuthServerConfigInput } from '../src';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV, generateCodecKey, parseCodecKeyRing } from '../src/codec/codec-keys';
import { generateClientSecret, startAuthorizationServer, type AuthorizationServer } from '../src/demo/authorization-server';
import { startResourceApi, type ResourceApi } from '../src/demo/resource-api';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from '../test/support/worker-processes';
import { freePort } from '../test/support/free-port';

/** The scope of the resource API's /whoami, the route every bench call uses. */
const SCOPE = 'api:read';

export interface BenchClient {
  clientId: string;
  secret: string;
}

/** One dev server, one authorization server and one resource API for every figure of a run. */
export interface BenchBed {
  temporal: TemporalEnvironment;
  /** A client with the plugin (its codec). */
  client: Client;
  /** A client without the plugin, for the bare worker's workflows. */
  bareClient: Client;
  authorizationServer: AuthorizationServer;
  api: ResourceApi;
  /** The dev server's Prometheus endpoint, or undefined when TEMPORAL_ADDRESS names another server. */
  metricsUrl?: string;
  /** The dev server's process, to read its memory. */
  devServerPid?: number;
  registerClient(tokenTtlSeconds?: number): Promise<BenchClient>;
  serverConfig(client: BenchClient, overrides?: Partial<OAuthServerConfigInput>): OAuthServerConfigInput;
  /** Runs `fn` while an in-process worker polls a fresh task queue: with the plugin, or bare with `activities`. */
  withWorker<T>(
    fn: (taskQueue: string) => Promise<T>,
    options?: { bare?: { activities: object }; taskQueue?: string } & Pick<WorkerOptions, 'maxCachedWorkflows' | 'stickyQueueScheduleToStartTimeout'>,
  ): Promise<T>;
  /** Worker processes with the plugin (test/support/worker-process.ts) on `taskQueue`; the caller stops them. */
  startWorkerProcesses(taskQueue: string, count: number, options?: Pick<WorkerProcessOptions, 'maxCachedWorkflows' | 'env'>): Promise<WorkerProcess[]>;
  close(): Promise<void>;
}


/** The dev server does not tell its pid: it is the process serving our port. */
async function devServerPid(port: string): Promise<number | undefined> {
  for (const pid of (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry))) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = commandLine.split('\0');
    if (args.includes('start-dev') && args[args.indexOf('--port') + 1] === port) return Number(pid);
  }
  return undefined;
}

export async function startBenchBed(): Promise<BenchBed> {
  // Worker processes read the codec keys from the environment, as a user's workers would.
  process.env[CODEC_KEYS_ENV] = `bench:${generateCodecKey()}`;
  delete process.env[CODEC_KEY_FILE_ENV];
  const plugin = new TemporalOAuthPlugin({ codecKeys: parseCodecKeyRing(process.env[CODEC_KEYS_ENV]) });
  const metricsPort = await freePort();
  const [temporal, pluginBundle, bareBundle] = await Promise.all([
    startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      extraArgs: ['--metrics-port', String(metricsPort)],
      // The dev server's own output stays off stdout, which carries the figures.
      outputFile: join(tmpdir(), `temporal-oauth-bench-${process.pid}.log`),
      log: () => undefined,
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), plugins: [plugin], logger: quietLogger }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger }),
  ]);
  const apiSecret = generateClientSecret();
  // The server knows only the scopes of the clients it starts with: a first client declares the bench's.
  const authorizationServer = await startAuthorizationServer({
    clients: [
      { clientId: 'resource-api', authMethod: 'client_secret_basic', clientSecret: apiSecret, scope: '' },
      { clientId: 'bench-scopes', authMethod: 'client_secret_basic', clientSecret: generateClientSecret(), scope: SCOPE },
    ],
  });
  const api = await startResourceApi({
    issuer: authorizationServer.issuer,
    introspectionEndpoint: authorizationServer.introspectionEndpoint,
    clientId: 'resource-api',
    clientSecret: apiSecret,
    callLogLimit: 1_000,
  });
  const port = temporal.address.slice(temporal.address.lastIndexOf(':') + 1);
  return {
    temporal,
    client: new Client({ connection: temporal.connection, namespace: temporal.namespace, plugins: [plugin] }),
    bareClient: temporal.client,
    authorizationServer,
    api,
    metricsUrl: temporal.external ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
    devServerPid: temporal.external ? undefined : await devServerPid(port),
    async registerClient(tokenTtlSeconds) {
      const client = { clientId: `bench-${randomUUID().slice(0, 8)}`, secret: generateClientSecret() };
      await authorizationServer.registerClient({ ...client, clientSecret: client.secret, authMethod: 'client_secret_basic', scope: SCOPE, tokenTtlSeconds });
      return client;
    },
    serverConfig(client, overrides = {}) {
      return {
        name: `bench-${randomUUID().slice(0, 8)}`,
        clientId: client.clientId,
        clientSecret: { source: 'local', value: client.secret },
        accessTokenUrl: authorizationServer.tokenEndpoint,
        scope: SCOPE,
        allowedOrigins: [api.origin],
        ...overrides,
      };
    },
    async withWorker(fn, { bare, taskQueue = `bench-${randomUUID()}`, ...tuning } = {}) {
      const worker = await Worker.create({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue,
        ...tuning,
        ...(bare ? { workflowBundle: bareBundle, activities: bare.activities } : { workflowBundle: pluginBundle, plugins: [plugin] }),
      });
      return worker.runUntil(() => fn(taskQueue));
    },
    async startWorkerProcesses(taskQueue, count, options) {
      const started = await Promise.allSettled(Array.from({ length: count }, () => startWorkerProcess(temporal, taskQueue, options)));
      const running = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        await Promise.all(running.map((process) => process.kill()));
        throw failed.reason;
      }
      return running;
    },
    async close() {
      await Promise.allSettled([api.close(), authorizationServer.close()]);
      await temporal.teardown();
    },
  };
}

/** Bundler chatter is not a figure. */
const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`${message}\n`),
  error: (message: string) => process.stderr.write(`${message}\n`),
};
