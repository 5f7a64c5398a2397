import { inspect } from 'node:util';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/**
 * Every log line the SDK and the plugin write during the run, kept so that a test can scan them for
 * leaked secrets; only errors also reach the terminal, so expected failures do not bury the report.
 */
export const capturedLogs: string[] = [];

export const testLogger = new DefaultLogger('DEBUG', (entry: LogEntry) => {
  const line = `${entry.level} ${entry.message} ${entry.meta ? inspect(entry.meta, { depth: 6, breakLength: Infinity }) : ''}`;
  capturedLogs.push(line);
  if (entry.level === 'ERROR') process.stderr.write(`${line}\n`);
});

/** Must run before anything touches the Temporal runtime (connections, workers, bundles). */
export function installCapturingRuntime(): void {
  Runtime.install({ logger: testLogger });
}
