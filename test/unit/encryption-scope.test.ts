import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import fc from 'fast-check';
import { generateCodecKey, parseCodecKeyRing } from '../../src/codec/codec-keys';
import { EncryptionCodec, isEncryptedPayload } from '../../src/codec/encryption-codec';
import { MarkingCodec } from '../../src/codec/marking-codec';
import { payloadConverter } from '../../src/codec/payload-converter';
import { PLUGIN_OWNED_METADATA, withPluginOwnedMark } from '../../src/codec/plugin-owned-mark';
import { serverWorkflowId } from '../../src/contract/definitions';
import { TemporalOAuthPlugin } from '../../src/plugin/plugin';
import { arrivedEncrypted } from '../../src/workflows/encrypted-input';
import { importSourceWorkflow } from '../../src/workflows/import-source';
import { assertAsyncProperty } from '../support/generated-cases';

const keys = parseCodecKeyRing(`k1:${generateCodecKey()}`);
const encryption = new EncryptionCodec(keys);
const namespace = 'default';

const userWorkflow: SerializationContext = { type: 'workflow', namespace, workflowId: 'orders-42' };
const userActivity: SerializationContext = { type: 'activity', namespace, workflowId: 'orders-42', activityId: '1', isLocal: false };
const serverWorkflow: SerializationContext = { type: 'workflow', namespace, workflowId: serverWorkflowId('CRM') };
const tokenActivity: SerializationContext = { type: 'activity', namespace, workflowId: serverWorkflowId('crm'), activityId: '3', isLocal: false };
const standaloneActivity: SerializationContext = { type: 'activity', namespace, activityId: 'a', isLocal: false };

const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

/** Encodes one payload with the plugin's codec for `context`; says whether it came out encrypted. */
async function encrypts(codec: MarkingCodec, context: SerializationContext | undefined, sent: Payload = payload({ a: 1 })): Promise<boolean> {
  const [encoded] = await codec.encode([sent], context);
  return isEncryptedPayload(encoded as Payload);
}

describe('what the plugin encrypts: its own payloads always, the user\'s by choice', () => {
  const byDefault = new MarkingCodec(encryption, [], false);
  const everything = new MarkingCodec(encryption, [], true);

  it('encrypts OAuth server workflows, the activities they schedule, and payloads whose owner is unknown', async () => {
    for (const context of [serverWorkflow, tokenActivity, standaloneActivity, undefined]) {
      assert.equal(await encrypts(byDefault, context), true, JSON.stringify(context));
    }
  });

  it('leaves a user workflow\'s payloads and its activities\' (webServiceCall\'s) in clear by default, and encrypts them with encryptUserPayloads', async () => {
    for (const context of [userWorkflow, userActivity]) {
      assert.equal(await encrypts(byDefault, context), false);
      assert.equal(await encrypts(everything, context), true);
    }
  });

  it('encrypts what one of its own workflows wrote under any workflow ID, and drops the mark', async () => {
    const [encoded] = await byDefault.encode([withPluginOwnedMark(payload({ cursor: 3 }))], userWorkflow);
    assert.equal(isEncryptedPayload(encoded as Payload), true);
    const [inside] = await encryption.decode([encoded as Payload]);
    assert.equal(inside?.metadata?.[PLUGIN_OWNED_METADATA], undefined);
  });

  it('decodes what either choice wrote, and only what arrived encrypted counts as such', async () => {
    await assertAsyncProperty(
      fc.asyncProperty(fc.jsonValue(), fc.boolean(), fc.boolean(), async (value, encryptUserPayloads, pluginOwned) => {
        const writer = new MarkingCodec(encryption, [], encryptUserPayloads);
        const wrapped = Array.isArray(value) ? value : [value];
        const written = await writer.encode([payload(wrapped)], pluginOwned ? serverWorkflow : userWorkflow);
        const [decoded] = await byDefault.decode(written, userWorkflow);
        const read = payloadConverter.fromPayload(decoded as Payload);
        assert.equal(JSON.stringify(read), JSON.stringify(wrapped));
        assert.equal(arrivedEncrypted(read), encryptUserPayloads || pluginOwned);
      }),
      { numRuns: 200 },
    );
  });

  it('the client encrypts the start of one of the plugin\'s workflows under a user-chosen ID (an import source), not of the user\'s own', async () => {
    const interceptors = new TemporalOAuthPlugin({ codecKeys: keys }).configureClient({}).interceptors?.workflow;
    assert.ok(Array.isArray(interceptors));
    const start = interceptors.find((interceptor) => interceptor.startWithDetails)?.startWithDetails;
    assert.ok(start);
    const encryptedWhenStarting = async (workflowType: string) => {
      let encrypted: boolean | undefined;
      const input = { workflowType, options: { workflowId: 'nightly-import', taskQueue: 'q', args: [] }, headers: {} } as unknown as Parameters<typeof start>[0];
      await start(input, async () => {
        encrypted = await encrypts(byDefault, { type: 'workflow', namespace, workflowId: 'nightly-import' });
        return { runId: 'r', eagerlyStarted: false };
      });
      return encrypted;
    };
    assert.equal(await encryptedWhenStarting(importSourceWorkflow.name), true);
    assert.equal(await encryptedWhenStarting('syncCustomers'), false);
  });
});
