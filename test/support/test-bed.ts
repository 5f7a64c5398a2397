import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, Worker, type ActivityInterceptorsFactory, type WorkflowBundle, type WorkerOptions } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCodecKeyRing, type CodecKeyRing } from '../../src/codec/codec-keys';
import { OAUTH_SEARCH_ATTRIBUTES, TemporalOAuthPlugin, type AuthMethod, type OAuthServerConfigInput, type SecretReferences } from '../../src';
import {
  generateClientSecret,
  generatePrivateKey,
  startAuthorizationServer,
  type AuthorizationServer,
  type ClientRegistration,
} from '../../src/demo/authorization-server';
import { startResourceApi, type ResourceApi } from '../../src/demo/resource-api';
import { testLogger } from './captured-logs';
import { serverLogFile } from './leak-scan';
import { startTemporalEnvironment, type TemporalEnvironment } from '../../src/dev-server/temporal-environment';

/**
 * The suite's payload codec keys: fixed (test-only) so that the recorded histories in
 * test/fixtures/histories stay readable by the replay test. Child worker processes load them with
 * TEMPORAL_OAUTH_CODEC_KEY_FILE=CODEC_KEYS_FIXTURE.
 */
export const CODEC_KEYS_FIXTURE = resolve(__dirname, '../../../test/fixtures/codec-keys.json');
export function codecKeyFixture(): { current: string; keys: Record<string, string> } {
  return JSON.parse(readFileSync(CODEC_KEYS_FIXTURE, 'utf8')) as { current: string; keys: Record<string, string> };
}
export const codecKeys: CodecKeyRing = parseCodecKeyRing(codecKeyFixture(), CODEC_KEYS_FIXTURE);

/** A folder of this run whose files the suite's workers may read as `file:` secrets. */
export const TEST_SECRET_FILES = mkdtempSync(join(tmpdir(), 'temporal-oauth-test-secrets-'));
/** The external secrets the suite's workers may read: variables named TEMPORAL_OAUTH_TEST_SECRET_* and files in TEST_SECRET_FILES. */
export const TEST_SECRET_REFERENCES: SecretReferences = { envPrefixes: ['TEMPORAL_OAUTH_TEST_SECRET_'], fileRoots: [TEST_SECRET_FILES] };

/** The plugin as the suite's workers and clients use it. */
export function testPlugin(): TemporalOAuthPlugin {
  return new TemporalOAuthPlugin({ codecKeys, secretReferences: TEST_SECRET_REFERENCES });
}

/** The scopes the resource API's routes need; every test client is allowed all of them. */
export const API_SCOPES = 'api:read records:read api:write';

interface TestClient {
  clientId: string;
  /** The client secret, or the private JWK (JSON) for private_key_jwt: what goes in the configuration. */
  secret: string;
}

