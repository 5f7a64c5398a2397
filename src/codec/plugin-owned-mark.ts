import type { Payload } from '@temporalio/common';
import { inWorkflowContext, workflowInfo } from '@temporalio/workflow';
import { OAUTH_SERVER_WORKFLOW_TYPE } from '../contract/definitions';
import { importSourceWorkflow } from '../workflows/import-source';

/**
 * Metadata the plugin's payload converter puts on every payload one of the plugin's own workflows
 * writes, whatever its workflow ID: an import source's ID is its starter's choice, yet its
 * continue-as-new input must arrive encrypted. The codec encrypts what carries it and drops it.
 * Forging it can only make the codec encrypt more.
 */
export const PLUGIN_OWNED_METADATA = 'temporal-oauth-plugin-owned';

/** The workflow types whose payloads are always encrypted. */
export const PLUGIN_WORKFLOW_TYPES: ReadonlySet<string> = new Set([OAUTH_SERVER_WORKFLOW_TYPE, importSourceWorkflow.name]);

/** Whether the code converting right now is one of the plugin's workflows (in the sandbox; never outside it). */
export function inPluginWorkflow(): boolean {
  return inWorkflowContext() && PLUGIN_WORKFLOW_TYPES.has(workflowInfo().workflowType);
}

export function hasPluginOwnedMark(payload: Payload): boolean {
  return payload.metadata?.[PLUGIN_OWNED_METADATA] != null;
}

export function withPluginOwnedMark(payload: Payload): Payload {
  return { ...payload, metadata: { ...payload.metadata, [PLUGIN_OWNED_METADATA]: new Uint8Array([0x31]) } };
}

export function withoutPluginOwnedMark(payload: Payload): Payload {
  if (!hasPluginOwnedMark(payload)) return payload;
  const { [PLUGIN_OWNED_METADATA]: _mark, ...metadata } = payload.metadata ?? {};
  return { ...payload, metadata };
}
