/**
 * A second worker process for the tests that need more than one: a worker with the plugin on the
 * given task queue, as a user would run it.
 *
 *   node dist/test/support/worker-process.js <address> <namespace> <taskQueue>
 *
 * The codec keys come from the environment (TEMPORAL_OAUTH_CODEC_KEY_FILE=CODEC_KEYS_FIXTURE), as
 * the plugin reads them when it is given none. With TEMPORAL_ADDRESS set, the connection's TLS and
 * API key come from the TEMPORAL_* settings too. WORKER_WORKFLOW_BUNDLE names a bundle built once for
 * many processes (bundling in each would cost every process seconds of CPU),
 * WORKER_MAX_CACHED_WORKFLOWS sets the worker's cache and WORKER_FAN_OUT_SIGNALS_IN_FLIGHT the
 * plugin's fanOutSignalsInFlight. Prints `ready <identity>` once the worker runs, shuts down on
 * SIGTERM and then prints `executed webServiceCall <n>`: the activities it ran.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { TemporalOAuthPlugin } from '../../src/plugin/plugin';

async function main(): Promise<void> {
  const [address, namespace, taskQueue] = process.argv.slice(2);
  if (!address || !namespace || !taskQueue) throw new Error('usage: worker-process <address> <namespace> <taskQueue>');
  // The shutdown on SIGTERM is this entry's own (below), so the runtime installs no signal handlers.
  // DEBUG, as the suite's own worker: all it says goes to the final scan for leaked secrets and tokens.
  // PROMETHEUS_BIND_ADDRESS (host:port) exports the worker's metrics there, as a user's Runtime would.
  const prometheus = process.env.PROMETHEUS_BIND_ADDRESS;
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('DEBUG'), ...(prometheus ? { telemetryOptions: { metrics: { prometheus: { bindAddress: prometheus } } } } : {}) });
  const connectionOptions = process.env.TEMPORAL_ADDRESS ? loadClientConnectConfig().connectionOptions : {};
  const connection = await NativeConnection.connect({ ...connectionOptions, address });
  const identity = `worker-process-${process.pid}`;
  let executed = 0;
  const bundlePath = process.env.WORKER_WORKFLOW_BUNDLE;
  const maxCachedWorkflows = process.env.WORKER_MAX_CACHED_WORKFLOWS;
  const fanOutSignalsInFlight = process.env.WORKER_FAN_OUT_SIGNALS_IN_FLIGHT;
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      identity,
      ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../workflows') }),
      ...(maxCachedWorkflows ? { maxCachedWorkflows: Number(maxCachedWorkflows) } : {}),
      plugins: [new TemporalOAuthPlugin(fanOutSignalsInFlight ? { fanOutSignalsInFlight: Number(fanOutSignalsInFlight) } : {})],
      interceptors: {
        activity: [
          (context) => ({
            inbound: {
              execute: (input, next) => {
                if (context.info.activityType === 'webServiceCall') executed += 1;
                return next(input);
              },
            },
          }),
        ],
      },
    });
    process.once('SIGTERM', () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    });
    const running = worker.run();
    process.stdout.write(`ready ${identity}\n`);
    await running;
  } finally {
    await connection.close();
  }
  process.stdout.write(`executed webServiceCall ${executed}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`worker process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
