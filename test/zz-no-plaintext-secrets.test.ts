/**
 * Runs last (mocha sorts the files): after every other scenario of the suite, nothing that was a
 * secret or a token may be readable in Temporal or in the logs without the codec keys, nor through
 * the codec endpoint that lets the Web UI read them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { startCodecServer } from '../src/codec/codec-server';
import { DECRYPTED_METADATA } from '../src/codec/decrypted-mark';
import { EncryptionCodec, ENCRYPTED_ENCODING, PER_PAYLOAD_KEY_SCHEME, SCHEME_METADATA } from '../src/codec/encryption-codec';
import { collectRawHistories, leaksIn, leaksOf, type RawParts } from './support/leak-scan';
import { codecKeyFixture, codecKeys, testBed } from './support/test-bed';

/** Payloads per request to the codec endpoint: well inside its body limit. */
const DECODE_BATCH = 200;
const UI_ORIGIN = 'http://127.0.0.1:8233';

const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

/** The payload in the protobuf JSON form the Web UI posts. */
function asUiSends(payload: Payload): { metadata: Record<string, string>; data: string } {
  return { metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, base64(value)])), data: base64(payload.data) };
}

describe('no secret or token in plaintext anywhere', () => {
  let raw: RawParts;
  let encrypted: Payload[];

  before(async function () {
    this.timeout(300_000);
    raw = await collectRawHistories(testBed().rawClient, 'suite');
    encrypted = raw.payloads.filter((payload) => Buffer.from(payload.metadata?.encoding ?? []).toString() === ENCRYPTED_ENCODING);
  });

  it('every history of the run, fetched raw, the Temporal servers\' logs and every captured log line hold none of the secrets, private and codec keys, client assertions and tokens used; with the codec they decode', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const { authorizationServer } = bed;
    const needles = [
      ...bed.secretsUsed(),
      ...authorizationServer.issuedAccessTokens(),
      ...authorizationServer.receivedClientAssertions(),
      ...Object.values(codecKeyFixture().keys),
    ];
    assert.ok(authorizationServer.issuedAccessTokens().length > 0, 'no token was issued: this scan would mean nothing');
    assert.ok(authorizationServer.receivedClientAssertions().length > 0, 'no client assertion was sent: the JWT methods went unscanned');

    const { leaks, scanned } = leaksOf(needles);
    assert.ok(scanned.some((what) => what.startsWith('suite history')), 'no history found');
    assert.ok(scanned.some((what) => what.startsWith('the continue-as-new server log')), `the other dev server was not scanned: ${scanned.length} sources`);
    assert.deepEqual(leaks, []);

    // A failure's message and stack trace are the SDK's to write: the plugin has it move them into an encrypted payload.
    const ours = raw.failures.filter((failure) => failure.source === 'TypeScriptSDK');
    assert.ok(ours.length > 0, 'no failure in any history: the failure encoding went unchecked');
    assert.deepEqual(
      ours
        .filter((failure) => failure.message !== 'Encoded failure' || !failure.encodedAttributes)
        .map((failure) => ({ message: failure.message, type: failure.applicationFailureInfo?.type, encoded: Boolean(failure.encodedAttributes) })),
      [],
      'a failure kept its message or stack trace in clear',
    );

    const decoded = await new EncryptionCodec(codecKeys).decode(encrypted);
    assert.equal(decoded.length, encrypted.length);
    assert.ok(decoded.length > 0, 'no encrypted payload: is the codec installed?');
  });

  it('every payload of the run was written under a key of its own, and the plugin wrote no decrypted mark into one', async () => {
    const schemes = new Set(encrypted.map((payload) => Buffer.from(payload.metadata?.[SCHEME_METADATA] ?? []).toString()));
    assert.deepEqual([...schemes], [PER_PAYLOAD_KEY_SCHEME]);
    const decoded = await new EncryptionCodec(codecKeys).decode(encrypted);
    assert.equal(decoded.filter((payload) => payload.metadata?.[DECRYPTED_METADATA] !== undefined).length, 0, 'a payload was encrypted with the mark inside');
  });

  it('the codec endpoint decodes every payload of the run for the Web UI and returns none of those values, and encrypts nothing for it', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const { authorizationServer } = bed;
    const needles = [...bed.secretsUsed(), ...authorizationServer.issuedAccessTokens(), ...authorizationServer.receivedClientAssertions()];
    const credential = randomBytes(32).toString('base64url');
    // As the main job runs it: the Web UI is let in by its Origin.
    const server = await startCodecServer({ codec: new EncryptionCodec(codecKeys), credential, allowedOrigin: UI_ORIGIN, trustAllowedOrigin: true });
    try {
      const encode = await fetch(`${server.url}/encode`, { method: 'POST', headers: { 'content-type': 'application/json', origin: UI_ORIGIN }, body: '{"payloads":[]}' });
      assert.equal(encode.status, 403);
      const answers: { what: string; content: Buffer }[] = [];
      for (let start = 0; start < encrypted.length; start += DECODE_BATCH) {
        const response = await fetch(`${server.url}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: UI_ORIGIN },
          body: JSON.stringify({ payloads: encrypted.slice(start, start + DECODE_BATCH).map(asUiSends) }),
        });
        assert.equal(response.status, 200);
        const body = (await response.json()) as { payloads: { data?: string }[] };
        assert.equal(body.payloads.length, Math.min(DECODE_BATCH, encrypted.length - start));
        // The UI shows the data decoded from base64: scan that, and the answer as sent.
        answers.push({ what: `decode answer ${start}`, content: Buffer.from(JSON.stringify(body)) });
        for (const payload of body.payloads) answers.push({ what: `decoded payload in answer ${start}`, content: Buffer.from(payload.data ?? '', 'base64') });
      }
      assert.ok(answers.length > 0, 'nothing was decoded');
      assert.deepEqual(leaksIn(answers, needles), []);
    } finally {
      await server.close();
    }
  });
});
