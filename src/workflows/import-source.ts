import * as wf from '@temporalio/workflow';
import type { ServerAvailability } from '../contract/definitions';
import { ImportFailure, nonRetryable } from '../contract/failures';
import { arrivedEncrypted } from './encrypted-input';
import { pageReader, type Cursor, type ImportPageShape } from './import-pages';
import { OAuthServerDependency } from './oauth-dependency';
import { webServiceCall } from './web-service-call';

/** One page, handed to the sink activity. `batchKey` is stable across retries and resumes: sinks can use it to stay idempotent. */
export interface ImportBatch {
  source: string;
  batchKey: string;
  records: unknown[];
}

export interface ImportSourceInput {
  /** The OAuth server whose token authorizes the reads. */
  server: string;
  /** A page endpoint: by default GET url?cursor=C&limit=N answers `{ records: [...], nextCursor: C' | null }`; `pageShape` tells other shapes. */
  url: string;
  /** Records asked for per page: 1 to 10,000, default 50. */
  pageSize?: number;
  /** Where the records and the next page are in an answer, and how the cursor and page size are sent. */
  pageShape?: ImportPageShape;
  /** The activity, registered on the worker, that stores one ImportBatch. */
  sinkActivity?: string;
  /** Set by the workflow itself when it continues as new. */
  carried?: ImportCarried;
}

export interface ImportCarried {
  cursor: Cursor;
  imported: number;
  pages: number;
  availability: ServerAvailability;
}

export interface ImportProgress {
  state: 'running' | 'paused' | 'completed';
  imported: number;
  pages: number;
  cursor: Cursor | null;
  serverStatus: ServerAvailability['status'];
  lastError?: string;
}

export const importProgressQuery = wf.defineQuery<ImportProgress>('importProgress');

export const DEFAULT_SINK_ACTIVITY = 'storeImportBatch';
/** Imports started before this check was added replay without it. */
const REFUSES_CLEAR_INPUT_PATCH = 'import-source-refuses-clear-input';

/**
 * A long-running import that depends on an OAuth server. It pages through a resource API with
 * webServiceCall and hands each page to a sink activity, moving its cursor only after the sink has
 * the page. It pauses while the server is disabled and resumes where it stopped when the server is
 * enabled again, so every record is delivered once, none skipped.
 */
export async function importSourceWorkflow(input: ImportSourceInput): Promise<ImportProgress> {
  // Only holders of the codec keys may make a worker spend a server's token on their behalf.
  if (!arrivedEncrypted(input) && wf.patched(REFUSES_CLEAR_INPUT_PATCH)) {
    throw nonRetryable(ImportFailure.NotEncrypted, 'input: must be sent encrypted by a client with the plugin and its codec keys', { field: 'input' });
  }
  const reader = pageReader(input);
  let cursor: Cursor | null = input.carried?.cursor ?? reader.firstCursor;
  let imported = input.carried?.imported ?? 0;
  let pages = input.carried?.pages ?? 0;
  let lastError: string | undefined;
  // Progress can be queried while the registration below is still under way.
  const registered: { dependency?: OAuthServerDependency } = {};

  const progress = (): ImportProgress => ({
    state: cursor === null ? 'completed' : registered.dependency?.paused ? 'paused' : 'running',
    imported,
    pages,
    cursor,
    serverStatus: registered.dependency?.status ?? input.carried?.availability.status ?? 'NotAuthorized',
    lastError,
  });
  wf.setHandler(importProgressQuery, progress);

  const dependency = await OAuthServerDependency.register(input.server, input.carried?.availability);
  registered.dependency = dependency;
  const sink = wf.proxyActivities<Record<string, (batch: ImportBatch) => Promise<void>>>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 10 },
  })[input.sinkActivity ?? DEFAULT_SINK_ACTIVITY];
  if (!sink) throw wf.ApplicationFailure.nonRetryable('no sink activity', ImportFailure.InvalidSource);

  try {
    while (cursor !== null) {
      const pageCursor: string | number = cursor;
      const response = await dependency.run(async () => {
        try {
          return await webServiceCall(reader.request(input.server, pageCursor, pages === 0));
        } catch (error) {
          lastError = error instanceof wf.ActivityFailure && error.cause ? error.cause.message : error instanceof Error ? error.message : 'unknown error';
          throw error;
        }
      });
      const page = reader.read(response, pageCursor);
      await sink({ source: wf.workflowInfo().workflowId, batchKey: String(pageCursor), records: page.records });
      imported += page.records.length;
      pages += 1;
      cursor = page.next;
      lastError = undefined;
      if (cursor !== null && wf.workflowInfo().continueAsNewSuggested) {
        await wf.condition(wf.allHandlersFinished);
        await wf.continueAsNew<typeof importSourceWorkflow>({
          ...input,
          carried: { cursor, imported, pages, availability: dependency.availability },
        });
      }
    }
  } catch (error) {
    // The next run keeps the registration; any other ending gives it up, even a cancelled one.
    if (!(error instanceof wf.ContinueAsNew)) await wf.CancellationScope.nonCancellable(() => dependency.release());
    throw error;
  }
  await dependency.release();
  return progress();
}
