import type * as ConfigModule from '../oauth/config';

let loaded: typeof ConfigModule | undefined;

/**
 * The configuration's schema (and zod with it), loaded when a workflow first checks a configuration.
 * A worker evaluates the modules a workflow imports once for every workflow it holds (each has a
 * module cache of its own), and every workflow of a worker with the plugin imports the plugin's
 * workflows: imported at the top, zod cost each of them, the user's own included, about 1 MB of
 * memory and a slower start, though only a server's create and edit checks use it.
 */
export function configRules(): typeof ConfigModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require runs when called, an import for every workflow
  loaded ??= require('../oauth/config') as typeof ConfigModule;
  return loaded;
}
