/**
 * Records the histories that test/replay.test.ts replays. Run `npm run record-histories` after a
 * deliberate, compatible change to a workflow, and commit the new files beside the old ones: old
 * histories must keep replaying on today's code, which is the point of keeping them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { authorizeServer, createServer, deleteServer, editServer, listDependents, OAUTH_SEARCH_ATTRIBUTES, parseOAuthServerConfig, showServer } from '../src';
import { OAUTH_SERVER_WORKFLOW_TYPE, serverWorkflowId } from '../src/contract/definitions';
import { ServerFailure } from '../src/contract/failures';
import { startTemporalEnvironment } from '../src/dev-server/temporal-environment';
import { importProgressQuery, type importSourceWorkflow } from '../src/workflow';
import { finishSignal, type callOnce, type dependentProbe } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { loseTheFirstWait } from './support/lost-wait';
import { registerMadeUpDependents } from './support/made-up-dependents';
import { importSink } from './support/import-sink';
import { API_SCOPES, testBed } from './support/test-bed';

export const HISTORIES_DIR = resolve(__dirname, '../../test/fixtures/histories');

/**
 * The prefix of this run's files: today's date, with a letter after it when a generation of that date
 * exists already (2026-12-03, then 2026-12-03b…), so that a second recording on one day adds, never overwrites.
 */
function newGeneration(): string {
  const date = new Date().toISOString().slice(0, 10);
  const taken = new Set(existsSync(HISTORIES_DIR) ? readdirSync(HISTORIES_DIR).map((file) => /^(\d{4}-\d{2}-\d{2}[a-z]?)-/.exec(file)?.[1]) : []);
  for (const suffix of ['', ...'bcdefghijklmnopqrstuvwxyz']) if (!taken.has(`${date}${suffix}`)) return `${date}${suffix}`;
  throw new Error(`every generation of ${date} is taken`);
}
/** One for the whole run: its recordings replay together. */
const stamp = newGeneration();

