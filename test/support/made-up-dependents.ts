import type { WorkflowHandle } from '@temporalio/client';
import { MAX_DEPENDENTS_PER_REGISTRATION, registerDependentsUpdate } from '../../src/contract/definitions';

/**
 * Registers workflow IDs no workflow has as a server's dependents, as the plugin's workers do, a
 * batch at a time. A fan-out finds them ended and the server forgets them: a cheap stand-in for
 * thousands of dependents wherever only the server's side is measured.
 */
export async function registerMadeUpDependents(server: WorkflowHandle, workflowIds: readonly string[]): Promise<void> {
  for (let start = 0; start < workflowIds.length; start += MAX_DEPENDENTS_PER_REGISTRATION) {
    await server.executeUpdate(registerDependentsUpdate, { args: [{ workflowIds: workflowIds.slice(start, start + MAX_DEPENDENTS_PER_REGISTRATION) }] });
  }
}
