import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { authorizeServer, createServer, listDependents } from '../src';
import { serverWorkflowId, unregisterDependentSignal } from '../src/contract/definitions';
import { importProgressQuery, type ImportProgress, type importSourceWorkflow } from '../src/workflow';
import { callsPerServerQuery, stopCallingSignal, type callEachServer } from './workflows';
import { startBreakableTokenEndpoint, type BreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { importSink } from './support/import-sink';
import { testBed } from './support/test-bed';

function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  return eventually(() => probe().catch(() => undefined), { what, timeoutMs });
}

function forgotten(server: string, workflowId: string): Promise<true> {
  return until(async () => ((await listDependents(testBed().client, server)).includes(workflowId) ? undefined : true), `${server} to forget ${workflowId}`, 10_000);
}

describe('dependents: several servers in one workflow, and registrations given up in every ending', () => {
  it('a workflow depending on two servers: each disable pauses only its own server’s calls, each re-authorization resumes them, and the workflow completes', async function () {
    this.timeout(120_000);
    const bed = testBed();
    const endpoints = await Promise.all([0, 1].map(() => startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint)));
    try {
      await bed.withWorker(async (taskQueue) => {
        const configs = endpoints.map((endpoint) => bed.serverConfig('client_secret_basic', { accessTokenUrl: endpoint.url, maxRetryAttempts: 1 }));
        for (const config of configs) assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const names = configs.map((config) => config.name);
        const workflow = await bed.client.workflow.start<typeof callEachServer>('callEachServer', {
          taskQueue,
          workflowId: `two-servers-${randomUUID()}`,
          args: [names.map((server) => ({ server, url: `${bed.api.url}/whoami` })), 200],
        });
        const progress = () => workflow.query(callsPerServerQuery);
        const callsReach = (index: number, count: number, what: string) =>
          until(async () => ((await progress()).calls[index] ?? 0) >= count || undefined, what);

        await callsReach(0, 2, 'calls on the first server');
        await callsReach(1, 2, 'calls on the second server');
        const started = await progress();
        assert.equal(started.sharedUnderAnotherSpelling, true, 'registering the server again under another spelling gave another dependency');
        for (const name of names) assert.ok((await listDependents(bed.client, name)).includes(workflow.workflowId), `${name} forgot the workflow`);

        // Each server in turn: the first registered, then the last (whose handler the other once shared).
        for (const [disabled, other] of [[0, 1], [1, 0]] as const) {
          const endpoint = endpoints[disabled] as BreakableTokenEndpoint;
          const name = names[disabled] ?? '';
          endpoint.break();
          assert.equal((await authorizeServer(bed.client, name)).status, 'Error');
          const paused = await until(
            async () => {
              const now = await progress();
              return now.paused[disabled] && now.statuses[disabled] === 'Error' ? now : undefined;
            },
            `the calls on server ${disabled} to pause`,
          );
          assert.equal(paused.statuses[other], 'OK', `server ${other} heard server ${disabled}'s message`);
          const otherCalls = paused.calls[other] ?? 0;
          await callsReach(other, otherCalls + 3, `server ${other} to keep working while server ${disabled} is disabled`);
          assert.equal((await progress()).calls[disabled], paused.calls[disabled], `server ${disabled} was called while disabled`);

          endpoint.repair();
          assert.equal((await authorizeServer(bed.client, name)).status, 'OK');
          await callsReach(disabled, (paused.calls[disabled] ?? 0) + 2, `server ${disabled} to resume after its re-authorization`);
        }

        await workflow.signal(stopCallingSignal);
        const counts = await workflow.result();
        assert.ok(counts.every((count) => count > 0));
        for (const name of names) await forgotten(name, workflow.workflowId);
      });
    } finally {
      await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    }
  });

  it('an import that fails, and one that is cancelled while paused, are both forgotten by their server', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const working = bed.serverConfig('client_secret_basic');
      const disabled = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'local', value: 'not-the-secret-of-this-client' } });
      assert.equal((await createServer(bed.client, working, { taskQueue })).status, 'OK');
      assert.equal((await createServer(bed.client, disabled, { taskQueue })).status, 'Error');
      const startImport = (server: string, url: string) =>
        bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', { taskQueue, workflowId: `import-${randomUUID()}`, args: [{ server, url }] });

      // Not a page endpoint: the first page fails the import.
      const failing = await startImport(working.name, `${bed.api.url}/whoami`);
      await assert.rejects(failing.result(), (error: unknown) => error instanceof WorkflowFailedError && /records/.test(error.cause?.message ?? ''));
      await forgotten(working.name, failing.workflowId);

      const paused = await startImport(disabled.name, `${bed.api.url}/records`);
      await until(async () => ((await paused.query(importProgressQuery)).state === 'paused' ? true : undefined), 'the import to start paused');
      assert.ok((await listDependents(bed.client, disabled.name)).includes(paused.workflowId));
      await paused.cancel();
      await assert.rejects(paused.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      await forgotten(disabled.name, paused.workflowId);
    });
  });

  it('an import that has just paused already shows the status that paused it, before its server’s message arrives', async function () {
    this.timeout(60_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const source = await bed.startResourceApi({ recordCount: 2_000 });
    const sink = importSink();
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, allowedOrigins: [source.origin], maxRetryAttempts: 1 });
          assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
          const importer: WorkflowHandle<typeof importSourceWorkflow> = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
            taskQueue,
            workflowId: `import-${randomUUID()}`,
            args: [{ server: config.name, url: `${source.url}/records`, pageSize: 5 }],
          });
          await until(async () => ((await importer.query(importProgressQuery)).imported >= 20 ? true : undefined), '20 records imported');
          // Hold the server's message back for good: the server no longer counts the import among its dependents.
          await bed.client.workflow.getHandle(serverWorkflowId(config.name)).signal(unregisterDependentSignal, { workflowId: importer.workflowId });
          await forgotten(config.name, importer.workflowId);
          tokenEndpoint.break();
          assert.equal((await authorizeServer(bed.client, config.name)).status, 'Error');

          const paused = await until<ImportProgress>(async () => {
            const progress = await importer.query(importProgressQuery);
            return progress.state === 'paused' ? progress : undefined;
          }, 'the import to pause');
          assert.equal(paused.serverStatus, 'Error', 'the paused import says its server is OK');
          assert.ok(paused.imported < 2_000);
          await importer.cancel();
        },
        { activities: sink.activities },
      );
    } finally {
      await Promise.all([tokenEndpoint.close(), source.close()]);
    }
  });
});
