import type { DataConverter } from '@temporalio/common';
import { SimplePlugin } from '@temporalio/plugin';
import type { BundleOptions, ReplayWorkerOptions, Worker, WorkerOptions } from '@temporalio/worker';
import { createOAuthActivities, type OAuthActivitiesOptions, type ServerWorkflowActivities } from '../activities';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV, loadCodecKeyRing, type CodecKeyRing } from '../codec/codec-keys';
import { EncryptionCodec } from '../codec/encryption-codec';
import { MarkingCodec } from '../codec/marking-codec';
import { isTokenRequestTaskQueue } from '../contract/definitions';
import { runWithTokenRequestWorker } from './token-request-worker';
import { pluginWorkflowStarts } from './plugin-workflow-starts';
import { PLUGIN_WORKFLOWS_PATH, withPluginWorkflows } from './workflows-entry';

export interface TemporalOAuthPluginOptions extends OAuthActivitiesOptions {
  /**
   * The keys of the payload codec that keeps client secrets and tokens out of Temporal in clear.
   * Left out, they are read from TEMPORAL_OAUTH_CODEC_KEYS or TEMPORAL_OAUTH_CODEC_KEY_FILE, and the
   * plugin refuses to start without them. `false` stores everything in clear: tests of the codec only.
   */
  codecKeys?: CodecKeyRing | false;
  /**
   * Also encrypt the payloads of your own workflows and activities (their inputs, results, signals,
   * queries, updates and failures, `webServiceCall`'s included). Default false: the plugin encrypts
   * what it owns (server configurations, secrets, tokens, everything of its own workflows and
   * activities) and leaves yours to your own codecs, so that a call costs no cipher work it does not need.
   */
  encryptUserPayloads?: boolean;
}

/** A user's own failure converter is kept: it then decides whether failure messages are encoded. */
const ENCODING_FAILURE_CONVERTER_PATH = require.resolve('../codec/failure-converter');
/**
 * Tags what arrived encrypted, for `arrivedEncrypted`. A user's own payload converter is kept: built
 * with `withEncryptedInputTags`, it tags too; otherwise the plugin's workflows see no input as encrypted.
 */
const TAGGING_PAYLOAD_CONVERTER_PATH = require.resolve('../codec/payload-converter');

function encryptingConverter(keys: CodecKeyRing, encryptUserPayloads: boolean): (existing: DataConverter | undefined) => DataConverter {
  return (existing) => ({
    ...existing,
    // Encryption wraps whatever the user's own codecs produce.
    payloadCodecs: [new MarkingCodec(new EncryptionCodec(keys), existing?.payloadCodecs, encryptUserPayloads)],
    payloadConverterPath: existing?.payloadConverterPath ?? TAGGING_PAYLOAD_CONVERTER_PATH,
    failureConverterPath: existing?.failureConverterPath ?? ENCODING_FAILURE_CONVERTER_PATH,
  });
}

function codecKeysFrom(option: TemporalOAuthPluginOptions['codecKeys']): CodecKeyRing | false {
  if (option !== undefined) return option;
  const keys = loadCodecKeyRing();
  if (!keys) {
    throw new Error(
      `temporal-oauth encrypts the secrets and tokens it stores in Temporal: set ${CODEC_KEYS_ENV} (keyId:base64key,...) or ${CODEC_KEY_FILE_ENV}, or pass codecKeys to the plugin`,
    );
  }
  return keys;
}

/**
 * Adds temporal-oauth to a worker and a client: the token, webServiceCall and registration
 * activities, the OAuth server and import-source workflows alongside the user's own, and the
 * encrypting payload codec. Give the same plugin to the Client, so that it reads what workers write.
 *
 * ```ts
 * const oauth = new TemporalOAuthPlugin();
 * const client = new Client({ connection, plugins: [oauth] });
 * const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath, plugins: [oauth] });
 * ```
 */
export class TemporalOAuthPlugin extends SimplePlugin {
  private readonly serverWorkflowActivities: ServerWorkflowActivities;
  private readonly encrypts: boolean;

  constructor(options: TemporalOAuthPluginOptions = {}) {
    const keys = codecKeysFrom(options.codecKeys);
    const { acquireOAuthToken, tellOAuthDependents, ...activities } = createOAuthActivities(options);
    super({
      name: 'temporal-oauth',
      activities,
      workflowsPath: (userWorkflowsPath) => userWorkflowsPath ?? PLUGIN_WORKFLOWS_PATH,
      dataConverter: keys ? encryptingConverter(keys, options.encryptUserPayloads ?? false) : undefined,
      clientInterceptors: keys ? pluginWorkflowStarts : undefined,
    });
    this.serverWorkflowActivities = { acquireOAuthToken, tellOAuthDependents };
    this.encrypts = keys !== false;
  }

  /**
   * Every bundle gets the plugin's workflows beside the user's, and holds the workflows' converters:
   * the plugin's, unless the user brings their own.
   */
  override configureBundler(options: BundleOptions): BundleOptions {
    const configured = withPluginWorkflows(super.configureBundler(options));
    if (!this.encrypts) return configured;
    return {
      ...configured,
      payloadConverterPath: configured.payloadConverterPath ?? TAGGING_PAYLOAD_CONVERTER_PATH,
      failureConverterPath: configured.failureConverterPath ?? ENCODING_FAILURE_CONVERTER_PATH,
    };
  }

  /** Every worker of the plugin also serves the token requests of the server workflows on its task queue. */
  override runWorker(worker: Worker, next: (worker: Worker) => Promise<void>): Promise<void> {
    if (isTokenRequestTaskQueue(worker.options.taskQueue)) return next(worker);
    return super.runWorker(worker, (configured) => runWithTokenRequestWorker(configured, next, this.serverWorkflowActivities));
  }

  /**
   * A prebuilt bundle already holds the plugin's workflows (bundled through configureBundler), so keep it as it is.
   * A token-request worker is left alone: it meets the plugin again when the plugin is on the connection.
   */
  override configureWorker(options: WorkerOptions): WorkerOptions {
    if (isTokenRequestTaskQueue(options.taskQueue)) return options;
    const configured = super.configureWorker(options);
    return options.workflowBundle ? { ...configured, workflowsPath: options.workflowsPath } : configured;
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    const configured = super.configureReplayWorker(options);
    return options.workflowBundle ? { ...configured, workflowsPath: options.workflowsPath } : configured;
  }
}
