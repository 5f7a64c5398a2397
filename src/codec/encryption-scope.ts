import { AsyncLocalStorage } from 'node:async_hooks';
import { asyncLocalStorage as runningActivity } from '@temporalio/activity';
import type { SerializationContext } from '@temporalio/common';
import { isServerWorkflowId } from '../contract/definitions';
import { PLUGIN_WORKFLOW_TYPES } from './plugin-owned-mark';

const startingPluginWorkflow = new AsyncLocalStorage<true>();

/**
 * Runs a client call that starts one of the plugin's workflows: whatever workflow ID the caller
 * chose (an import source's is theirs), what it sends is encrypted, as the workflow's input check needs.
 */
export function asPluginWorkflowStart<T>(start: () => T): T {
  return startingPluginWorkflow.run(true, start);
}

/**
 * Whether payloads of `context` belong to the plugin, which encrypts them whatever its options: those
 * of an OAuth server workflow, of the activities it schedules, of a client starting one of the plugin's
 * workflows, of an activity one of them scheduled (an import source's pages, under any workflow ID),
 * and any whose owner is unknown (no context, or no workflow ID). The rest belong to the user's
 * workflows and activities.
 */
export function isPluginOwned(context: SerializationContext | undefined): boolean {
  if (startingPluginWorkflow.getStore()) return true;
  const workflowId = context?.workflowId;
  if (workflowId === undefined || isServerWorkflowId(workflowId)) return true;
  // The worker encodes an activity's result and failure inside the activity's own context.
  const scheduledBy = runningActivity.getStore()?.info.workflowType;
  return scheduledBy !== undefined && PLUGIN_WORKFLOW_TYPES.has(scheduledBy);
}
