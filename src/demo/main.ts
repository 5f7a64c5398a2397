import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import type { ImportBatch } from '../workflow';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV, generateCodecKey, loadCodecKeyRing, parseCodecKeyRing, type CodecKeyRing } from '../codec/codec-keys';
import { EncryptionCodec } from '../codec/encryption-codec';
import { startCodecServer } from '../codec/codec-server';
import { authorizeServer, createServer, OAUTH_SEARCH_ATTRIBUTES, ServerAlreadyExistsError, TemporalOAuthPlugin, type ServerView } from '..';
import { startTemporalEnvironment } from '../dev-server/temporal-environment';
import { generateClientSecret, startAuthorizationServer } from './authorization-server';
import { cliExample, type CliCodecKeys } from './cli-example';
import { startDemoImport } from './demo-import';
import { readOrCreate } from './demo-files';
import { startResourceApi } from './resource-api';
import { startAdminServer } from '../admin-page/admin-server';
import type { demoWhoAmI } from './workflows';

/**
 * Everything the demo keeps between runs (dev server database, demo secret) stays in this ignored
 * folder, or in TEMPORAL_OAUTH_DEMO_STATE_DIR (the test of this job runs beside a developer's demo).
 */
const STATE_DIR = resolve(process.env.TEMPORAL_OAUTH_DEMO_STATE_DIR ?? resolve(__dirname, '../../../.temporal'));
const TASK_QUEUE = 'temporal-oauth-demo';
const DEMO_SERVER = 'Demo API';
const DEMO_CLIENT_ID = 'demo-client';
const DEMO_SCOPES = 'api:read records:read api:write';

const DEMO_IMPORT_ID = 'demo-import';
const DEMO_IMPORT_RECORDS = Number(process.env.DEMO_IMPORT_RECORDS ?? 1000);
const IMPORT_PROGRESS_INTERVAL_MS = Number(process.env.DEMO_PROGRESS_INTERVAL_MS ?? 2_000);
/**
 * Ctrl-C under `npm start` arrives twice, from the terminal and passed on by npm: a signal this soon
 * after the first is the same press. A later one is an impatient user's, and ends the job at once.
 */
const SAME_PRESS_MS = 1_000;

const log = (line: string) => process.stdout.write(`${line}\n`);

/** The demo's import sink keeps nothing: the import's own progress is what the demo shows. */
function storeImportBatch(_batch: ImportBatch): Promise<void> {
  return Promise.resolve();
}

