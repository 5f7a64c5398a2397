import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { authorizeServer, createServer, deleteServer, editServer, parseOAuthServerConfig, showServer, WebServiceCallFailure } from '../src';
import { editUpdate, OAUTH_SERVER_WORKFLOW_TYPE, serverWorkflowId } from '../src/contract/definitions';
import { ServerFailure } from '../src/contract/failures';
import { eventually, within } from './support/eventually';
import { callFromWorkflow, failureTypeOf } from './support/run-workflow';
import { codecKeys, testBed } from './support/test-bed';
import { EncryptionCodec } from '../src/codec/encryption-codec';
import { forwardTokenRequest, startRecordingProxy, startScriptedEndpoint } from './support/token-endpoints';
import { probeStatusQuery, type dependentProbe } from './workflows';

function startProbe(client: Client, taskQueue: string, server: string) {
  return client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [server] });
}

function scopeOf(body: string): string | null {
  return new URLSearchParams(body).get('scope');
}

/** Sequences the model-based test explores, replayed on the real workflow against the dev server. */
describe('the server state machine on a real workflow', () => {
  it('edit during a token request, then authorize: the old request is cancelled and the new one uses the new settings', async function () {
    this.timeout(60_000);
    const bed = testBed();
    let held = true;
    // The first token request hangs until released: the edit must come while it runs.
    const endpoint = await startScriptedEndpoint(async (request, body) => {
      if (held && scopeOf(body) === 'api:read api:write records:read') await eventually(() => !held, { timeoutMs: 30_000, intervalMs: 20 }).catch(() => undefined);
      return forwardTokenRequest(bed.authorizationServer.tokenEndpoint, request, body);
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: endpoint.url, scope: 'api:read api:write records:read', maxWait: 30_000 });
        const creation = createServer(bed.client, config, { taskQueue }).catch((error: unknown) => error);
        await eventually(() => endpoint.requests.length === 1, { what: 'the first token request' });
        const edited = await editServer(bed.client, config.name, { scope: 'api:read' });
        assert.equal(edited.status, 'NotAuthorized');
        const started = Date.now();
        const authorized = await within(authorizeServer(bed.client, config.name), 10_000, 'the authorize after the edit');
        assert.equal(authorized.status, 'OK');
        assert.ok(Date.now() - started < 5_000, 'the authorize waited for the old request');
        assert.equal(scopeOf(endpoint.requests.at(-1)?.body ?? ''), 'api:read');
        // The request of the creation was cancelled by the edit: the creation's answer says so, not OK.
        const created = await creation;
        assert.ok(!(created instanceof Error), String(created));
        held = false;
        assert.equal((await callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` })).status, 200);
      });
    } finally {
      held = false;
      await endpoint.close();
    }
  });

  it('after a forced delete, calls on a warm worker and on a fresh one fail with OAuthServerDeleted within the re-check window', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      const call = { server: config.name, url: `${bed.api.url}/whoami` };
      assert.equal((await callFromWorkflow(taskQueue, call)).status, 200);
      const probe = await startProbe(bed.client, taskQueue, config.name);
      await eventually(async () => (await probe.query(probeStatusQuery)) === 'OK', { what: 'the probe registered' });
      await deleteServer(bed.client, config.name, { force: true });
      const deletedAt = Date.now();
      assert.equal(await probe.result(), 'Deleted');
      // The warm worker trusts its copy for at most a second (STATUS_RECHECK_MS).
      await delay(Math.max(0, 1_100 - (Date.now() - deletedAt)));
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, call)), WebServiceCallFailure.ServerDeleted);
      await bed.withWorker(async (freshQueue) => {
        assert.equal(await failureTypeOf(callFromWorkflow(freshQueue, call)), WebServiceCallFailure.ServerDeleted);
      });
    });
  });

  it('Request Cancellation (handle.cancel()) is a forced delete: dependents hear Deleted, calls fail OAuthServerDeleted', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      const probe = await startProbe(bed.client, taskQueue, config.name);
      await eventually(async () => (await probe.query(probeStatusQuery)) === 'OK', { what: 'the probe registered' });
      const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));
      await server.cancel();
      await assert.rejects(server.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      assert.equal(await probe.result(), 'Deleted');
      await eventually(async () => (await failureTypeOf(callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` }))) === WebServiceCallFailure.ServerDeleted, {
        what: 'calls refused as deleted',
        timeoutMs: 10_000,
      });
    });
  });

  it('a plain start with a configuration createServer refuses fails at once, naming the field, and requests no token', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = { ...parseOAuthServerConfig(bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url })), allowedOrigins: ['http://example.com'] };
        const handle = await bed.client.workflow.start(OAUTH_SERVER_WORKFLOW_TYPE, { taskQueue, workflowId: serverWorkflowId(config.name), args: [{ config }] });
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
          assert.equal(error.cause.type, ServerFailure.InvalidRequest);
          assert.match(error.cause.message, /allowedOrigins/);
          return true;
        });
        assert.equal(proxy.requests.length, 0);
      });
    } finally {
      await proxy.close();
    }
  });

  it('a start or an edit sent in clear by a client without the codec keys is refused, and no token is requested for it', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        // A configuration createServer accepts, with the sender's own token endpoint and secret (sent in
        // clear by its owner: not one the suite's scan for leaks looks for).
        const config = {
          ...parseOAuthServerConfig(bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url })),
          clientSecret: { source: 'local' as const, value: 'the-senders-own-secret' },
        };
        const plain = await bed.rawClient.workflow.start(OAUTH_SERVER_WORKFLOW_TYPE, { taskQueue, workflowId: serverWorkflowId(config.name), args: [{ config }] });
        await assert.rejects(bed.client.workflow.getHandle(plain.workflowId).result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
          assert.equal(error.cause.type, ServerFailure.NotEncrypted);
          return true;
        });
        assert.equal(proxy.requests.length, 0);

        const saved = bed.serverConfig('client_secret_basic');
        await createServer(bed.client, saved, { taskQueue });
        // Sends in clear like a client without the keys, but reads the (encrypted) refusal.
        const codec = new EncryptionCodec(codecKeys);
        const clearSender = new Client({
          connection: bed.temporal.connection,
          namespace: bed.temporal.namespace,
          dataConverter: { payloadCodecs: [{ encode: (payloads) => Promise.resolve(payloads), decode: (payloads) => codec.decode(payloads) }] },
        });
        const inClear = clearSender.workflow.getHandle(serverWorkflowId(saved.name)).executeUpdate(editUpdate, { args: [{ accessTokenUrl: proxy.url }] });
        await assert.rejects(inClear, (error: unknown) => {
          assert.ok(error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure, String(error));
          assert.equal(error.cause.type, ServerFailure.NotEncrypted);
          return true;
        });
        const after = await showServer(bed.client, saved.name);
        assert.equal(after.status, 'OK');
        assert.equal(after.config.accessTokenUrl, saved.accessTokenUrl);
        assert.equal(proxy.requests.length, 0);
      });
    } finally {
      await proxy.close();
    }
  });

  it('an API that rejects every token costs at most one rejection-driven token request per 30 s; the other calls fail, typed', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    const api = await startScriptedEndpoint(() => ({ status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: '' }));
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: proxy.url, allowedOrigins: [new URL(api.url).origin] });
        await createServer(bed.client, config, { taskQueue });
        const failures: (string | undefined)[] = [];
        for (let i = 0; i < 10; i += 1) failures.push(await failureTypeOf(callFromWorkflow(taskQueue, { server: config.name, url: api.url })));
        // One token at creation, one for the first rejection; every later call is refused before any token request.
        assert.equal(proxy.requests.length, 2, `token requests: ${proxy.requests.length}`);
        assert.equal(failures[0], WebServiceCallFailure.HttpClientError);
        assert.deepEqual(new Set(failures.slice(1)), new Set([WebServiceCallFailure.RejectedTokenRefreshRationed]));
      });
    } finally {
      await Promise.all([proxy.close(), api.close()]);
    }
  });
});
