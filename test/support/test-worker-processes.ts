import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV } from '../../src/codec/codec-keys';
import { capturedLogs } from './captured-logs';
import { CODEC_KEYS_FIXTURE } from './test-bed';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './worker-processes';

/** The suite's worker process: the fixture's codec keys, and its log joins the suite's for the final scan for leaked secrets. */
export function startTestWorkerProcess(
  temporal: { address: string; namespace: string },
  taskQueue: string,
  options: Pick<WorkerProcessOptions, 'workflowBundlePath' | 'maxCachedWorkflows' | 'fanOutSignalsInFlight'> = {},
): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, [CODEC_KEY_FILE_ENV]: CODEC_KEYS_FIXTURE };
  delete env[CODEC_KEYS_ENV];
  return startWorkerProcess(temporal, taskQueue, { ...options, env, onOutput: (text) => capturedLogs.push(text) });
}
