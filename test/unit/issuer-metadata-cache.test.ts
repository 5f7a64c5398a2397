import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IssuerMetadata } from '../../src/oauth/discovery';
import { TokenRequestError } from '../../src/oauth/errors';
import { ISSUER_METADATA_TTL_MS, IssuerMetadataCache } from '../../src/oauth/issuer-metadata-cache';
import { endpointMayHaveMoved } from '../../src/oauth/token-endpoints';
import { assertAsyncProperty } from '../support/generated-cases';

const OPTIONS = { timeoutMs: 1_000 };

/** A metadata source that counts its reads and names a new token endpoint on each one. */
function countingSource() {
  const reads: string[] = [];
  const read = (issuer: string): Promise<IssuerMetadata> => {
    reads.push(issuer);
    return Promise.resolve({ issuer, tokenEndpoint: `${issuer}/token/${reads.length}` });
  };
  return { reads, read };
}

describe('the issuer metadata cache', () => {
  it('reads an issuer once within the lifetime, says what it served from memory, and reads again after it', async () => {
    let now = 0;
    const { reads, read } = countingSource();
    const cache = new IssuerMetadataCache(read, { now: () => now });
    const first = await cache.get('https://a.example', OPTIONS);
    assert.deepEqual(first, { metadata: { issuer: 'https://a.example', tokenEndpoint: 'https://a.example/token/1' }, cached: false });
    now = ISSUER_METADATA_TTL_MS - 1;
    assert.deepEqual(await cache.get('https://a.example', OPTIONS), { ...first, cached: true });
    now = ISSUER_METADATA_TTL_MS;
    assert.equal((await cache.get('https://a.example', OPTIONS)).metadata.tokenEndpoint, 'https://a.example/token/2');
    assert.equal(reads.length, 2);
  });

  it('fresh reads again and keeps what it read', async () => {
    const { read } = countingSource();
    const cache = new IssuerMetadataCache(read);
    await cache.get('https://a.example', OPTIONS);
    const reread = await cache.get('https://a.example', OPTIONS, { fresh: true });
    assert.deepEqual(reread, { metadata: { issuer: 'https://a.example', tokenEndpoint: 'https://a.example/token/2' }, cached: false });
    assert.equal((await cache.get('https://a.example', OPTIONS)).metadata.tokenEndpoint, 'https://a.example/token/2');
  });

  it('keeps no failed read, and a failed fresh read leaves the kept metadata in place', async () => {
    let fail = true;
    const { reads, read } = countingSource();
    const cache = new IssuerMetadataCache((issuer) => (fail ? Promise.reject(new Error('unreachable')) : read(issuer)));
    await assert.rejects(cache.get('https://a.example', OPTIONS), /unreachable/);
    fail = false;
    assert.equal((await cache.get('https://a.example', OPTIONS)).cached, false);
    fail = true;
    await assert.rejects(cache.get('https://a.example', OPTIONS, { fresh: true }), /unreachable/);
    assert.deepEqual(await cache.get('https://a.example', OPTIONS), { metadata: { issuer: 'https://a.example', tokenEndpoint: 'https://a.example/token/1' }, cached: true });
    assert.equal(reads.length, 1);
  });

  it('holds at most its bound, dropping the issuer read longest ago, whatever the order of the reads', async () => {
    const maxEntries = 5;
    const issuers = fc.array(fc.integer({ min: 0, max: 9 }).map((n) => `https://issuer-${n}.example`), { minLength: 1, maxLength: 40 });
    await assertAsyncProperty(
      fc.asyncProperty(issuers, async (sequence) => {
        const { reads, read } = countingSource();
        const cache = new IssuerMetadataCache(read, { maxEntries });
        // The model: the last `maxEntries` distinct issuers read, the most recent last.
        let kept: string[] = [];
        for (const issuer of sequence) {
          const wasKept = kept.includes(issuer);
          const before = reads.length;
          const known = await cache.get(issuer, OPTIONS);
          assert.equal(known.cached, wasKept, `${issuer} after ${JSON.stringify(kept)}`);
          assert.equal(reads.length, before + (wasKept ? 0 : 1));
          if (!wasKept) kept = [...kept, issuer].slice(-maxEntries);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('a failed token request that makes the worker read the metadata again', () => {
  const failure = (details: ConstructorParameters<typeof TokenRequestError>[0]) => new TokenRequestError(details);

  it('is no answer or a 404, never an answer the server meant', () => {
    assert.ok(endpointMayHaveMoved(failure({ kind: 'transport', code: 'connection_failed', retryable: true })));
    assert.ok(endpointMayHaveMoved(failure({ kind: 'transport', code: 'timeout', retryable: true })));
    assert.ok(endpointMayHaveMoved(failure({ kind: 'transport', code: 'unexpected_status', retryable: false, status: 404 })));
    assert.ok(!endpointMayHaveMoved(failure({ kind: 'transport', code: 'unexpected_status', retryable: true, status: 503 })));
    assert.ok(!endpointMayHaveMoved(failure({ kind: 'oauth', code: 'invalid_client', retryable: false, status: 401 })));
    assert.ok(!endpointMayHaveMoved(failure({ kind: 'response', code: 'invalid_token_response', retryable: false })));
  });
});
