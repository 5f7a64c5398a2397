/**
 * The plugin encrypts what it owns and leaves the user's own payloads to the user's choice
 * (`encryptUserPayloads`), read here from raw history, fetched without the codec.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createServer, TemporalOAuthPlugin, type WebServiceCallInput } from '../src';
import type { importSourceWorkflow } from '../src/workflow';
import { isEncryptedPayload } from '../src/codec/encryption-codec';
import { serverWorkflowId } from '../src/contract/definitions';
import { importSink } from './support/import-sink';
import { rawPartsOf } from './support/leak-scan';
import { codecKeys, TEST_SECRET_REFERENCES, testBed } from './support/test-bed';
import type { callOnce } from './workflows';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

async function rawHistory(workflowId: string): Promise<History> {
  return testBed().rawClient.workflow.getHandle(workflowId).fetchHistory();
}

/** The payloads of a history that went through the codec: Temporal writes search attributes (their type in clear) and patch markers itself. */
async function codecPayloads(workflowId: string): Promise<Payload[]> {
  const events = (await rawHistory(workflowId)).events?.filter((event) => !event.markerRecordedEventAttributes);
  const payloads = rawPartsOf(events).payloads.filter((payload) => !payload.metadata?.type);
  assert.ok(payloads.length > 0, `no payload in the history of ${workflowId}`);
  return payloads;
}

/** The user's own payloads of one webServiceCall workflow: its input and result, the activity's input and result. */
function callPayloads(history: History): Payload[] {
  const payloads = (history.events ?? []).flatMap((event) => [
    ...(event.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
    ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
    ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
    ...(event.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
  ]);
  assert.equal(payloads.length, 4, 'the call workflow did not record its input, the activity\'s input and result, and its result');
  return payloads;
}

/** Runs the test's call workflow with `client` on `taskQueue`; returns its workflow ID. */
async function callThrough(client: Client, taskQueue: string, input: WebServiceCallInput): Promise<string> {
  const workflowId = `user-payloads-${randomUUID()}`;
  const result = await client.workflow.execute<typeof callOnce>('callOnce', { taskQueue, workflowId, args: [input], workflowExecutionTimeout: '2 minutes' });
  assert.equal(result.status, 200);
  return workflowId;
}

describe('what the plugin encrypts in history', () => {
  it('by default: every payload of the OAuth server in history, none of the user workflow that calls webServiceCall', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
      const call = await callThrough(bed.client, taskQueue, { server: config.name, url: `${bed.api.url}/whoami` });

      const clear = callPayloads(await rawHistory(call));
      assert.deepEqual(clear.map(isEncryptedPayload), [false, false, false, false]);
      assert.match(Buffer.from(clear[3]?.data ?? []).toString(), /"client_id"/);

      const server = await codecPayloads(serverWorkflowId(config.name));
      assert.deepEqual(server.filter((payload) => !isEncryptedPayload(payload)), [], 'a payload of the server workflow was stored in clear');
    });
  });

  it('by default: every payload of an import source under an ID of the user\'s choosing, its pages and sink batches included', async () => {
    const bed = testBed();
    const sink = importSink();
    await bed.withWorker(
      async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic');
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const importer = await bed.client.workflow.start<typeof importSourceWorkflow>('importSourceWorkflow', {
          taskQueue,
          workflowId: `nightly-${randomUUID()}`,
          args: [{ server: config.name, url: `${bed.api.url}/records`, pageSize: 250 }],
        });
        assert.ok((await importer.result()).imported > 0);
        const payloads = await codecPayloads(importer.workflowId);
        assert.deepEqual(payloads.filter((payload) => !isEncryptedPayload(payload)), [], 'a payload of the import source was stored in clear');
      },
      { activities: sink.activities },
    );
  });

  it('with encryptUserPayloads: the user workflow\'s payloads too, and the plugin still reads them', async () => {
    const bed = testBed();
    const plugin = new TemporalOAuthPlugin({ codecKeys, secretReferences: TEST_SECRET_REFERENCES, encryptUserPayloads: true });
    const { connection, nativeConnection, namespace } = bed.temporal;
    const client = new Client({ connection, namespace, plugins: [plugin] });
    const taskQueue = `tq-${randomUUID()}`;
    const worker = await Worker.create({ connection: nativeConnection, namespace, taskQueue, workflowBundle: bed.workflowBundle, plugins: [plugin] });
    await worker.runUntil(async () => {
      const config = bed.serverConfig('client_secret_basic');
      assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
      const call = await callThrough(client, taskQueue, { server: config.name, url: `${bed.api.url}/whoami` });
      assert.deepEqual(callPayloads(await rawHistory(call)).map(isEncryptedPayload), [true, true, true, true]);
    });
  });
});
