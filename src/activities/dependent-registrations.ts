import type { Client } from '@temporalio/client';
import { normaliseServerName } from '../oauth/server-name';
import { MAX_DEPENDENTS_PER_REGISTRATION, registerDependentsUpdate, serverWorkflowId, type ServerAvailability } from '../workflows/definitions';

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

  register(client: Client, server: string, workflowId: string): Promise<ServerAvailability> {
    const key = normaliseServerName(server);
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push({ workflowId, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ workflowId, resolve, reject }]);
      void this.send(client, key);
    });
  }

  /** Sends the waiting registrations of one server, a batch at a time, until none is left. */
  private async send(client: Client, key: string): Promise<void> {
    const queue = this.waiting.get(key) ?? [];
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_DEPENDENTS_PER_REGISTRATION);
      try {
        const availability = await client.workflow
          .getHandle(serverWorkflowId(key))
          .executeUpdate(registerDependentsUpdate, { args: [{ workflowIds: batch.map((waiting) => waiting.workflowId) }] });
        for (const waiting of batch) waiting.resolve(availability);
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.waiting.delete(key);
  }
}
