import type { Client } from '@temporalio/client';
import { workflowRefusal } from '../contract/client-errors';
import { ServerFailure } from '../contract/failures';
import { normaliseServerName } from '../oauth/server-name';
import { MAX_DEPENDENTS_PER_REGISTRATION, registerDependentsUpdate, serverWorkflowId, type ServerAvailability } from '../contract/definitions';

/** A registration update stuck longer than this fails its batch, so that it cannot hold up the registrations behind it. */
const REGISTRATION_TIMEOUT_MS = 20_000;

interface Waiting {
  workflowId: string;
  resolve(availability: ServerAvailability): void;
  reject(error: unknown): void;
}

/**
 * A worker's registrations of dependents with their servers. A workflow takes at most 10 updates
 * in flight (FACTS), so each worker keeps at most one registration update in flight per server and
 * sends whoever registered meanwhile together in the next: thousands of import sources starting at
 * once cost a handful of updates instead of thousands of refused and retried ones.
 */
export class DependentRegistrations {
  private readonly waiting = new Map<string, Waiting[]>();

  /** `signal`: the registering activity was cancelled; a registration not yet sent is then dropped. */
  register(client: Client, server: string, workflowId: string, signal: AbortSignal): Promise<ServerAvailability> {
    const key = normaliseServerName(server);
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { workflowId, resolve, reject };
      signal.addEventListener('abort', () => this.drop(key, waiting, signal.reason), { once: true });
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push(waiting);
        return;
      }
      this.waiting.set(key, [waiting]);
      void this.send(client, key);
    });
  }

  private drop(key: string, waiting: Waiting, reason: unknown): void {
    const queue = this.waiting.get(key);
    const index = queue?.indexOf(waiting) ?? -1;
    if (index < 0) return;
    queue?.splice(index, 1);
    waiting.reject(reason);
  }

  /** Sends the waiting registrations of one server, a batch at a time, until none is left. */
  private async send(client: Client, key: string): Promise<void> {
    const queue = this.waiting.get(key) ?? [];
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_DEPENDENTS_PER_REGISTRATION);
      try {
        const availability = await registerBatch(client, key, batch);
        for (const waiting of batch) waiting.resolve(availability);
      } catch (error) {
        if (batch.length === 1 || workflowRefusal(error)?.type !== ServerFailure.TooManyDependents) {
          for (const waiting of batch) waiting.reject(error);
          continue;
        }
        // A full server refuses a batch whole: one at a time, those already registered and those that still fit get in.
        for (const waiting of batch) {
          await registerBatch(client, key, [waiting]).then(
            (availability) => waiting.resolve(availability),
            (error: unknown) => waiting.reject(error),
          );
        }
      }
    }
    this.waiting.delete(key);
  }
}

function registerBatch(client: Client, key: string, batch: readonly Waiting[]): Promise<ServerAvailability> {
  return client.withAbortSignal(AbortSignal.timeout(REGISTRATION_TIMEOUT_MS), () =>
    client.workflow
      .getHandle(serverWorkflowId(key))
      .executeUpdate(registerDependentsUpdate, { args: [{ workflowIds: batch.map((waiting) => waiting.workflowId) }] }),
  );
}
