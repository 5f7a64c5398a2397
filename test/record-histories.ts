/**
 * Records the histories that test/replay.test.ts replays. Run `npm run record-histories` after a
 * deliberate, compatible change to a workflow, and commit the new files beside the old ones: old
 * histories must keep replaying on today's code, which is the point of keeping them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { authorizeServer, createServer, deleteServer, editServer } from '../src';
import { type importSourceWorkflow } from '../src/workflow';
import { finishSignal, type callOnce, type dependentProbe } from './workflows';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { eventually } from './support/eventually';
import { importSink } from './support/import-sink';
import { testBed } from './support/test-bed';

export const HISTORIES_DIR = resolve(__dirname, '../../test/fixtures/histories');

async function save(name: string, workflowId: string, runId?: string): Promise<void> {
  const history = await testBed().client.workflow.getHandle(workflowId, runId).fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Binary protobuf: the SDK's JSON helpers trip over two copies of protobufjs in this tree.
  writeFileSync(join(HISTORIES_DIR, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
}

describe('record histories for the replay test', () => {
  it('records a server through its whole lifecycle, an import with a pause, a dependent and a call', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const tokenEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    const source = await bed.startResourceApi({ recordCount: 60 });
    const sink = importSink(30);
    const stamp = new Date().toISOString().slice(0, 10);
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
          await eventually(() => (sink.deliveries.length >= 3 ? true : undefined), { what: 'three pages imported' });
          tokenEndpoint.break();
          await authorizeServer(bed.client, config.name);
          tokenEndpoint.repair();
          await authorizeServer(bed.client, config.name);
          await importer.result();
          await probe.signal(finishSignal);
          await probe.result();
          await deleteServer(bed.client, config.name);

          await save(`${stamp}-oauth-server-lifecycle`, `oauth-server:${config.name.toLowerCase()}`);
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
});
