import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { importProgressQuery, type ImportProgress, type ImportSourceInput, type importSourceWorkflow } from '../workflow';

export interface DemoImportOptions {
  client: Client;
  workflowId: string;
  taskQueue: string;
  input: ImportSourceInput;
  log: (line: string) => void;
  /** How often the running import's progress is asked for; a line is printed only when it moved. */
  intervalMs: number;
}

export interface DemoImport {
  /** Ends the watch quietly: once the job is stopping, the import's fate is no longer this job's to report. */
  stop(): void;
}

/**
 * The demo's import: the one an earlier start on the same database left (running, or completed)
 * is taken up again, so that a restart continues it instead of importing everything a second
 * time. Its progress is printed as it goes, not only at its start and end.
 */
export async function startDemoImport(options: DemoImportOptions): Promise<DemoImport> {
  const { client, workflowId, log } = options;
  const earlier = await existingImport(client, workflowId);
  const importer =
    earlier ??
    (await client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
      taskQueue: options.taskQueue,
      workflowId,
      args: [options.input],
      // A failed or cancelled import is started again; a live one (started meanwhile by another job) is joined.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'USE_EXISTING',
    }));
  const name = `Import source ${workflowId}${earlier ? ' (from an earlier start)' : ''}`;
  let stopped = false;
  let last = '';
  const say = (progress: ImportProgress) => {
    const line = describeProgress(progress);
    if (line !== last) log(`${name}: ${line}`);
    last = line;
  };

  let done = false;
  void importer
    .result()
    .then(
      (finished: ImportProgress) => {
        if (!stopped) say(finished);
      },
      (error: unknown) => {
        if (!stopped) log(`${name} stopped: ${error instanceof Error ? error.message : String(error)}`);
      },
    )
    .finally(() => (done = true));
  void (async () => {
    while (!stopped && !done) {
      // The first query can come before the import's first workflow task: a miss is asked again next time.
      const progress = await importer.query(importProgressQuery).catch(() => undefined);
      if (progress && !stopped && !done) say(progress);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  })();
  return {
    stop() {
      stopped = true;
    },
  };
}

async function existingImport(client: Client, workflowId: string): Promise<WorkflowHandle<typeof importSourceWorkflow> | undefined> {
  const handle = client.workflow.getHandle<typeof importSourceWorkflow>(workflowId);
  try {
    const { status } = await handle.describe();
    return status.name === 'RUNNING' || status.name === 'COMPLETED' ? handle : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

function describeProgress(progress: ImportProgress): string {
  if (progress.state === 'completed') return `completed, ${progress.imported} records imported`;
  if (progress.state === 'paused') return `paused while its server is ${progress.serverStatus}, ${progress.imported} records so far`;
  return `running, ${progress.imported} records so far`;
}
