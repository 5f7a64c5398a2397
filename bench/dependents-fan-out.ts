/**
 * How long one disabled server takes to tell N dependents, as a ratio to the bare cost of a
 * client signalling N waiting workflows on the same dev server in the same run.
 *
 *   npm run bench:fan-out            (N = 2000; BENCH_DEPENDENTS=500 for a quicker run)
 */
import { randomUUID } from 'node:crypto';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { authorizeServer, createServer, OAUTH_SEARCH_ATTRIBUTES, TemporalOAuthPlugin } from '../src';
import { generateCodecKey, parseCodecKeyRing } from '../src/codec/codec-keys';
import { startTemporalEnvironment } from '../src/dev-server/temporal-environment';
import { generateClientSecret, startAuthorizationServer } from '../src/demo/authorization-server';
import { startBreakableTokenEndpoint } from '../test/support/breakable-token-endpoint';
import { wakeSignal, type disableWatcher, type signalWaiter } from './workflows';

const COUNT = Number(process.env.BENCH_DEPENDENTS ?? 2000);
const COMMAND = 'npm run bench:fan-out';

async function startAll<T extends WorkflowHandle>(count: number, start: () => Promise<T>): Promise<T[]> {
  const handles: T[] = [];
  for (let i = 0; i < count; i += 200) handles.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, start))));
  return handles;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const temporal = await startTemporalEnvironment({ searchAttributes: OAUTH_SEARCH_ATTRIBUTES, log: () => undefined });
  const secret = generateClientSecret();
  const authorizationServer = await startAuthorizationServer({
    clients: [{ clientId: 'bench', authMethod: 'client_secret_basic', clientSecret: secret, scope: 'api:read' }],
  });
  // A token endpoint the bench can take down, to disable the server on cue.
  const tokenEndpoint = await startBreakableTokenEndpoint(authorizationServer.tokenEndpoint);
  const plugin = new TemporalOAuthPlugin({ codecKeys: parseCodecKeyRing(`bench:${generateCodecKey()}`) });
  const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, plugins: [plugin] });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    plugins: [plugin],
  });
  try {
    await worker.runUntil(async () => {
      const waiters = await startAll(COUNT, () => client.workflow.start<typeof signalWaiter>('signalWaiter', { taskQueue, workflowId: `waiter-${randomUUID()}` }));
      const baselineStart = performance.now();
      for (let i = 0; i < waiters.length; i += 200) await Promise.all(waiters.slice(i, i + 200).map((waiter) => waiter.signal(wakeSignal)));
      await Promise.all(waiters.map((waiter) => waiter.result()));
      const baselineMs = performance.now() - baselineStart;

      const server = `bench-${randomUUID().slice(0, 8)}`;
      await createServer(client, { name: server, clientId: 'bench', clientSecret: { source: 'local', value: secret }, accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 }, { taskQueue });
      const registrationStart = performance.now();
      const watchers = await startAll(COUNT, () => client.workflow.start<typeof disableWatcher>('disableWatcher', { taskQueue, workflowId: `watcher-${randomUUID()}`, args: [server] }));
      const registered = async () => (await client.workflow.getHandle(`oauth-server:${server}`).query<string[]>('dependents')).length;
      while ((await registered()) < COUNT) await new Promise((resolve) => setTimeout(resolve, 500));
      const registrationMs = performance.now() - registrationStart;

      tokenEndpoint.break();
      const fanOutStart = performance.now();
      await authorizeServer(client, server);
      await Promise.all(watchers.map((watcher) => watcher.result()));
      const fanOutMs = performance.now() - fanOutStart;

      process.stdout.write(
        `dependents fan-out: ${COUNT} dependents told of a disable in ${(fanOutMs / 1000).toFixed(1)} s; ` +
          `baseline (client signals ${COUNT} waiting workflows) ${(baselineMs / 1000).toFixed(1)} s; ratio ${(fanOutMs / baselineMs).toFixed(2)}\n` +
          `(${COUNT} dependents started and registered in ${(registrationMs / 1000).toFixed(1)} s)\n` +
          `reproduce: ${COMMAND}\n`,
      );
    });
  } finally {
    await tokenEndpoint.close();
    await authorizationServer.close();
    await temporal.teardown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