export interface WithWorkerOptions {
  taskQueue?: string;
  /** Activities of the test's own, such as an import sink. */
  activities?: object;
  /** Another Temporal environment than the suite's, e.g. one started with other dynamic config. */
  temporal?: TemporalEnvironment;
  /** Activity interceptors of the test's own; the token-request worker beside the worker runs them too. */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/** One dev server, one authorization server and one resource API for the whole run. */
export interface TestBed {
  temporal: TemporalEnvironment;
  /** A client with the plugin: it reads and writes encrypted payloads. */
  client: Client;
  /** A client without the codec: what someone reading history without the keys would see. */
  rawClient: Client;
  /** Every client secret and private key handed to a configuration or the authorization server so far. */
  secretsUsed(): string[];
  /** A client with the plugin for another environment than the suite's. */
  clientFor(environment: TemporalEnvironment): Client;
  authorizationServer: AuthorizationServer;
  api: ResourceApi;
  clients: Record<AuthMethod, TestClient>;
  /** Another resource API on the same authorization server, e.g. with a fixed number of records to import. */
  startResourceApi(options: { recordCount: number }): Promise<ResourceApi>;
  /** Registers a client of its own for a test that changes it (secret rotation, short token lifetime). */
  registerClient(registration: Omit<ClientRegistration, 'clientId'> & { clientId?: string }): Promise<TestClient>;
  /** Adds a value the final scan must not find anywhere, such as a client assertion seen on the wire. */
  rememberSecret(value: string): void;
  /** Gives a registered client a new secret at the authorization server, and returns it. */
  rotateClientSecret(clientId: string): Promise<string>;
  /** A configuration for `method` against the real authorization server, allowed to call the resource API. */
  serverConfig(method: AuthMethod, overrides?: Partial<OAuthServerConfigInput>): OAuthServerConfigInput;
  /** The test workflows and the plugin's, bundled once for every worker of the run. */
  workflowBundle: WorkflowBundle;
  /** Runs `fn` while a worker with the plugin polls a fresh task queue. */
  withWorker<T>(fn: (taskQueue: string) => Promise<T>, options?: WithWorkerOptions): Promise<T>;
  close(): Promise<void>;
}

let current: TestBed | undefined;

export function testBed(): TestBed {
  if (!current) throw new Error('the test bed is started by the root hook in test/setup.ts');
  return current;
}

export async function startTestBed(): Promise<TestBed> {
  const log = (line: string) => process.stderr.write(`[test bed] ${line}\n`);
  const [temporal, workflowBundle] = await Promise.all([
    startTemporalEnvironment({ searchAttributes: OAUTH_SEARCH_ATTRIBUTES, log, outputFile: serverLogFile('suite') }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      plugins: [testPlugin()],
      logger: testLogger,
    }),
  ]);
  const clients = {} as Record<AuthMethod, TestClient>;
  const registrations: ClientRegistration[] = [];
  for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'] as const) {
    const secret = generateClientSecret();
    clients[method] = { clientId: `test-${method}`, secret };
    registrations.push({ clientId: `test-${method}`, authMethod: method, clientSecret: secret, scope: API_SCOPES });
  }
  const key = await generatePrivateKey();
  clients.private_key_jwt = { clientId: 'test-private_key_jwt', secret: JSON.stringify(key.privateJwk) };
  registrations.push({ clientId: 'test-private_key_jwt', authMethod: 'private_key_jwt', publicJwk: key.publicJwk, scope: API_SCOPES });
  const resourceApiSecret = generateClientSecret();
  registrations.push({ clientId: 'resource-api', authMethod: 'client_secret_basic', clientSecret: resourceApiSecret, scope: '' });

  const authorizationServer = await startAuthorizationServer({ clients: registrations });
  const api = await startResourceApi({
    issuer: authorizationServer.issuer,
    introspectionEndpoint: authorizationServer.introspectionEndpoint,
    clientId: 'resource-api',
    clientSecret: resourceApiSecret,
  });

  const secrets = new Set<string>([resourceApiSecret, ...Object.values(clients).map((client) => client.secret), key.privateJwk.d ?? '']);
  const clientFor = (environment: TemporalEnvironment) =>
    new Client({ connection: environment.connection, namespace: environment.namespace, plugins: [testPlugin()] });
  const bed: TestBed = {
    temporal,
    workflowBundle,
    client: clientFor(temporal),
    rawClient: temporal.client,
    clientFor,
    secretsUsed: () => [...secrets].filter((secret) => secret !== ''),
    authorizationServer,
    api,
    clients,
    startResourceApi: ({ recordCount }) =>
      startResourceApi({
        issuer: authorizationServer.issuer,
        introspectionEndpoint: authorizationServer.introspectionEndpoint,
        clientId: 'resource-api',
        clientSecret: resourceApiSecret,
        recordCount,
      }),
    rememberSecret(value) {
      secrets.add(value);
    },
    async rotateClientSecret(clientId) {
      const secret = generateClientSecret();
      secrets.add(secret);
      await authorizationServer.setClientSecret(clientId, secret);
      return secret;
    },
    async registerClient(registration) {
      const clientId = registration.clientId ?? `test-${randomUUID().slice(0, 8)}`;
      const secret = registration.clientSecret ?? generateClientSecret();
      secrets.add(secret);
      await authorizationServer.registerClient({ ...registration, clientId, clientSecret: secret });
      return { clientId, secret };
    },
    serverConfig(method, overrides = {}) {
      if (overrides.clientSecret?.source === 'local') secrets.add(overrides.clientSecret.value);
      return {
        name: `srv-${randomUUID().slice(0, 8)}`,
        authMethod: method,
        clientId: clients[method].clientId,
        clientSecret: { source: 'local', value: clients[method].secret },
        accessTokenUrl: authorizationServer.tokenEndpoint,
        scope: API_SCOPES,
        allowedOrigins: [api.origin],
        ...overrides,
      };
    },
    async withWorker(fn, options = {}) {
      const taskQueue = options.taskQueue ?? `tq-${randomUUID()}`;
      const environment = options.temporal ?? temporal;
      const workerOptions: WorkerOptions = {
        connection: environment.nativeConnection,
        namespace: environment.namespace,
        taskQueue,
        workflowBundle,
        activities: options.activities,
        interceptors: { activity: options.activityInterceptors },
        plugins: [testPlugin()],
      };
      const worker = await Worker.create(workerOptions);
      return worker.runUntil(() => fn(taskQueue));
    },
    async close() {
      await Promise.allSettled([api.close(), authorizationServer.close()]);
      await temporal.teardown();
      rmSync(TEST_SECRET_FILES, { recursive: true, force: true });
    },
  };
  current = bed;
  return bed;
}
