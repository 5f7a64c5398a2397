import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { listDependents } from '../admin/servers';
import { importProgressQuery, importSourceWorkflow, type ImportProgress } from '../workflows/import-source';

/** What the page says of one dependent: for an import source, whether it is paused and on what. */
export interface DependentDetail {
  workflowId: string;
  workflowType?: string;
  /** Temporal's execution status, e.g. RUNNING; absent when the workflow no longer exists. */
  executionStatus?: string;
  importProgress?: ImportProgress;
}

/** The dialog describes this many; the total is shown beside them. */
export const MAX_DESCRIBED_DEPENDENTS = 100;

export async function dependentDetails(client: Client, server: string): Promise<{ total: number; dependents: DependentDetail[] }> {
  const workflowIds = await listDependents(client, server);
  const dependents = await Promise.all(workflowIds.slice(0, MAX_DESCRIBED_DEPENDENTS).map((workflowId) => describeDependent(client, workflowId)));
  return { total: workflowIds.length, dependents };
}

async function describeDependent(client: Client, workflowId: string): Promise<DependentDetail> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    const detail: DependentDetail = { workflowId, workflowType: description.type, executionStatus: description.status.name };
    if (description.type === importSourceWorkflow.name && description.status.name === 'RUNNING') {
      detail.importProgress = await handle.query(importProgressQuery);
    }
    return detail;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { workflowId };
    throw error;
  }
}
