import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  authorizeServer,
  createServer,
  deleteServer,
  editServer,
  listDependents,
  listServers,
  ServerAlreadyExistsError,
  ServerChangeRejectedError,
  ServerNotFoundError,
  serverHistory,
  showServer,
  WebServiceCallFailure,
} from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { startHangingEndpoint } from './support/token-endpoints';
import { finishSignal, probeStatusQuery, type dependentProbe } from './workflows';
import { eventually, within } from './support/eventually';
import { callFromWorkflow, failureTypeOf } from './support/run-workflow';
import { testBed } from './support/test-bed';

function startProbe(client: Client, taskQueue: string, server: string) {
  return client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [server] });
}

/** Waits until the dependent has heard `status` from its server. */
function hears(probe: WorkflowHandle, status: string): Promise<true> {
  return eventually(async () => ((await probe.query(probeStatusQuery)) === status ? true : undefined), { what: `the dependent hears ${status}`, timeoutMs: 10_000 });
}

describe('the OAuth server lifecycle', () => {
  it('a server saved with a wrong secret shows Error and its reason; an edit with the right secret and an authorize make it OK', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'local', value: 'wrong-secret-for-this-client' } });
      const saved = await createServer(bed.client, config, { taskQueue });
      assert.equal(saved.status, 'Error');
      assert.equal(saved.disabledReason?.code, 'invalid_client');
      assert.equal((await showServer(bed.client, config.name)).status, 'Error', 'the configuration was not kept');
      // A dependent that registers while the server is disabled starts paused; a call fails at once, typed.
      const probe = await startProbe(bed.client, taskQueue, config.name);
      await hears(probe, 'Error');
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` })), WebServiceCallFailure.ServerDisabled);

      const edited = await editServer(bed.client, config.name, { clientSecret: { source: 'local', value: bed.clients.client_secret_basic.secret } });
      assert.equal(edited.status, 'NotAuthorized');
      assert.equal(edited.disabledReason, undefined);
      await hears(probe, 'NotAuthorized');
      assert.equal((await authorizeServer(bed.client, config.name)).status, 'OK');
      await hears(probe, 'OK');
      await probe.signal(finishSignal);
      assert.equal(await probe.result(), 'OK');
    });
  });

  it('editing an authorized server discards its token: Not authorized and calls refused until it is authorized again; the secret stays write-only', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_post');
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
      const call = { server: config.name, url: `${bed.api.url}/whoami` };
      assert.equal((await callFromWorkflow(taskQueue, call)).status, 200);
      const probe = await startProbe(bed.client, taskQueue, config.name);
      await hears(probe, 'OK');

      const edited = await editServer(bed.client, config.name, { category: 'Edited', scope: 'api:read' });
      assert.equal(edited.status, 'NotAuthorized');
      assert.equal(edited.tokenExpiresAt, undefined);
      assert.deepEqual(edited.config.clientSecret, { source: 'local', isSet: true });
      assert.ok(!JSON.stringify(edited).includes(bed.clients.client_secret_post.secret));
      // Workers re-read a server's status at least once a second; after that every call is refused.
      await eventually(async () => (await failureTypeOf(callFromWorkflow(taskQueue, call))) === WebServiceCallFailure.ServerNotAuthorized, {
        what: 'calls refused after the edit',
        timeoutMs: 10_000,
      });
      assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, call)), WebServiceCallFailure.ServerNotAuthorized);

      const authorized = await authorizeServer(bed.client, config.name);
      assert.equal(authorized.status, 'OK', 'the kept secret no longer works');
      assert.equal(authorized.grantedScope ?? 'api:read', 'api:read');
      assert.equal((await callFromWorkflow(taskQueue, call)).status, 200);
      // The dependent stayed paused through the edit and resumes only with the authorization.
      await hears(probe, 'OK');
      await probe.signal(finishSignal);
      assert.equal(await probe.result(), 'OK');
    });
  });

  it('an invalid edit is refused with the field named, and changes nothing', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      await assert.rejects(editServer(bed.client, config.name, { maxRetryAttempts: 0 }), (error: unknown) => {
        assert.ok(error instanceof ServerChangeRejectedError);
        assert.match(error.message, /maxRetryAttempts/);
        return true;
      });
      await assert.rejects(editServer(bed.client, config.name, { name: 'renamed' }), ServerChangeRejectedError);
      const view = await showServer(bed.client, config.name);
      assert.equal(view.status, 'OK');
      assert.equal(view.config.maxRetryAttempts, 3);
    });
  });

  it('a name already taken in another case is refused and the first server is untouched', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { name: `Crm-${randomUUID().slice(0, 6)}`, category: 'First' });
      await createServer(bed.client, config, { taskQueue });
      await assert.rejects(
        createServer(bed.client, { ...config, name: config.name.toUpperCase(), category: 'Second' }, { taskQueue }),
        ServerAlreadyExistsError,
      );
      const view = await showServer(bed.client, config.name.toLowerCase());
      assert.equal(view.config.name, config.name);
      assert.equal(view.config.category, 'First');
    });
  });

  it('lists servers through visibility, by category and status, a page at a time', async () => {
    const bed = testBed();
    const category = `cat-${randomUUID().slice(0, 8)}`;
    await bed.withWorker(async (taskQueue) => {
      const names = [];
      for (const wrong of [false, false, true]) {
        const config = bed.serverConfig('client_secret_basic', {
          category,
          ...(wrong ? { clientSecret: { source: 'local' as const, value: 'wrong-secret-for-this-client' } } : {}),
        });
        names.push(config.name);
        await createServer(bed.client, config, { taskQueue });
      }
      const okNames = await eventually(
        async () => {
          const page = await listServers(bed.client, { category, status: 'OK' });
          return page.servers.length === 2 ? page.servers.map((server) => server.name).sort() : undefined;
        },
        { what: 'two OK servers listed' },
      );
      assert.deepEqual(okNames, names.slice(0, 2).sort());
      const errors = await listServers(bed.client, { category, status: 'Error' });
      assert.deepEqual(
        errors.servers.map((server) => server.name),
        [names[2]],
      );
      const first = await listServers(bed.client, { category, pageSize: 2 });
      assert.equal(first.servers.length, 2);
      assert.ok(first.nextPageToken);
      const second = await listServers(bed.client, { category, pageSize: 2, nextPageToken: first.nextPageToken });
      assert.deepEqual([...first.servers, ...second.servers].map((server) => server.name).sort(), [...names].sort());
    });
  });

  it('delete: refused while dependents live unless forced (they are told and stop); a deleted name can be created again', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      const probe = await bed.client.workflow.start<typeof dependentProbe>('dependentProbe', {
        taskQueue,
        workflowId: `probe-${randomUUID()}`,
        args: [config.name],
      });
      await eventually(async () => (await listDependents(bed.client, config.name)).includes(probe.workflowId), { what: 'the probe registered' });

      await assert.rejects(deleteServer(bed.client, config.name), (error: unknown) => {
        assert.ok(error instanceof ServerChangeRejectedError);
        assert.equal(error.type, 'OAuthServerHasDependents');
        return true;
      });
      assert.equal((await showServer(bed.client, config.name)).status, 'OK');

      await deleteServer(bed.client, config.name, { force: true });
      assert.equal(await probe.result(), 'Deleted');

      const again = await createServer(bed.client, config, { taskQueue });
      assert.equal(again.status, 'OK');
      await deleteServer(bed.client, config.name);
      await assert.rejects(showServer(bed.client, config.name), ServerNotFoundError);
    });
  });

  it('a create whose first token request a delete cuts short is refused in the admin API\'s terms, not Temporal\'s', async () => {
    const bed = testBed();
    const hanging = await startHangingEndpoint();
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: hanging.url });
        const creation = createServer(bed.client, config, { taskQueue }).then(
          () => assert.fail('the create answered as if the server were saved'),
          (error: unknown) => error,
        );
        await eventually(() => (hanging.requests.length > 0 ? true : undefined), { what: 'the first token request reached the endpoint' });
        await deleteServer(bed.client, config.name);
        const refused = await within(creation, 10_000, 'the create answered');
        assert.ok(refused instanceof ServerChangeRejectedError, `expected ServerChangeRejectedError, got ${String(refused)}`);
        assert.equal(refused.type, 'OAuthServerDeleted');
        assert.equal(refused.serverName, config.name);
      });
    } finally {
      await hanging.close();
    }
  });

  it('a dependent that ended without unregistering is forgotten, by the next fan-out and by delete', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      const [gone, live, goneLater] = await Promise.all([1, 2, 3].map(() => startProbe(bed.client, taskQueue, config.name)));
      await Promise.all([gone, live, goneLater].map((probe) => hears(probe!, 'OK')));
      assert.equal((await listDependents(bed.client, config.name)).length, 3);

      await gone!.terminate('ended without saying so');
      await editServer(bed.client, config.name, { category: 'Told' });
      await hears(live!, 'NotAuthorized');
      assert.deepEqual(new Set(await listDependents(bed.client, config.name)), new Set([live!.workflowId, goneLater!.workflowId]));

      await goneLater!.terminate('ended without saying so');
      await assert.rejects(deleteServer(bed.client, config.name), ServerChangeRejectedError);
      assert.deepEqual(await listDependents(bed.client, config.name), [live!.workflowId]);
      await live!.signal(finishSignal);
      await live!.result();
      await eventually(async () => ((await listDependents(bed.client, config.name)).length === 0 ? true : undefined), { what: 'the last dependent unregistered' });
      await deleteServer(bed.client, config.name);
      await assert.rejects(showServer(bed.client, config.name), ServerNotFoundError);
    });
  });

  it('authorize requests racing a forced delete are each answered, and the delete completes', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      await createServer(bed.client, config, { taskQueue });
      // Many dependents make the delete's fan-out last several workflow tasks: the window to race.
      const probes = await Promise.all(Array.from({ length: 40 }, () => startProbe(bed.client, taskQueue, config.name)));
      await eventually(async () => ((await listDependents(bed.client, config.name)).length === probes.length ? true : undefined), {
        what: 'every probe registered',
      });

      const deletion = deleteServer(bed.client, config.name, { force: true });
      let deletionSettled = false;
      void deletion.finally(() => (deletionSettled = true)).catch(() => undefined);
      // A few lanes of authorize requests, one after another each, well inside the server's limit
      // of updates in flight, so that the delete is never crowded out.
      const outcomes: unknown[] = [];
      const lane = async () => {
        while (!deletionSettled) {
          outcomes.push(await within(authorizeServer(bed.client, config.name).then(() => 'OK', (error: unknown) => error), 20_000, 'an answer to an authorize'));
        }
      };
      await Promise.all([lane(), lane(), lane(), within(deletion, 20_000, 'the forced delete')]);
      for (const outcome of outcomes) {
        if (outcome === 'OK') continue;
        assert.ok(outcome instanceof ServerChangeRejectedError || outcome instanceof ServerNotFoundError, `unexpected answer ${String(outcome)}`);
      }
      assert.deepEqual(new Set(await Promise.all(probes.map((probe) => probe.result()))), new Set(['Deleted']));
      await assert.rejects(showServer(bed.client, config.name), ServerNotFoundError);
    });
  });

  it('keeps who did what and when: create, edit (the names of changed settings, never a value), authorize, Request Cancellation; a bad actor is refused naming the field and saves nothing', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const wrongSecret = `wrong-${randomUUID()}`;
      const config = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'local', value: wrongSecret } });
      await assert.rejects(createServer(bed.client, config, { taskQueue, actor: 'alice\nmallory' }), (error: unknown) => {
        assert.ok(error instanceof ServerChangeRejectedError);
        assert.equal(error.type, 'InvalidOAuthServerRequest');
        assert.match(error.message, /actor: must not contain control characters/);
        return true;
      });
      await assert.rejects(showServer(bed.client, config.name), ServerNotFoundError, 'a server refused for its actor was saved');

      await createServer(bed.client, config, { taskQueue, actor: 'alice' });
      const rotated = bed.clients.client_secret_basic.secret;
      await editServer(bed.client, config.name, { clientSecret: { source: 'local', value: rotated }, maxRetryAttempts: 2, scope: config.scope }, { actor: 'bob' });
      await assert.rejects(authorizeServer(bed.client, config.name, { actor: 'x'.repeat(201) }), /actor: must be text of 1 to 200 characters/);
      await authorizeServer(bed.client, config.name, { actor: 'carol' });
      await authorizeServer(bed.client, config.name);

      const history = await serverHistory(bed.client, config.name);
      assert.deepEqual(
        history.entries.map(({ action, actor, fields }) => ({ action, actor, fields })),
        [
          { action: 'create', actor: 'alice', fields: undefined },
          { action: 'edit', actor: 'bob', fields: ['clientSecret', 'maxRetryAttempts'] },
          { action: 'authorize', actor: 'carol', fields: undefined },
          { action: 'authorize', actor: undefined, fields: undefined },
        ],
      );
      assert.equal(history.total, 4);
      const times = history.entries.map((entry) => Date.parse(entry.at));
      assert.deepEqual([...times].sort((a, b) => a - b), times, 'entries in the order they happened, in workflow time');
      for (const secret of [wrongSecret, rotated]) assert.ok(!JSON.stringify(history).includes(secret), 'the history holds a secret');

      await bed.client.workflow.getHandle(serverWorkflowId(config.name)).cancel();
      await assert.rejects(bed.client.workflow.getHandle(serverWorkflowId(config.name)).result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      const after = await serverHistory(bed.client, config.name);
      assert.equal(after.total, 5, 'a deleted server still shows its history');
      assert.equal(after.entries.at(-1)?.action, 'requestCancellation');
    });
  });

  it('with autoRecover, a server disabled by a token endpoint that is down tries again on its own, backing off, and is OK once it is back: its dependent resumes; without it a server stays Error and asks nothing', async function () {
    this.timeout(90_000);
    const bed = testBed();
    const [recoveringEndpoint, plainEndpoint] = await Promise.all([1, 2].map(() => startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint)));
    try {
      await bed.withWorker(async (taskQueue) => {
        const recovering = bed.serverConfig('client_secret_basic', {
          accessTokenUrl: recoveringEndpoint!.url,
          maxRetryAttempts: 1,
          autoRecover: { initialDelay: 'PT1S', maxDelay: 'PT2S' },
        });
        const plain = bed.serverConfig('client_secret_basic', { accessTokenUrl: plainEndpoint!.url, maxRetryAttempts: 1 });
        assert.equal((await createServer(bed.client, recovering, { taskQueue })).status, 'OK');
        assert.equal((await createServer(bed.client, plain, { taskQueue })).status, 'OK');
        const probe = await startProbe(bed.client, taskQueue, recovering.name);
        await hears(probe, 'OK');

        recoveringEndpoint!.break();
        plainEndpoint!.break();
        const disabled = await authorizeServer(bed.client, recovering.name);
        assert.equal(disabled.status, 'Error');
        assert.equal(Date.parse(disabled.nextProbeAt!) - Date.parse(disabled.disabledReason!.at), 1_000, 'the first probe one initial delay after the failure');
        const plainDisabled = await authorizeServer(bed.client, plain.name);
        assert.equal(plainDisabled.status, 'Error');
        assert.equal(plainDisabled.nextProbeAt, undefined);
        await hears(probe, 'Error');
        assert.equal(await failureTypeOf(callFromWorkflow(taskQueue, { server: recovering.name, url: `${bed.api.url}/whoami` })), WebServiceCallFailure.ServerDisabled);

        // A probe fails while the endpoint is down: the next one waits twice as long (the cap).
        const probed = await eventually(
          async () => {
            const view = await showServer(bed.client, recovering.name);
            return view.nextProbeAt && view.disabledReason?.at !== disabled.disabledReason!.at ? view : undefined;
          },
          { what: 'a failed probe', timeoutMs: 15_000 },
        );
        assert.equal(Date.parse(probed.nextProbeAt!) - Date.parse(probed.disabledReason!.at), 2_000);

        const plainRequests = plainEndpoint!.requests.length;
        recoveringEndpoint!.repair();
        plainEndpoint!.repair();
        await hears(probe, 'OK');
        const recovered = await showServer(bed.client, recovering.name);
        assert.equal(recovered.status, 'OK');
        assert.equal(recovered.nextProbeAt, undefined);
        assert.equal((await callFromWorkflow(taskQueue, { server: recovering.name, url: `${bed.api.url}/whoami` })).status, 200);
        await probe.signal(finishSignal);
        assert.equal(await probe.result(), 'OK');

        assert.equal((await showServer(bed.client, plain.name)).status, 'Error');
        assert.equal(plainEndpoint!.requests.length, plainRequests, 'a server without autoRecover asked for a token on its own');

        // An edit stops the probing.
        recoveringEndpoint!.break();
        assert.ok((await authorizeServer(bed.client, recovering.name)).nextProbeAt);
        const edited = await editServer(bed.client, recovering.name, { category: 'Edited' });
        assert.equal(edited.status, 'NotAuthorized');
        assert.equal(edited.nextProbeAt, undefined);
      });
    } finally {
      await Promise.all([recoveringEndpoint!.close(), plainEndpoint!.close()]);
    }
  });
});
