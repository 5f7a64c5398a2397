import type { ClientInterceptors } from '@temporalio/client';
import { asPluginWorkflowStart } from '../codec/encryption-scope';
import { PLUGIN_WORKFLOW_TYPES } from '../codec/plugin-owned-mark';

function startingPluginWorkflow<T>(workflowType: string | undefined, start: () => Promise<T>): Promise<T> {
  return workflowType !== undefined && PLUGIN_WORKFLOW_TYPES.has(workflowType) ? asPluginWorkflowStart(start) : start();
}

/**
 * A client names the workflow type only when it starts a workflow: these interceptors have the codec
 * encrypt what starts one of the plugin's (an import source under any ID), by hand, with a signal or
 * an update, or from a schedule, even when the user's own payloads stay in clear.
 */
export const pluginWorkflowStarts: ClientInterceptors = {
  workflow: [
    {
      startWithDetails: (input, next) => startingPluginWorkflow(input.workflowType, () => next(input)),
      signalWithStart: (input, next) => startingPluginWorkflow(input.workflowType, () => next(input)),
      startUpdateWithStart: (input, next) => startingPluginWorkflow(input.workflowType, () => next(input)),
    },
  ],
  schedule: [
    {
      create: (input, next) => startingPluginWorkflow(input.options.action.workflowType, () => next(input)),
    },
  ],
};
