import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { createServer, showServer, TemporalOAuthPlugin, type SecretProvider, type TemporalOAuthPluginOptions } from '../src';
import { eventually } from './support/eventually';
import { startRecordingProxy, startScriptedEndpoint } from './support/token-endpoints';
import { API_SCOPES, codecKeyFixture, codecKeys, CODEC_KEYS_FIXTURE, TEST_SECRET_FILES, testBed } from './support/test-bed';

/** Runs `fn` while a worker whose plugin has these options polls a fresh task queue. */
async function withPluginWorker<T>(options: TemporalOAuthPluginOptions, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const bed = testBed();
  const taskQueue = `tq-${randomUUID()}`;
  const worker = await Worker.create({
    connection: bed.temporal.nativeConnection,
    namespace: bed.temporal.namespace,
    taskQueue,
    workflowBundle: bed.workflowBundle,
    plugins: [new TemporalOAuthPlugin({ codecKeys, ...options })],
  });
  return worker.runUntil(() => fn(taskQueue));
}

/** Sets environment variables for the length of `fn`, then puts back what was there. */
async function withEnvironment<T>(variables: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('external client secrets', () => {
  const folder = TEST_SECRET_FILES;

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
    await withPluginWorker({ secretProviders: [vault], secretReferences: { providers: ['vault'] } }, async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { clientId: client.clientId, clientSecret: { source: 'external', ref: 'vault:kv/crm#client_secret' } });
      const view = await createServer(bed.client, config, { taskQueue });
      assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
      assert.deepEqual(asked, ['kv/crm#client_secret']);
    });
  });

  it('a reference that cannot be read disables the server with a reason naming the reference, not a value', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const ref = `env:TEMPORAL_OAUTH_TEST_SECRET_MISSING_${randomUUID().slice(0, 8).toUpperCase()}`;
      const view = await createServer(bed.client, bed.serverConfig('client_secret_basic', { clientSecret: { source: 'external', ref } }), { taskQueue });
      assert.equal(view.status, 'Error');
      assert.equal(view.disabledReason?.code, 'secret_unavailable');
      assert.match(view.disabledReason?.message ?? '', new RegExp(ref.slice(4)));
    });
  });

  describe('a configuration cannot read what the worker does not allow', () => {
    let outside: string;
    const stolen = `a-worker-file-outside-the-roots-${randomUUID()}`;
    before(() => {
      outside = mkdtempSync(join(tmpdir(), 'temporal-oauth-outside-'));
      writeFileSync(join(outside, 'secret'), stolen);
      mkdirSync(join(folder, 'nested'), { recursive: true });
      symlinkSync(join(outside, 'secret'), join(folder, 'nested', 'link-out'));
    });
    after(() => rmSync(outside, { recursive: true, force: true }));

    it('the codec keys, a system file, traversal and a link out of the root: each server is in Error with the rule, and its token URL receives nothing', async () => {
      const bed = testBed();
      // The attacker's token URL answers every request with a token, as a host of theirs would: old code showed OK.
      const attacker = await startScriptedEndpoint(() => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: 'attacker-token', token_type: 'bearer', expires_in: 3600 }),
      }));
      const { current, keys } = codecKeyFixture();
      const refused: Array<[string, RegExp]> = [
        ['env:TEMPORAL_OAUTH_CODEC_KEYS', /Details: secret_reference_refused: secret reference refused: env: the codec key variables .* are never readable/],
        ['env:HOME', /Details: secret_reference_refused: .*env: the name must start with one of secretReferences\.envPrefixes \(TEMPORAL_OAUTH_TEST_SECRET_\)/],
        ['file:/etc/hostname', /Details: secret_reference_refused: .*file: the file, links resolved, must be or lie inside one of secretReferences\.fileRoots/],
        [`file:${folder}/../${outside.split('/').pop()}/secret`, /Details: secret_reference_refused: .*file: the path must be absolute and must not contain "\.\." segments/],
        [`file:${join(folder, 'nested', 'link-out')}`, /Details: secret_reference_refused: .*file: the file, links resolved, must be or lie inside/],
      ];
      try {
        await withEnvironment({ TEMPORAL_OAUTH_CODEC_KEYS: `${current}:${keys[current]}` }, () =>
          bed.withWorker(async (taskQueue) => {
            for (const [ref, rule] of refused) {
              const config = bed.serverConfig('client_secret_post', { clientSecret: { source: 'external', ref }, accessTokenUrl: attacker.url });
              const view = await createServer(bed.client, config, { taskQueue });
              assert.equal(view.status, 'Error', ref);
              assert.equal(view.disabledReason?.code, 'secret_reference_refused', ref);
              assert.match(view.disabledReason?.message ?? '', rule);
              assert.ok(!(view.disabledReason?.message ?? '').includes(stolen));
            }
          }),
        );
        assert.deepEqual(attacker.requests, []);
      } finally {
        await attacker.close();
      }
    });

    it('the codec keys stay unreadable when the allowlist covers their variables and their file; what it allows still works', async () => {
      const bed = testBed();
      const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES });
      const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
      const { current, keys } = codecKeyFixture();
      const references = { envPrefixes: ['TEMPORAL_OAUTH_'], fileRoots: [dirname(CODEC_KEYS_FIXTURE)] };
      const allowedName = `TEMPORAL_OAUTH_ALLOWED_${randomUUID().slice(0, 8).toUpperCase()}`;
      try {
        await withEnvironment(
          { TEMPORAL_OAUTH_CODEC_KEYS: `${current}:${keys[current]}`, TEMPORAL_OAUTH_CODEC_KEY_FILE: CODEC_KEYS_FIXTURE, [allowedName]: client.secret },
          () =>
            withPluginWorker({ secretReferences: references }, async (taskQueue) => {
              for (const ref of ['env:TEMPORAL_OAUTH_CODEC_KEYS', 'env:TEMPORAL_OAUTH_CODEC_KEY_FILE', `file:${CODEC_KEYS_FIXTURE}`]) {
                const config = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'external', ref }, accessTokenUrl: proxy.url });
                const view = await createServer(bed.client, config, { taskQueue });
                assert.equal(view.disabledReason?.code, 'secret_reference_refused', ref);
                assert.match(view.disabledReason?.message ?? '', /codec key (variables|file) .*never readable, whatever the allowlist says/);
              }
              assert.equal(proxy.requests.length, 0);
              const allowed = bed.serverConfig('client_secret_basic', {
                clientId: client.clientId,
                clientSecret: { source: 'external', ref: `env:${allowedName}` },
                accessTokenUrl: proxy.url,
              });
              const view = await createServer(bed.client, allowed, { taskQueue });
              assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
              assert.equal(proxy.requests.length, 1);
            }),
        );
      } finally {
        await proxy.close();
      }
    });
  });
});
