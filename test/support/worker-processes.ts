import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { eventually, within } from './eventually';

/** A running test/support/worker-process.ts: a worker with the plugin in a process of its own. */
export interface WorkerProcess {
  identity: string;
  pid: number;
  /** SIGTERM, then the number of webServiceCall activities the process says it ran. */
  stop(): Promise<number>;
  /** Makes sure the process is gone (SIGKILL if it does not stop on SIGTERM). */
  kill(): Promise<void>;
  /** SIGKILL at once, as a crash: nothing in flight is finished or reported. */
  crash(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** The process's whole environment: where its plugin finds the codec keys. */
  env?: NodeJS.ProcessEnv;
  /** Everything the process prints, as it prints it. */
  onOutput?: (text: string) => void;
  /** A workflow bundle's code file, instead of bundling test/workflows in the process. */
  workflowBundlePath?: string;
  /** The worker's maxCachedWorkflows, instead of the SDK's default from the heap size. */
  maxCachedWorkflows?: number;
  /** The plugin's fanOutSignalsInFlight, instead of its default (all at once). */
  fanOutSignalsInFlight?: number;
}

/** What is kept of the process's output to find its `ready` and `executed` lines: a DEBUG log can be large. */
const KEPT_OUTPUT_CHARS = 64_000;

/** Starts test/support/worker-process.ts on `taskQueue` and waits until its worker runs. */
export async function startWorkerProcess(
  temporal: { address: string; namespace: string },
  taskQueue: string,
  { env = process.env, onOutput, workflowBundlePath, maxCachedWorkflows, fanOutSignalsInFlight }: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'worker-process.js'), temporal.address, temporal.namespace, taskQueue], {
    env: {
      ...env,
      ...(workflowBundlePath ? { WORKER_WORKFLOW_BUNDLE: workflowBundlePath } : {}),
      ...(maxCachedWorkflows ? { WORKER_MAX_CACHED_WORKFLOWS: String(maxCachedWorkflows) } : {}),
      ...(fanOutSignalsInFlight ? { WORKER_FAN_OUT_SIGNALS_IN_FLIGHT: String(fanOutSignalsInFlight) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = (stdout + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
    onOutput?.(chunk.toString('utf8'));
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
    onOutput?.(chunk.toString('utf8'));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  const ready = await within(
    Promise.race([
      eventually(() => /^ready (\S+)$/m.exec(stdout)?.[1], { timeoutMs: 120_000, intervalMs: 50, what: 'the worker process to be ready' }),
      exited.then((code) => {
        throw new Error(`the worker process exited with ${code} before it was ready: ${stderr}`);
      }),
    ]),
    125_000,
    'the worker process start',
  ).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });

  return {
    identity: ready,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      const code = await within(exited, 30_000, 'the worker process shutdown');
      if (code !== 0) throw new Error(`the worker process exited with ${code}: ${stderr}`);
      const count = /^executed webServiceCall (\d+)$/m.exec(stdout)?.[1];
      if (count === undefined) throw new Error(`the worker process did not report its activities: ${stdout.slice(-2_000)}`);
      return Number(count);
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGTERM');
      await within(exited, 15_000, 'the worker process exit').catch(async () => {
        child.kill('SIGKILL');
        await exited;
      });
    },
    async crash() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
