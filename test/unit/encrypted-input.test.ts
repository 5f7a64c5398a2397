import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import fc from 'fast-check';
import { generateCodecKey, parseCodecKeyRing } from '../../src/codec/codec-keys';
import { DECRYPTED_METADATA } from '../../src/codec/decrypted-mark';
import { withEncryptedInputTags } from '../../src/codec/encrypted-input-converter';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { MarkingCodec } from '../../src/codec/marking-codec';
import { payloadConverter } from '../../src/codec/payload-converter';
import { TemporalOAuthPlugin } from '../../src/plugin/plugin';
import { arrivedEncrypted } from '../../src/workflows/encrypted-input';
import { assertAsyncProperty } from '../support/generated-cases';

const keys = parseCodecKeyRing(`k1:${generateCodecKey()}`);
const encryption = new EncryptionCodec(keys);

/** A user's codec that wraps each payload in one of its own, as compression does, and keeps no metadata of the inner one outside. */
const wrapping: PayloadCodec = {
  encode: (payloads) =>
    Promise.resolve(payloads.map((payload) => ({ metadata: { encoding: encode('binary/wrapped') }, data: Buffer.from(JSON.stringify(normalized(payload))) }))),
  decode: (payloads) =>
    Promise.resolve(
      payloads.map((payload) => {
        if (decode(payload.metadata?.encoding ?? new Uint8Array()) !== 'binary/wrapped') return payload;
        const { metadata, data } = JSON.parse(decode(payload.data ?? new Uint8Array())) as { metadata: Record<string, string>; data: string };
        return { metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')])), data: Buffer.from(data, 'base64') };
      }),
    ),
};

/** A user's codec that claims every payload it decodes was decrypted: the plugin must not believe it. */
const forging: PayloadCodec = {
  encode: (payloads) => Promise.resolve(payloads),
  decode: (payloads) => Promise.resolve(payloads.map((payload) => ({ ...payload, metadata: { ...payload.metadata, [DECRYPTED_METADATA]: encode('1') } }))),
};

function normalized(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

/** What a workflow's handler receives for `value` sent by a client with the codec (`sender`) or without one. */
async function received(value: unknown, receiver: PayloadCodec, sender?: PayloadCodec): Promise<unknown> {
  let payloads = [defaultPayloadConverter.toPayload(value)];
  if (sender) payloads = await sender.encode(payloads);
  const [decoded] = await receiver.decode(payloads);
  return payloadConverter.fromPayload(decoded as Payload);
}

describe('arrivedEncrypted: the codec marks what it decrypted, the payload converter tags it', () => {
  for (const [what, codec] of [
    ['the plugin codec alone', new MarkingCodec(encryption)],
    ["with a user's wrapping codec inside", new MarkingCodec(encryption, [wrapping])],
    ["with a user's codec that forges the mark", new MarkingCodec(encryption, [forging, wrapping])],
  ] as const) {
    it(`${what}: an object sent encrypted is tagged, the same object sent in clear is not, even with the mark forged`, async () => {
      const config = { name: 'crm', clientSecret: { source: 'local', value: 'x' } };
      assert.equal(arrivedEncrypted(await received(config, codec, codec)), true);
      assert.equal(arrivedEncrypted(await received([1, 2], codec, codec)), true);
      assert.equal(arrivedEncrypted(await received(config, codec)), false);
      const forged = { ...defaultPayloadConverter.toPayload(config), metadata: { ...defaultPayloadConverter.toPayload(config).metadata, [DECRYPTED_METADATA]: encode('1') } };
      const [decoded] = await codec.decode([forged]);
      assert.equal(decoded?.metadata?.[DECRYPTED_METADATA], undefined);
      assert.equal(arrivedEncrypted(payloadConverter.fromPayload(decoded as Payload)), false);
    });
  }

  it('never writes the mark into history: encode drops it before encrypting', async () => {
    const codec = new MarkingCodec(encryption);
    const [marked] = await codec.decode(await codec.encode([defaultPayloadConverter.toPayload({ a: 1 })]));
    assert.notEqual(marked?.metadata?.[DECRYPTED_METADATA], undefined);
    const [reencoded] = await codec.encode([marked as Payload]);
    const [inside] = await encryption.decode([reencoded as Payload]);
    assert.deepEqual(Object.keys(inside?.metadata ?? {}), ['encoding']);
  });

  it('the tag is invisible to copies, JSON and key listings, and primitives never carry it', async () => {
    const codec = new MarkingCodec(encryption);
    const value = (await received({ a: 1 }, codec, codec)) as Record<string, unknown>;
    assert.equal(arrivedEncrypted(value), true);
    assert.deepEqual(Object.keys(value), ['a']);
    assert.equal(JSON.stringify(value), '{"a":1}');
    assert.equal(arrivedEncrypted({ ...value }), false);
    assert.equal(arrivedEncrypted(structuredClone(value)), false);
    for (const primitive of ['text', 42, true, null, undefined]) assert.equal(arrivedEncrypted(await received(primitive, codec, codec)), false);
    assert.equal(arrivedEncrypted({ [Symbol.for('temporal-oauth.arrivedEncrypted')]: 'yes' }), false);
  });

  it('a user converter wrapped with withEncryptedInputTags tags too', async () => {
    const codec = new MarkingCodec(encryption);
    const [decoded] = await codec.decode(await codec.encode([defaultPayloadConverter.toPayload({ a: 1 })]));
    assert.equal(arrivedEncrypted(withEncryptedInputTags(defaultPayloadConverter).fromPayload(decoded as Payload)), true);
    assert.equal(arrivedEncrypted(defaultPayloadConverter.fromPayload(decoded as Payload)), false);
  });

  it('for any JSON value and any clear metadata: tagged exactly when it arrived encrypted', async () => {
    const codec = new MarkingCodec(encryption, [wrapping]);
    const objects = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue()));
    const extraMetadata = fc.dictionary(fc.constantFrom(DECRYPTED_METADATA, 'encryption-key-id', 'encryption-scheme', 'x'), fc.string());
    await assertAsyncProperty(
      fc.asyncProperty(objects, extraMetadata, fc.boolean(), async (value, metadata, encrypted) => {
        const plain = defaultPayloadConverter.toPayload(value);
        const sent = encrypted
          ? await codec.encode([plain])
          : [{ ...plain, metadata: { ...plain.metadata, ...Object.fromEntries(Object.entries(metadata).map(([key, text]) => [key, encode(text)])) } }];
        const [decoded] = await codec.decode(sent);
        const converted = payloadConverter.fromPayload(decoded as Payload);
        assert.equal(JSON.stringify(converted), JSON.stringify(value));
        assert.equal(arrivedEncrypted(converted), encrypted);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the plugin installs the tagging converter', () => {
  const plugin = new TemporalOAuthPlugin({ codecKeys: keys });
  const ours = require.resolve('../../src/codec/payload-converter');

  it('on workers, clients and prebuilt bundles, and keeps a user converter', () => {
    assert.equal(plugin.configureWorker({ taskQueue: 'q', workflowsPath: __filename }).dataConverter?.payloadConverterPath, ours);
    assert.equal(plugin.configureClient({}).dataConverter?.payloadConverterPath, ours);
    assert.equal(plugin.configureBundler({ workflowsPath: __filename }).payloadConverterPath, ours);
    assert.equal(plugin.configureBundler({ workflowsPath: __filename, payloadConverterPath: '/mine.js' }).payloadConverterPath, '/mine.js');
    const mine = plugin.configureClient({ dataConverter: { payloadConverterPath: '/mine.js', payloadCodecs: [wrapping] } }).dataConverter;
    assert.equal(mine?.payloadConverterPath, '/mine.js');
    assert.equal(mine?.payloadCodecs?.length, 1);
    assert.ok(mine?.payloadCodecs?.[0] instanceof MarkingCodec);
  });
});
