import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { serverAvailabilitySignal, type ServerAvailability } from '../contract/definitions';

/**
 * FACTS: one workflow may have at most 2,000 outgoing signals pending. Sending in batches that are
 * each awaited keeps the fan-out far below that, for any number of dependents.
 */
const SIGNAL_BATCH = 500;

/**
 * The fan-out that tells a server's dependents about an availability change. A dependent that
 * cannot be signalled (it has ended) is reported to `forget`.
 */
export class Dependents {
  constructor(private readonly forget: (workflowId: string) => void) {}

  async notify(message: ServerAvailability, targets: readonly string[]): Promise<void> {
    for (let start = 0; start < targets.length; start += SIGNAL_BATCH) {
      await Promise.all(
        targets.slice(start, start + SIGNAL_BATCH).map((workflowId) =>
          getExternalWorkflowHandle(workflowId)
            .signal(serverAvailabilitySignal, message)
            .catch(() => this.forget(workflowId)),
        ),
      );
    }
  }
}
