import type { temporal } from '@temporalio/proto';
import { REFRESH_NOT_DUE } from '../../src/contract/failures';

/**
 * A workflow's pending activities that are doing something: a server's scheduled token refresh, which
 * waits for most of a token's lifetime writing nothing to history, is left out once it has begun waiting.
 */
export function busyActivities(pending: readonly temporal.api.workflow.v1.IPendingActivityInfo[] | null | undefined): number {
  return (pending ?? []).filter((activity) => activity.lastFailure?.applicationFailureInfo?.type !== REFRESH_NOT_DUE).length;
}
