import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

/** The module holding the plugin's own workflows, as the worker's bundler needs it: an absolute path. */
export const PLUGIN_WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * A worker bundles one workflows module. To add the plugin's workflows to a user's without asking
 * them to re-export anything, bundle a small module that re-exports both. The bundler resolves
 * `@temporalio/workflow` from the entry's folder, so the entry goes where the user's workflows find
 * theirs: the `.cache` folder of that same node_modules (one copy of the SDK in the bundle). Its
 * name is a hash of its content, so concurrent workers share it.
 */
export function workflowsEntryWith(userWorkflowsPath: string | undefined): string {
  if (userWorkflowsPath === undefined || userWorkflowsPath === PLUGIN_WORKFLOWS_PATH) return PLUGIN_WORKFLOWS_PATH;
  // CommonJS, because the bundler treats a plain .js entry as CommonJS and both sides may be compiled to it.
  const source = `Object.assign(module.exports, require(${JSON.stringify(userWorkflowsPath)}), require(${JSON.stringify(PLUGIN_WORKFLOWS_PATH)}));\n`;
  const folder = join(nodeModulesOf(userWorkflowsPath), '.cache', 'temporal-oauth');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `workflows-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.js`);
  writeFileSync(file, source);
  return file;
}

function nodeModulesOf(workflowsPath: string): string {
  const sdk = require.resolve('@temporalio/workflow', { paths: [dirname(workflowsPath)] });
  const marker = `${sep}node_modules${sep}`;
  return sdk.slice(0, sdk.lastIndexOf(marker) + marker.length - 1);
}
