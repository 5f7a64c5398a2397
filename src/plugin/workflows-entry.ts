import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The module holding the plugin's own workflows, as the worker's bundler needs it: an absolute path. */
export const PLUGIN_WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * A worker bundles one workflows module. To add the plugin's workflows to a user's without asking
 * them to re-export anything, bundle a small module that re-exports both; its name is a hash of
 * its content, so concurrent workers share it and it is written only once.
 */
export function workflowsEntryWith(userWorkflowsPath: string | undefined): string {
  if (userWorkflowsPath === undefined || userWorkflowsPath === PLUGIN_WORKFLOWS_PATH) return PLUGIN_WORKFLOWS_PATH;
  const source = `export * from ${JSON.stringify(userWorkflowsPath)};\nexport * from ${JSON.stringify(PLUGIN_WORKFLOWS_PATH)};\n`;
  const folder = join(tmpdir(), 'temporal-oauth-workflows');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${createHash('sha256').update(source).digest('hex').slice(0, 16)}.js`);
  writeFileSync(file, source);
  return file;
}
