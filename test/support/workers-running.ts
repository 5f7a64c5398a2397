import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { PendingActivityState } = temporal.api.enums.v1;

/**
 * The workers that have started one of a workflow's activities and not finished it: a call waiting
 * for its server's token is one. Workers wait by reading the server's status, which leaves nothing in
 * any history, so this is how a test knows that every worker has a call waiting.
 */
export async function workersRunningActivities(handle: WorkflowHandle): Promise<Set<string>> {
  const { raw } = await handle.describe();
  return new Set(
    (raw.pendingActivities ?? []).filter((activity) => activity.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED).map((activity) => activity.lastWorkerIdentity ?? '?'),
  );
}
