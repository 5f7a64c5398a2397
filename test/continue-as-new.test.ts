import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { authorizeServer, createServer, editServer, listDependents, OAUTH_SEARCH_ATTRIBUTES, showServer } from '../src';
import { MAX_DEPENDENTS_PER_REGISTRATION, registerDependentsUpdate, serverWorkflowId } from '../src/contract/definitions';
import { ServerFailure } from '../src/contract/failures';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';
import type { ResourceApi } from '../src/demo/resource-api';
import { importProgressQuery, type importSourceWorkflow } from '../src/workflow';
import { finishSignal, type dependentProbe } from './workflows';
import { eventually, within } from './support/eventually';
import { importSink } from './support/import-sink';
import { API_SCOPES, testBed } from './support/test-bed';
import { testLogger } from './support/captured-logs';
import { collectRawHistories, serverLogFile } from './support/leak-scan';

async function runCount(client: Client, workflowId: string): Promise<number> {
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs += 1;
  return runs;
}

describe('continue-as-new keeps everything', () => {
  let temporal: TemporalEnvironment | undefined;
  let source: ResourceApi | undefined;

  before(async function () {
    this.timeout(120_000);
    // A server of its own, where Temporal suggests continue-as-new after a few dozen events.
    temporal = await startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
      outputFile: serverLogFile('continue-as-new'),
      log: (line) => testLogger.info(line),
    });
    const bed = testBed();
    source = await bed.startResourceApi({ recordCount: 200 });
  });

  after(async function () {
    this.timeout(120_000);
    await source?.close();
    // Its histories go into the suite's final scan for leaked secrets before the server is gone.
    if (temporal) await collectRawHistories(temporal.client, 'continue-as-new');
    await temporal?.teardown();
  });

  it('the server and an import continue as new in the middle of refreshes, updates, signals and pages, and lose nothing', async function () {
    this.timeout(180_000);
    const bed = testBed();
    const env = temporal!;
    const client = bed.clientFor(env);
    const api = source!;
    const shortLived = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 3 });
    const sink = importSink(20);
    await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', {
          clientId: shortLived.clientId,
          clientSecret: { source: 'local', value: shortLived.secret },
          allowedOrigins: [api.origin],
          category: 'Forever',
        });
        assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
        const importer = await client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
          taskQueue,
          workflowId: `import-${randomUUID()}`,
          args: [{ server: config.name, url: `${api.url}/records`, pageSize: 4 }],
        });
        const probes = [];
        for (let i = 0; i < 6; i += 1) {
          probes.push(
            await client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }),
          );
          assert.equal((await authorizeServer(client, config.name)).status, 'OK');
        }
        await probes[0]!.signal(finishSignal);
        assert.equal(await probes[0]!.result(), 'OK');

        const done = await importer.result();
        assert.equal(done.imported, 200);
        const ids = sink.recordIds(importer.workflowId);
        assert.equal(ids.length, 200);
        assert.equal(new Set(ids).size, 200);
        assert.ok((await runCount(client, importer.workflowId)) > 1, 'the import never continued as new');
        assert.equal((await importer.query(importProgressQuery)).state, 'completed');

        const serverId = `oauth-server:${config.name.toLowerCase()}`;
        await eventually(async () => ((await runCount(client, serverId)) > 2 ? true : undefined), { what: 'the server continued as new' });
        const view = await showServer(client, config.name);
        assert.equal(view.status, 'OK');
        assert.equal(view.config.category, 'Forever');
        assert.deepEqual(view.config.allowedOrigins, [api.origin]);
        const dependents = await eventually(
          async () => {
            const live = await listDependents(client, config.name);
            return live.length === 5 ? live : undefined;
          },
          { what: 'the five live probes still registered' },
        );
        assert.deepEqual(new Set(dependents), new Set(probes.slice(1).map((probe) => probe.workflowId)));
        await Promise.all(probes.slice(1).map((probe) => probe.signal(finishSignal)));
      },
      { activities: sink.activities, temporal: env },
    );
  });

  it('an authorize that arrives while continue-as-new waits for an edit to tell its dependents still gets its token', async function () {
    this.timeout(180_000);
    const bed = testBed();
    const env = temporal!;
    const client = bed.clientFor(env);
    await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic');
        assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
        // Enough dependents that telling them of an edit spans several workflow tasks, and that
        // Temporal suggests continue-as-new while the edit's handler is still running.
        const probes = await Promise.all(
          Array.from({ length: 60 }, () =>
            client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }),
          ),
        );
        await eventually(async () => ((await listDependents(client, config.name)).length === probes.length ? true : undefined), {
          what: 'every probe registered',
        });
        for (const delayMs of [0, 5, 10, 20, 40, 80, 160]) {
          const edit = editServer(client, config.name, { scope: config.scope });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          const [edited, authorized] = await within(Promise.all([edit, authorizeServer(client, config.name)]), 30_000, `an edit and an authorize ${delayMs} ms apart`);
          assert.equal(edited.config.scope, config.scope);
          assert.ok(['OK', 'NotAuthorized'].includes(authorized.status));
          assert.equal((await authorizeServer(client, config.name)).status, 'OK');
        }
        assert.ok((await runCount(client, `oauth-server:${config.name.toLowerCase()}`)) > 2, 'the server never continued as new');
        await Promise.all(probes.map((probe) => probe.signal(finishSignal)));
      },
      { temporal: env },
    );
  });

  it('a server refuses dependents past what it can carry over continue-as-new, by name, and continues as new with every one it took', async function () {
    this.timeout(180_000);
    const bed = testBed();
    const env = temporal!;
    const client = bed.clientFor(env);
    await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic');
        assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
        const server = client.workflow.getHandle(serverWorkflowId(config.name));
        // Workflow IDs as long as Temporal takes (1,000 bytes): 3,000 of them would need 3 MB, past a payload's 2 MiB.
        const ids = (count: number) => Array.from({ length: count }, () => `gone-${randomUUID()}-`.padEnd(1_000, 'x'));
        let taken = 0;
        let refusal: unknown;
        for (let batch = 0; batch < 6 && refusal === undefined; batch += 1) {
          try {
            await server.executeUpdate(registerDependentsUpdate, { args: [{ workflowIds: ids(MAX_DEPENDENTS_PER_REGISTRATION) }] });
            taken += MAX_DEPENDENTS_PER_REGISTRATION;
          } catch (error) {
            refusal = error;
          }
        }
        assert.ok(refusal instanceof WorkflowUpdateFailedError && refusal.cause instanceof ApplicationFailure, `no refusal after ${taken} dependents`);
        assert.equal(refusal.cause.type, ServerFailure.TooManyDependents);
        assert.match(refusal.cause.message, new RegExp(`OAuth server ${config.name} has ${taken} dependents`));
        // Refused whole, not by count: a smaller registration that fits is still taken.
        await server.executeUpdate(registerDependentsUpdate, { args: [{ workflowIds: ids(60) }] });
        taken += 60;

        const firstRun = (await server.describe()).runId;
        await eventually(
          async () => {
            // Authorizes alone: an edit would tell the dependents, and the made-up ones would be forgotten.
            assert.equal((await authorizeServer(client, config.name)).status, 'OK');
            return (await server.describe()).runId !== firstRun ? true : undefined;
          },
          { what: 'the server continued as new' },
        );
        assert.equal((await listDependents(client, config.name)).length, taken);
      },
      { temporal: env },
    );
  });
});