async function main(): Promise<void> {
  const metricsAddress = `127.0.0.1:${Number(process.env.DEMO_METRICS_PORT ?? 9404)}`;
  // The SDK's INFO lines (bundling, worker states) would bury the URLs this job prints. The plugin's
  // metrics go through the SDK's meter, so they come out wherever this process-wide Runtime exports.
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } });
  const closers: Array<() => Promise<void>> = [];
  const shutdown = async () => {
    for (const close of closers.reverse()) await close().catch((error: unknown) => log(`while stopping: ${String(error)}`));
  };
  const stop = new Promise<void>((resolveStop) => {
    let firstSignalAt: number | undefined;
    // Listening until the end also keeps a repeated signal from killing the job half-way through its shutdown.
    const onSignal = (signal: NodeJS.Signals) => {
      firstSignalAt ??= Date.now();
      if (Date.now() - firstSignalAt > SAME_PRESS_MS) process.exit(signal === 'SIGINT' ? 130 : 143);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    const { codecKeys, cliCodecKeys } = demoCodecKeys();
    const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
    const uiOrigin = `http://127.0.0.1:${uiPort}`;
    // For the CLI (`--codec-auth "Bearer …"`); the Web UI is let in by its Origin, so the credential stays out of argv.
    const codecCredential = readOrCreate(resolve(STATE_DIR, 'codec-endpoint-credential'), () => randomBytes(24).toString('base64url'));
    const codecServer = await startCodecServer({
      codec: new EncryptionCodec(codecKeys),
      credential: codecCredential,
      allowedOrigin: uiOrigin,
      trustAllowedOrigin: true,
      port: Number(process.env.DEMO_CODEC_PORT ?? 9402),
    });
    closers.push(() => codecServer.close());

    // The Temporal CLI says so itself when it must be built first.
    log('Starting Temporal…');
    const devServerLog = resolve(STATE_DIR, 'dev-server.log');
    const temporal = await startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      ui: true,
      port: Number(process.env.TEMPORAL_PORT ?? 7233),
      uiPort,
      dbFilename: resolve(STATE_DIR, 'dev-server.db'),
      uiCodecEndpoint: codecServer.url,
      // Its banner names localhost URLs where the UI cannot decode, and its shutdown is chatty: both go to its log.
      outputFile: devServerLog,
      ownSession: true,
      log,
    });
    closers.push(() => temporal.teardown());
    const secretFile = resolve(STATE_DIR, 'demo-client-secret');
    // The one file the demo server's configuration names: the state folder also holds the codec key.
    const plugin = new TemporalOAuthPlugin({ codecKeys, secretReferences: { fileRoots: [secretFile] } });
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, plugins: [plugin] });

    const resourceApiSecret = generateClientSecret();
    const authorizationServer = await startAuthorizationServer({
      port: Number(process.env.DEMO_AUTH_PORT ?? 9400),
      clients: [
        { clientId: DEMO_CLIENT_ID, authMethod: 'client_secret_basic', clientSecret: readOrCreate(secretFile, generateClientSecret), scope: DEMO_SCOPES },
        { clientId: 'demo-resource-api', authMethod: 'client_secret_basic', clientSecret: resourceApiSecret, scope: '' },
      ],
    });
    closers.push(() => authorizationServer.close());
    const api = await startResourceApi({
      port: Number(process.env.DEMO_API_PORT ?? 9401),
      issuer: authorizationServer.issuer,
      introspectionEndpoint: authorizationServer.introspectionEndpoint,
      clientId: 'demo-resource-api',
      clientSecret: resourceApiSecret,
      recordCount: DEMO_IMPORT_RECORDS,
    });
    closers.push(() => api.close());

    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./workflows'),
      activities: { storeImportBatch },
      plugins: [plugin],
    });
    const running = worker.run();
    closers.push(async () => {
      // The SDK itself starts shutting workers down on SIGINT/SIGTERM.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const view = await createOrReauthorize(client, {
      name: DEMO_SERVER,
      category: 'Demo',
      clientId: DEMO_CLIENT_ID,
      clientSecret: { source: 'external', ref: `file:${secretFile}` },
      accessTokenUrl: authorizationServer.tokenEndpoint,
      scope: DEMO_SCOPES,
      allowedOrigins: [api.origin],
    });
    log(
      `OAuth server "${DEMO_SERVER}"${view.found ? ' (already there, authorized again)' : ''}: ${view.server.status}${view.server.disabledReason ? ` (${view.server.disabledReason.message})` : ''}`,
    );

    const whoami = await client.workflow.execute<typeof demoWhoAmI>('demoWhoAmI', {
      taskQueue: TASK_QUEUE,
      workflowId: `demo-whoami-${randomUUID()}`,
      args: [DEMO_SERVER, api.url],
    });
    log(`webServiceCall GET ${api.url}/whoami → ${JSON.stringify(whoami)}`);

    const demoImport = await startDemoImport({
      client,
      workflowId: DEMO_IMPORT_ID,
      taskQueue: TASK_QUEUE,
      input: { server: DEMO_SERVER, url: `${api.url}/records`, pageSize: 50 },
      log,
      intervalMs: IMPORT_PROGRESS_INTERVAL_MS,
    });
    closers.push(() => Promise.resolve(demoImport.stop()));

    const passwordFile = resolve(STATE_DIR, 'admin-password');
    const adminPage = await startAdminServer({
      client,
      taskQueue: TASK_QUEUE,
      password: process.env.TEMPORAL_OAUTH_ADMIN_PASSWORD ?? readOrCreate(passwordFile, () => randomBytes(18).toString('base64url')),
      port: Number(process.env.DEMO_ADMIN_PORT ?? 9403),
      log,
    });
    closers.push(() => adminPage.close());

    log('');
    log(
      `OAuth servers page     ${adminPage.url} (log in with ${process.env.TEMPORAL_OAUTH_ADMIN_PASSWORD ? 'TEMPORAL_OAUTH_ADMIN_PASSWORD' : `the password in ${passwordFile}`})`,
    );
    log(`Temporal Web UI        ${temporal.external ? '(external server: see its own UI)' : uiOrigin} (payloads decoded by ${codecServer.url}, secrets redacted)`);
    log(`Temporal frontend      ${temporal.address} (namespace ${temporal.namespace})${temporal.external ? '' : `, dev server log ${devServerLog}`}`);
    log(`Authorization server   ${authorizationServer.issuer} (token endpoint ${authorizationServer.tokenEndpoint})`);
    log(`Resource API           ${api.url}`);
    log(`Worker task queue      ${TASK_QUEUE}`);
    log(`Metrics (Prometheus)   http://${metricsAddress}/metrics`);
    log(`Admin CLI              ${cliExample(temporal.address, temporal.namespace, cliCodecKeys)}`);
    log('');
    log('Running. Press Ctrl-C to stop.');
    await Promise.race([stop, running]);
  } finally {
    log('Stopping…');
    await shutdown();
  }
}

/**
 * Keys from the environment when set; otherwise the demo's own, kept so that its persisted history
 * stays readable, and written again as a key file for the admin CLI.
 */
function demoCodecKeys(): { codecKeys: CodecKeyRing; cliCodecKeys: CliCodecKeys } {
  const fromEnvironment = loadCodecKeyRing();
  if (fromEnvironment) {
    const file = process.env[CODEC_KEY_FILE_ENV];
    return { codecKeys: fromEnvironment, cliCodecKeys: file ? { file: resolve(file) } : { variable: CODEC_KEYS_ENV } };
  }
  const key = readOrCreate(resolve(STATE_DIR, 'codec-key'), generateCodecKey);
  const file = resolve(STATE_DIR, 'codec-keys.json');
  writeFileSync(file, JSON.stringify({ current: 'demo', keys: { demo: key } }), { mode: 0o600 });
  return { codecKeys: parseCodecKeyRing(`demo:${key}`), cliCodecKeys: { file } };
}

/** The dev server keeps its state across runs: the demo server may exist already, and then needs a fresh token. */
async function createOrReauthorize(
  client: Parameters<typeof createServer>[0],
  config: Parameters<typeof createServer>[1],
): Promise<{ server: ServerView; found: boolean }> {
  try {
    return { server: await createServer(client, config, { taskQueue: TASK_QUEUE }), found: false };
  } catch (error) {
    if (!(error instanceof ServerAlreadyExistsError)) throw error;
    return { server: await authorizeServer(client, DEMO_SERVER), found: true };
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
