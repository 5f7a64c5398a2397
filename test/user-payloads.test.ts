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
import { isEncryptedPayload } from '../src/codec/encryption-codec';
import { serverWorkflowId } from '../src/contract/definitions';
import { rawPartsOf } from './support/leak-scan';
import { codecKeys, TEST_SECRET_REFERENCES, testBed } from './support/test-bed';
import type { callOnce } from './workflows';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

async function rawHistory(workflowId: string): Promise<History> {
  return testBed().rawClient.workflow.getHandle(workflowId).fetchHistory();
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

      // Temporal writes two kinds itself, never through a codec: search attributes (their type in clear) and patch markers.
      const events = (await rawHistory(serverWorkflowId(config.name))).events?.filter((event) => !event.markerRecordedEventAttributes);
      const server = rawPartsOf(events).payloads.filter((payload) => !payload.metadata?.type);
      assert.ok(server.length > 0);
      assert.deepEqual(server.filter((payload) => !isEncryptedPayload(payload)), [], 'a payload of the server workflow was stored in clear');
    });
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
