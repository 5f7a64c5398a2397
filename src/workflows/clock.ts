/**
 * Workflow time. Inside a workflow the SDK replaces Date with the time of the current workflow
 * task, so this is deterministic on replay; it lives in one place so that no other workflow file
 * needs to touch Date at all.
 */
export function workflowNow(): number {
  return Date.now();
}
