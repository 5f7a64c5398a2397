import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { createServer, showServer, TemporalOAuthPlugin, type SecretProvider } from '../src';
import { eventually } from './support/eventually';
import { startRecordingProxy } from './support/token-endpoints';
import { API_SCOPES, codecKeys, testBed } from './support/test-bed';

describe('external client secrets', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'temporal-oauth-secrets-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const stores = [
    {
      kind: 'file:',
      make: (value: string) => {
        const path = join(folder, `secret-${randomUUID()}`);
        writeFileSync(path, `${value}\n`);
        return { ref: `file:${path}`, rotate: (next: string) => writeFileSync(path, next) };
      },
    },
    {
      kind: 'env:',
      make: (value: string) => {
        const name = `TEMPORAL_OAUTH_TEST_SECRET_${randomUUID().slice(0, 8).toUpperCase()}`;
        process.env[name] = value;
        return {
          ref: `env:${name}`,
          rotate: (next: string) => {
            process.env[name] = next;
          },
        };
      },
    },
  ];

  for (const { kind, make } of stores) {
    it(`a secret in ${kind} rotated in its store while the old one starts failing: the server stays OK through its next refresh, with one extra token request`, async () => {
      const bed = testBed();
      // A short token lifetime brings the next refresh soon: rotation must need no admin action.
      const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 4 });
      const store = make(client.secret);
      const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
      try {
        await bed.withWorker(async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', {
            clientId: client.clientId,
            clientSecret: { source: 'external', ref: store.ref },
            accessTokenUrl: proxy.url,
          });
          assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
          assert.deepEqual((await showServer(bed.client, config.name)).config.clientSecret, { source: 'external', ref: store.ref });
          assert.equal(proxy.requests.length, 1);

          store.rotate(await bed.rotateClientSecret(client.clientId));
          const refreshed = await eventually(
            async () => {
              const view = await showServer(bed.client, config.name);
              return view.tokenSerial === 2 && !view.acquiring ? view : undefined;
            },
            { what: 'the next refresh', timeoutMs: 15_000 },
          );
          assert.equal(refreshed.status, 'OK', JSON.stringify(refreshed.disabledReason));
          // The worker still held the old secret: one request failed with it, one succeeded with the new one.
          assert.equal(proxy.requests.length, 3);
        });
      } finally {
        await proxy.close();
      }
    });
  }

  it('a store of your own plugs in as a SecretProvider: its secret is read at use time and the server reaches OK', async () => {
    const bed = testBed();
    const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES });
    // Stands for Vault or a cloud key store: what matters is that the plugin asks it, by scheme, inside the activity.
    const asked: string[] = [];
    const vault: SecretProvider = {
      scheme: 'vault',
      resolve(reference) {
        asked.push(reference);
        if (reference !== 'kv/crm#client_secret') return Promise.reject(new Error(`no secret at ${reference}`));
        return Promise.resolve(client.secret);
      },
    };
    const taskQueue = `tq-${randomUUID()}`;
    const worker = await Worker.create({
      connection: bed.temporal.nativeConnection,
      namespace: bed.temporal.namespace,
      taskQueue,
      workflowBundle: bed.workflowBundle,
      plugins: [new TemporalOAuthPlugin({ codecKeys, secretProviders: [vault] })],
    });
    await worker.runUntil(async () => {
      const config = bed.serverConfig('client_secret_basic', { clientId: client.clientId, clientSecret: { source: 'external', ref: 'vault:kv/crm#client_secret' } });
      const view = await createServer(bed.client, config, { taskQueue });
      assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
      assert.deepEqual(asked, ['kv/crm#client_secret']);
    });
  });

  it('a reference that cannot be read disables the server with a reason naming the reference, not a value', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const ref = `env:TEMPORAL_OAUTH_MISSING_${randomUUID().slice(0, 8).toUpperCase()}`;
      const view = await createServer(bed.client, bed.serverConfig('client_secret_basic', { clientSecret: { source: 'external', ref } }), { taskQueue });
      assert.equal(view.status, 'Error');
      assert.equal(view.disabledReason?.code, 'secret_unavailable');
      assert.match(view.disabledReason?.message ?? '', new RegExp(ref.slice(4)));
    });
  });
});
