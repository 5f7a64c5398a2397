import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { serverAvailabilitySignal, type ServerAvailability } from '../contract/definitions';

/**
 * FACTS: one workflow may have at most 2,000 outgoing signals pending. Sending in batches that are
 * each awaited keeps the fan-out far below that, for any number of dependents.
 */
const SIGNAL_BATCH = 500;

/**
 * The dependents of one server, and the fan-out that tells them about availability changes. A
 * dependent that cannot be signalled (it has ended) is forgotten.
 */
export class Dependents {
  private readonly ids: Set<string>;

  constructor(ids: readonly string[] = []) {
    this.ids = new Set(ids);
  }

  add(workflowId: string): void {
    this.ids.add(workflowId);
  }

  remove(workflowId: string): void {
    this.ids.delete(workflowId);
  }

  get size(): number {
    return this.ids.size;
  }

  list(): string[] {
    return [...this.ids];
  }

  async notify(message: ServerAvailability): Promise<void> {
    const targets = this.list();
    for (let start = 0; start < targets.length; start += SIGNAL_BATCH) {
      await Promise.all(
        targets.slice(start, start + SIGNAL_BATCH).map((workflowId) =>
          getExternalWorkflowHandle(workflowId)
            .signal(serverAvailabilitySignal, message)
            .catch(() => this.ids.delete(workflowId)),
        ),
      );
    }
  }
}