async function save(name: string, workflowId: string, runId?: string, client: Client = testBed().client): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Binary protobuf: the SDK's JSON helpers trip over two copies of protobufjs in this tree.
  writeFileSync(join(HISTORIES_DIR, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
}

describe('record histories for the replay test', () => {
  it('records a server through its whole lifecycle, an import paused twice (once cutting a page), a dependent and a call', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const source = await bed.startResourceApi({ recordCount: 60 });
    // Pages slow enough that the import cannot finish between a count of pages and the rejection that follows it.
    const sink = importSink(200);
    try {
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic', {
            accessTokenUrl: tokenEndpoint.url,
            clientSecret: { source: 'local', value: 'wrong-secret-for-the-fixture' },
            allowedOrigins: [source.origin, bed.api.origin],
            maxRetryAttempts: 1,
          });
          await createServer(bed.client, config, { taskQueue });
          await editServer(bed.client, config.name, { clientSecret: { source: 'local', value: bed.clients.client_secret_basic.secret } });
          await authorizeServer(bed.client, config.name);
          const call = await bed.client.workflow.start<typeof callOnce>('callOnce', {
            taskQueue,
            workflowId: `call-${randomUUID()}`,
            args: [{ server: config.name, url: `${bed.api.url}/whoami` }],
          });
          await call.result();
          const probe = await bed.client.workflow.start<typeof dependentProbe>('dependentProbe', {
            taskQueue,
            workflowId: `probe-${randomUUID()}`,
            args: [config.name],
          });
          const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
            taskQueue,
            workflowId: `import-${randomUUID()}`,
            args: [{ server: config.name, url: `${source.url}/records`, pageSize: 5 }],
          });
          const paused = () =>
            eventually(async () => ((await importer.query(importProgressQuery)).state === 'paused' ? true : undefined), { what: 'the import paused' });
          await eventually(() => (sink.deliveries.length >= 3 ? true : undefined), { what: 'three pages imported' });
          // A disable between pages, then one that cuts a page: the API rejects the token and its refresh fails.
          tokenEndpoint.break();
          await authorizeServer(bed.client, config.name);
          await paused();
          tokenEndpoint.repair();
          await authorizeServer(bed.client, config.name);
          await eventually(() => (sink.deliveries.length >= 6 ? true : undefined), { what: 'six pages imported' });
          tokenEndpoint.break();
          // Every token issued so far, not the last call's: for up to a second after an authorize a worker
          // still calls with the token from before it, and the server would answer its rejection with the new one.
          for (const token of bed.authorizationServer.issuedAccessTokens()) source.rejectToken(createHash('sha256').update(token).digest('hex'));
          await paused();
          tokenEndpoint.repair();
          await authorizeServer(bed.client, config.name);
          await importer.result();
          await probe.signal(finishSignal);
          await probe.result();
          await deleteServer(bed.client, config.name);

          await save(`${stamp}-oauth-server-lifecycle`, serverWorkflowId(config.name));
          await save(`${stamp}-import-source-paused`, importer.workflowId);
          await save(`${stamp}-dependent-probe`, probe.workflowId);
          await save(`${stamp}-web-service-call`, call.workflowId);
        },
        { activities: sink.activities },
      );
    } finally {
      await Promise.all([tokenEndpoint.close(), source.close()]);
    }
  });

  it('records the first run of a server that continued as new with handlers around it', async function () {
    this.timeout(300_000);
    const bed = testBed();
    // A server of its own, where Temporal suggests continue-as-new after a few dozen events.
    const temporal = await startTemporalEnvironment({
      searchAttributes: OAUTH_SEARCH_ATTRIBUTES,
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
    });
    try {
      const client = bed.clientFor(temporal);
      await bed.withWorker(
        async (taskQueue) => {
          const config = bed.serverConfig('client_secret_basic');
          await createServer(client, config, { taskQueue });
          const probes = await Promise.all(
            Array.from({ length: 5 }, () =>
              client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] }),
            ),
          );
          const serverId = serverWorkflowId(config.name);
          const firstRun = (await client.workflow.getHandle(serverId).describe()).runId;
          await eventually(
            async () => {
              await Promise.all([editServer(client, config.name, { scope: config.scope }), authorizeServer(client, config.name)]);
              return (await client.workflow.getHandle(serverId).describe()).runId !== firstRun ? true : undefined;
            },
            { what: 'the server continued as new' },
          );
          await authorizeServer(client, config.name);
          await Promise.all(probes.map((probe) => probe.signal(finishSignal)));
          await save(`${stamp}-oauth-server-continued-as-new`, serverId, firstRun, client);
        },
        { temporal },
      );
    } finally {
      await temporal.teardown();
    }
  });

  it('records a server whose short-lived token is refreshed as scheduled, then an authorize, an edit and a delete that each cancel the scheduled refresh', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const shortLived = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 3 });
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { clientId: shortLived.clientId, clientSecret: { source: 'local', value: shortLived.secret } });
      await createServer(bed.client, config, { taskQueue });
      const serverId = serverWorkflowId(config.name);
      const tokensObtained = async () =>
        ((await bed.client.workflow.getHandle(serverId).fetchHistory()).events ?? []).filter((event) => event.activityTaskCompletedEventAttributes).length;
      // The first token, then two refreshes that came when due.
      await eventually(async () => ((await tokensObtained()) >= 3 ? true : undefined), { what: 'two scheduled refreshes', timeoutMs: 60_000 });
      await authorizeServer(bed.client, config.name);
      await editServer(bed.client, config.name, { scope: 'api:read' });
      await authorizeServer(bed.client, config.name);
      await deleteServer(bed.client, config.name);
      await save(`${stamp}-oauth-server-refresh`, serverId);
    });
  });

  it('records a server disabled with 1,041 dependents, 1,040 of them gone: more than one fan-out activity carried before the byte budget', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: tokenEndpoint.url, maxRetryAttempts: 1 });
        await createServer(bed.client, config, { taskQueue });
        const server = bed.client.workflow.getHandle(serverWorkflowId(config.name));
        const probe = await bed.client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [config.name] });
        const gone = Array.from({ length: 1_040 }, (_, index) => `gone-${index}-${randomUUID()}`);
        await registerMadeUpDependents(server, gone);
        await eventually(async () => ((await listDependents(bed.client, config.name)).length === gone.length + 1 ? true : undefined), { what: 'every dependent registered' });
        tokenEndpoint.break();
        await authorizeServer(bed.client, config.name);
        await eventually(async () => ((await listDependents(bed.client, config.name)).length === 1 ? true : undefined), { what: 'the gone dependents forgotten' });
        tokenEndpoint.repair();
        await authorizeServer(bed.client, config.name);
        await probe.signal(finishSignal);
        await probe.result();
        await deleteServer(bed.client, config.name);
        await save(`${stamp}-oauth-server-fan-out-past-1000`, server.workflowId);
      });
    } finally {
      await tokenEndpoint.close();
    }
  });

  it('records a plain start refused for a configuration createServer would not have stored', async function () {
    this.timeout(60_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      // An origin with a path: createServer stores only origins, so the workflow refuses it at its first task.
      const config = { ...parseOAuthServerConfig(bed.serverConfig('client_secret_basic')), allowedOrigins: ['http://example.com/path'] };
      const handle = await bed.client.workflow.start(OAUTH_SERVER_WORKFLOW_TYPE, { taskQueue, workflowId: serverWorkflowId(config.name), args: [{ config }] });
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure && error.cause.type === ServerFailure.InvalidRequest);
      await save(`${stamp}-oauth-server-start-refused`, handle.workflowId);
    });
  });

  it('records a server whose refresh lost the attempt that stood for its wait, waited again and refreshed on time', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const shortLived = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 6 });
    const lostWait = loseTheFirstWait();
    await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { clientId: shortLived.clientId, clientSecret: { source: 'local', value: shortLived.secret }, maxRetryAttempts: 1 });
        const created = await createServer(bed.client, config, { taskQueue });
        await eventually(async () => ((await showServer(bed.client, config.name)).tokenExpiresAt !== created.tokenExpiresAt && lostWait.lost() === 1 ? true : undefined), {
          what: 'the refresh after the lost wait',
          timeoutMs: 60_000,
        });
        await deleteServer(bed.client, config.name);
        await save(`${stamp}-oauth-server-lost-wait`, serverWorkflowId(config.name));
      },
      { activityInterceptors: [lostWait.interceptor] },
    );
  });
});
