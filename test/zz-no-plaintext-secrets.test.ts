/**
 * Runs last (mocha sorts the files): after every other scenario of the suite, nothing that was a
 * secret or a token may be readable in Temporal or in the logs without the codec keys.
 */
import assert from 'node:assert/strict';
import { EncryptionCodec, ENCRYPTED_ENCODING } from '../src/codec/encryption-codec';
import { collectRawHistories, leaksOf } from './support/leak-scan';
import { codecKeys, testBed } from './support/test-bed';

describe('no secret or token in plaintext anywhere', () => {
  it('every history of the run, fetched raw, the Temporal servers\' logs and every captured log line hold none of the secrets, keys, client assertions and tokens used; with the codec they decode', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const { authorizationServer } = bed;
    const needles = [...bed.secretsUsed(), ...authorizationServer.issuedAccessTokens(), ...authorizationServer.receivedClientAssertions()];
    assert.ok(authorizationServer.issuedAccessTokens().length > 0, 'no token was issued: this scan would mean nothing');
    assert.ok(authorizationServer.receivedClientAssertions().length > 0, 'no client assertion was sent: the JWT methods went unscanned');

    const payloads = await collectRawHistories(bed.rawClient, 'suite');
    const encrypted = payloads.filter((payload) => Buffer.from(payload.metadata?.encoding ?? []).toString() === ENCRYPTED_ENCODING);
    const { leaks, scanned } = leaksOf(needles);
    assert.ok(scanned.some((what) => what.startsWith('suite history')), 'no history found');
    assert.ok(scanned.some((what) => what.startsWith('the continue-as-new server log')), `the other dev server was not scanned: ${scanned.length} sources`);
    assert.deepEqual(leaks, []);

    const decoded = await new EncryptionCodec(codecKeys).decode(encrypted);
    assert.equal(decoded.length, encrypted.length);
    assert.ok(decoded.length > 0, 'no encrypted payload: is the codec installed?');
  });
});
