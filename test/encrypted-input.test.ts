import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, WorkflowUpdateStage } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { encode } from '@temporalio/common/lib/encoding';
import { TemporalOAuthPlugin } from '../src';
import { DECRYPTED_METADATA } from '../src/codec/decrypted-mark';
import { codecKeys, testBed } from './support/test-bed';
import { reportArrivalUpdate, stopReportingSignal, type arrivalReporter } from './workflows';

/** A client without the codec keys that puts the codec's decrypted mark on everything it sends. */
const forgingCodec: PayloadCodec = {
  encode: (payloads) => Promise.resolve(payloads.map((payload) => ({ ...payload, metadata: { ...payload.metadata, [DECRYPTED_METADATA]: encode('1') } }))),
  decode: (payloads) => Promise.resolve(payloads),
};

/** What the workflow said of its start input and of one update's argument, both sent by `sender`. */
async function arrivals(sender: Client, taskQueue: string): Promise<{ input: boolean; update: boolean }> {
  // Results come back encrypted: the plugin's client reads them, whoever sent.
  const reader = testBed().client;
  const workflowId = `arrival-${randomUUID()}`;
  const config = { name: 'crm', allowedOrigins: ['http://example.com'] };
  await sender.workflow.start<typeof arrivalReporter>('arrivalReporter', { taskQueue, workflowId, args: [config], workflowExecutionTimeout: '1 minute' });
  const sent = await sender.workflow.getHandle(workflowId).startUpdate(reportArrivalUpdate, { args: [config], waitForStage: WorkflowUpdateStage.ACCEPTED });
  const handle = reader.workflow.getHandle<typeof arrivalReporter>(workflowId);
  const update = await handle.getUpdateHandle<boolean>(sent.updateId).result();
  await handle.signal(stopReportingSignal);
  return { input: await handle.result(), update };
}

describe('workflows can tell input that arrived encrypted from input sent in clear', () => {
  it('encrypted by the plugin: true; sent in clear (a user workflow\'s payloads by default), by a client without the codec, or with the decrypted mark forged: false', async () => {
    const bed = testBed();
    const { connection, namespace } = bed.temporal;
    const encryptingAll = new Client({ connection, namespace, plugins: [new TemporalOAuthPlugin({ codecKeys, encryptUserPayloads: true })] });
    await bed.withWorker(async (taskQueue) => {
      assert.deepEqual(await arrivals(encryptingAll, taskQueue), { input: true, update: true });
      assert.deepEqual(await arrivals(bed.client, taskQueue), { input: false, update: false });
      assert.deepEqual(await arrivals(bed.rawClient, taskQueue), { input: false, update: false });
      const forger = new Client({ connection, namespace, dataConverter: { payloadCodecs: [forgingCodec] } });
      assert.deepEqual(await arrivals(forger, taskQueue), { input: false, update: false });
    });
  });
});
