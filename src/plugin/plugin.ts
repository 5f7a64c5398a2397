import { SimplePlugin } from '@temporalio/plugin';
import type { ReplayWorkerOptions, WorkerOptions } from '@temporalio/worker';
import { createOAuthActivities, type OAuthActivitiesOptions } from '../activities';
import { workflowsEntryWith } from './workflows-entry';

export type TemporalOAuthPluginOptions = OAuthActivitiesOptions;

/**
 * Adds temporal-oauth to a worker and a client: the token and webServiceCall activities, the OAuth
 * server workflow alongside the user's own workflows.
 *
 * ```ts
 * const oauth = new TemporalOAuthPlugin();
 * const worker = await Worker.create({ connection, taskQueue, workflowsPath, plugins: [oauth] });
 * ```
 */
export class TemporalOAuthPlugin extends SimplePlugin {
  constructor(options: TemporalOAuthPluginOptions = {}) {
    super({
      name: 'temporal-oauth',
      activities: createOAuthActivities(options),
      workflowsPath: workflowsEntryWith,
    });
  }

  /** A prebuilt bundle already holds the plugin's workflows (bundled through configureBundler), so keep it as it is. */
  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    return options.workflowBundle ? { ...configured, workflowsPath: options.workflowsPath } : configured;
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    const configured = super.configureReplayWorker(options);
    return options.workflowBundle ? { ...configured, workflowsPath: options.workflowsPath } : configured;
  }
}
