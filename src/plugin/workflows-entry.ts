import type { BundleOptions } from '@temporalio/worker';
// Types only: webpack comes with the SDK's bundler, whose hook hands us its configuration.
import type { Compiler, Configuration, WebpackPluginInstance } from 'webpack';

/** The module holding the plugin's own workflows, as the worker's bundler needs it: an absolute path. */
export const PLUGIN_WORKFLOWS_PATH = require.resolve('../workflows');

const HOOK_NAME = 'temporal-oauth-workflows';
// A URL scheme of its own, so that it never meets a user's own virtual modules.
const VIRTUAL_SCHEME = 'temporal-oauth';
const VIRTUAL_MODULE = 'workflows';

function entriesOf(config: Configuration): string[] {
  const entries = typeof config.entry === 'string' ? [config.entry] : config.entry;
  if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== 'string')) {
    throw new Error('temporal-oauth cannot add its workflows: the workflow bundler no longer gives webpack a list of entry files');
  }
  return entries;
}

/**
 * A worker bundles one workflows module, which the bundler's generated entry requires by its path.
 * To add the plugin's workflows to a user's without asking them to re-export anything, that one
 * request, made by the entry, is answered with a module held in memory that re-exports both;
 * everyone else who requires the user's module gets the module itself. Nothing is written to disk,
 * and the entry stays beside the user's workflows, so the SDK comes from the user's project as it
 * does without the plugin (one copy in the bundle).
 */
export function withPluginWorkflows(options: BundleOptions): BundleOptions {
  const userWorkflowsPath = options.workflowsPath;
  if (userWorkflowsPath === PLUGIN_WORKFLOWS_PATH) return options;
  // CommonJS, because both modules may be compiled to it.
  const source = `Object.assign(module.exports, require(${JSON.stringify(userWorkflowsPath)}), require(${JSON.stringify(PLUGIN_WORKFLOWS_PATH)}));\n`;
  const userHook = options.webpackConfigHook;
  const addPluginWorkflows = (config: Configuration): Configuration => {
    const entries = entriesOf(config);
    const answerEntryRequest: WebpackPluginInstance = {
      apply(compiler: Compiler) {
        // The SDK's own webpack, whichever copy that is.
        new compiler.webpack.experiments.schemes.VirtualUrlPlugin({ [VIRTUAL_MODULE]: { type: '.cjs', source: () => source } }, VIRTUAL_SCHEME).apply(compiler);
        compiler.hooks.normalModuleFactory.tap(HOOK_NAME, (factory) => {
          factory.hooks.beforeResolve.tap(HOOK_NAME, (request) => {
            if (request.request === userWorkflowsPath && entries.includes(request.contextInfo.issuer)) request.request = `${VIRTUAL_SCHEME}:${VIRTUAL_MODULE}`;
          });
        });
      },
    };
    return { ...config, plugins: [...(config.plugins ?? []), answerEntryRequest] };
  };
  return { ...options, webpackConfigHook: (config) => (userHook ? userHook(addPluginWorkflows(config)) : addPluginWorkflows(config)) };
}
