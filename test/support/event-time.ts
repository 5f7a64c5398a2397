import type { temporal } from '@temporalio/proto';

/** When the service wrote a history event, in epoch milliseconds (0 for an event without a time). */
export function eventTimeMs(event: temporal.api.history.v1.IHistoryEvent): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
}
