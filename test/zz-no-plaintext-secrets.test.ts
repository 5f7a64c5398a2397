/**
 * Runs last (mocha sorts the files): after every other scenario of the suite, nothing that was a
 * secret or a token may be readable in Temporal or in the logs without the codec keys.
 */
import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, ENCRYPTED_ENCODING } from '../src/codec/encryption-codec';
import { capturedLogs } from './support/captured-logs';
import { codecKeys, testBed } from './support/test-bed';

/** The forms a value could take in a history or a log line. */
function forms(value: string): Buffer[] {
  return [Buffer.from(value), Buffer.from(Buffer.from(value).toString('base64'))];
}

function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(node)) {
    for (const item of node) payloadsIn(item, found);
  } else if (node && typeof node === 'object') {
    const candidate = node as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
    if (candidate.metadata?.encoding && candidate.data) found.push(candidate);
    else for (const value of Object.values(node)) payloadsIn(value, found);
  }
  return found;
}

describe('no secret or token in plaintext anywhere', () => {
  it('every history in the namespace, fetched raw, and every captured log line hold none of the secrets, keys and tokens used; with the codec they decode', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const needles = [...bed.secretsUsed(), ...bed.authorizationServer.issuedAccessTokens()];
    assert.ok(bed.authorizationServer.issuedAccessTokens().length > 0, 'no token was issued: this scan would mean nothing');

    const histories: Buffer[] = [];
    const encrypted: Payload[] = [];
    for await (const execution of bed.rawClient.workflow.list()) {
      const history = await bed.rawClient.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      histories.push(Buffer.from(temporal.api.history.v1.History.encode(history).finish()));
      for (const payload of payloadsIn(history.events)) {
        if (Buffer.from(payload.metadata?.encoding ?? []).toString() === ENCRYPTED_ENCODING) encrypted.push(payload);
      }
    }
    assert.ok(histories.length > 0, 'no history found');
    const logs = Buffer.from(capturedLogs.join('\n'));

    const leaks: string[] = [];
    for (const needle of needles) {
      for (const form of forms(needle)) {
        histories.forEach((history, index) => {
          if (history.includes(form)) leaks.push(`history #${index} holds a value of length ${needle.length}`);
        });
        if (logs.includes(form)) leaks.push(`the logs hold a value of length ${needle.length}`);
      }
    }
    assert.deepEqual(leaks, []);

    const decoded = await new EncryptionCodec(codecKeys).decode(encrypted);
    assert.equal(decoded.length, encrypted.length);
    assert.ok(decoded.length > 0, 'no encrypted payload: is the codec installed?');
  });
});
