import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { eventTimeMs } from '../test/support/event-time';
import { medianOf } from './report';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Dependents whose histories are read after a round: enough for medians, few enough not to slow the bench down. */
const SAMPLED = 40;

/**
 * Where one side's dependents spent a round, medians in seconds over a sample of them, from their
 * own histories: from the round's start until the signal was in their history, until the task it
 * woke was picked up by the worker, and how long the worker took over that task. Both sides wake
 * their dependents the same way (a signal, one task that marks it), so a gap between the sides
 * shows in the phase where it arises.
 */
export interface DependentTaskTimes {
  signalled: number;
  queued: number;
  worked: number;
}

/** Evenly spread over `handles`, so that early and late dependents are both in the sample. */
export function sampleOf<T>(handles: readonly T[]): T[] {
  const step = Math.max(1, Math.floor(handles.length / SAMPLED));
  return handles.filter((_, index) => index % step === 0).slice(0, SAMPLED);
}

export async function dependentTaskTimes(sample: readonly WorkflowHandle[], since: number): Promise<DependentTaskTimes> {
  const phases = await Promise.all(sample.map(async (handle) => taskAfterSignal((await handle.fetchHistory()).events ?? [], since)));
  const known = phases.filter((phase) => phase !== undefined);
  return { signalled: medianOf(known, 'signalled'), queued: medianOf(known, 'queued'), worked: medianOf(known, 'worked') };
}

function taskAfterSignal(events: readonly HistoryEvent[], since: number): DependentTaskTimes | undefined {
  const signalAt = events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && eventTimeMs(event) >= since);
  if (signalAt < 0) return undefined;
  const after = events.slice(signalAt);
  const find = (type: temporal.api.enums.v1.EventType) => after.find((event) => event.eventType === type);
  const scheduled = find(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  const started = find(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  const completed = find(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  const signal = events[signalAt];
  if (!signal || !scheduled || !started || !completed) return undefined;
  // A signal that arrives while a task runs is scheduled with the next one: queued counts from the later of the two.
  const ready = Math.max(eventTimeMs(signal), eventTimeMs(scheduled));
  return { signalled: (eventTimeMs(signal) - since) / 1000, queued: (eventTimeMs(started) - ready) / 1000, worked: (eventTimeMs(completed) - eventTimeMs(started)) / 1000 };
}
