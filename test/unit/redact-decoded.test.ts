import assert from 'node:assert/strict';
import { decode, encode } from '@temporalio/common/lib/encoding';
import fc from 'fast-check';
import { redactDecodedPayloads } from '../../src/codec/redact-decoded';
import { assertProperty } from '../support/generated-cases';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Redacted as the Web UI would receive it: through a json/plain payload. */
function redacted(value: Json): string {
  const [payload] = redactDecodedPayloads([{ metadata: { encoding: encode('json/plain') }, data: encode(JSON.stringify(value)) }]);
  return decode(payload?.data ?? new Uint8Array());
}

const SECRET_KEY = /secret|token|passw|passphrase|assertion|apikey|api_key|authorization|cookie|credential|private|header|^auth$|^pwd$|^pass$|^kty$/;
const SCHEME_WORD = /^(bearer|basic|dpop|negotiate|ntlm)$/;

/** Lower-case words and spaces: nothing in them looks like a credential. */
const word = fc.stringMatching(/^[a-z]{1,12}$/).filter((text) => !SECRET_KEY.test(text) && !SCHEME_WORD.test(text));
const benignText = fc.array(word, { maxLength: 6 }).map((words) => words.join(' '));
const benignKey = word;
const benignLeaf: fc.Arbitrary<Json> = fc.oneof(benignText, fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.constant(null));
const { tree: benignTree } = fc.letrec<{ tree: Json }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    benignLeaf,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(benignKey, tie('tree'), { maxKeys: 3, noNullPrototype: true }),
  ),
}));

/** Uniformly random bytes: fast-check's bias towards small values would make "AAAA…", which is no random token. */
const bytes = (min: number, max: number) => fc.noBias(fc.uint8Array({ minLength: min, maxLength: max })).map((array) => Buffer.from(array));
/** What a generated token or key looks like: random bytes of at least 128 bits, in base64url or hex. */
const strongSecret = fc.oneof(bytes(24, 48).map((buffer) => buffer.toString('base64url')), bytes(16, 32).map((buffer) => buffer.toString('hex')));
/** Any credential, however weak: found only by where it sits. The capital Z keeps it apart from the lower-case filler. */
const weakSecret = fc.stringMatching(/^[A-Za-z0-9._~+/-]{6,30}$/).map((text) => `Z${text}`);
const secretKeyName = fc
  .constantFrom('clientSecret', 'client_secret', 'accessToken', 'refresh_token', 'X-Api-Key', 'apiKey', 'password', 'Authorization', 'cookie', 'privateJwk', 'clientAssertion', 'myServiceToken', 'db_password', 'credentials', 'auth')
  .chain((name) => fc.constantFrom(name, name.toUpperCase(), name.toLowerCase()));
const headerName = fc.oneof(fc.constantFrom('x-api-key', 'X-Auth-Token', 'authorization', 'Cookie', 'x-custom'), word.map((text) => `x-${text}`));
const separator = fc.constantFrom(' ', ': ', '?', '&', '(', ')', "'", ', ', '/', '\n', '"');
const jwt = fc
  .tuple(bytes(8, 30), bytes(8, 60), bytes(16, 64))
  .map(([header, body, signature]) => `eyJ${header.toString('base64url')}.${body.toString('base64url')}.${signature.toString('base64url')}`);
const pem = bytes(48, 200).map((body) => `-----BEGIN EC PRIVATE KEY-----\n${body.toString('base64')}\n-----END EC PRIVATE KEY-----`);

interface Planted {
  value: Json;
  secrets: string[];
}

/** A secret where a payload might carry one: under a credential's name, in a header, inside a longer string, or as a key. */
const planted: fc.Arbitrary<Planted> = fc.oneof(
  fc.tuple(secretKeyName, weakSecret, benignTree).map(([name, secret, filler]): Planted => ({ value: { [name]: secret, other: filler }, secrets: [secret] })),
  fc.tuple(secretKeyName, weakSecret).map(([name, secret]): Planted => ({ value: { [name]: { value: secret, list: [secret] } }, secrets: [secret] })),
  fc.tuple(headerName, weakSecret).map(([name, secret]): Planted => ({ value: { headers: { [name]: secret, 'content-type': 'application/json' } }, secrets: [secret] })),
  fc.tuple(headerName, weakSecret).map(([name, secret]): Planted => ({ value: { responseHeaders: [[name, secret]] }, secrets: [secret] })),
  fc.tuple(headerName, weakSecret).map(([name, secret]): Planted => ({ value: { rawHeaders: [name, secret] }, secrets: [secret] })),
  fc
    .tuple(benignText, separator, fc.constantFrom('Bearer ', 'basic ', 'DPoP '), weakSecret, separator, benignText)
    .map(([before, left, scheme, secret, right, after]): Planted => ({ value: `${before}${left}${scheme}${secret}${right}${after}`, secrets: [secret] })),
  fc
    .tuple(benignText, separator, fc.constantFrom('access_token=', 'client_secret=', 'api_key=', 'password: ', '"refreshToken":"'), weakSecret, separator, benignText)
    .map(([before, left, name, secret, right, after]): Planted => ({ value: `${before}${left}${name}${secret}${right}${after}`, secrets: [secret] })),
  fc
    .tuple(benignText, separator, fc.oneof(strongSecret, jwt, pem), separator, benignText)
    .map(([before, left, secret, right, after]): Planted => ({ value: `${before}${left}${secret}${right}${after}`, secrets: [secret] })),
  fc.tuple(strongSecret, benignTree).map(([secret, filler]): Planted => ({ value: { [secret]: filler }, secrets: [secret] })),
  fc.tuple(weakSecret).map(([secret]): Planted => ({ value: { [`Bearer ${secret}`]: 1 }, secrets: [secret] })),
  fc.tuple(secretKeyName, weakSecret).map(([name, secret]): Planted => ({ value: JSON.stringify({ [name]: secret }), secrets: [secret] })),
);

/** Planted secrets at random depths of a benign tree, in objects and arrays. */
const payloadWithSecrets: fc.Arbitrary<Planted> = fc
  .array(fc.tuple(planted, fc.dictionary(benignKey, benignTree, { maxKeys: 2, noNullPrototype: true }), fc.boolean()), { minLength: 1, maxLength: 4 })
  .map((levels) =>
    levels.reduceRight<Planted>(
      (inner, [here, siblings, inArray]) => {
        const level: Json = { ...siblings, here: here.value, deeper: inArray ? [inner.value] : inner.value };
        return { value: level, secrets: [...here.secrets, ...inner.secrets] };
      },
      { value: null, secrets: [] },
    ),
  );

describe('redaction of decoded payloads is safe by default', () => {
  it('catches what a list of known keys missed: x-api-key, tokens inside longer strings, credentials in query strings, tokens as keys', () => {
    const token = 'Q2hlY2tpbmcgdGhlIHJlZGFjdGlvbiBvZiB0b2tlbnM';
    const output = redacted({
      request: { url: `https://api.example.com/v1/orders?access_token=${token}&page=2`, headers: { 'x-api-key': 'k-123', accept: 'application/json' } },
      error: `request failed: sent Authorization: Bearer ${token} and got 401`,
      note: `the token ${token} was revoked`,
      usage: { [token]: { calls: 3 } },
      digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.deepEqual(JSON.parse(output), {
      request: { url: 'https://api.example.com/v1/orders?access_token=[REDACTED]&page=2', headers: { 'x-api-key': '[REDACTED]', accept: 'application/json' } },
      error: 'request failed: sent Authorization: [REDACTED] [REDACTED] and got 401',
      note: 'the token [REDACTED] was revoked',
      usage: { '[REDACTED]': { calls: 3 } },
      digest: '[REDACTED]',
    });
  });

  it('keeps what describes a credential without holding one, and ordinary identifiers', () => {
    const shown = {
      accessTokenUrl: 'https://login.example.com/oauth2/token',
      token_type: 'Bearer',
      tokenSerial: 4,
      tokenExpiresAt: '2026-12-02T10:15:30.000Z',
      invalidTokenStatuses: [401],
      authMethod: 'client_secret_basic',
      workflowId: 'call-8f1e2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7',
      url: 'https://api.example.com/v1/Customers/12345/orders',
      name: 'test-client_secret_basic',
    };
    assert.deepEqual(JSON.parse(redacted(shown)), shown);
  });

  it('no generated secret survives, wherever it is nested: under a credential name, in any header, inside a string, as a key', () => {
    assertProperty(
      fc.property(payloadWithSecrets, ({ value, secrets }) => {
        const output = redacted(value);
        for (const secret of secrets) assert.ok(!output.includes(secret), `${JSON.stringify(secret)} survived in ${output}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves any payload without credentials as it was', () => {
    assertProperty(
      fc.property(benignTree, (value) => {
        assert.equal(JSON.stringify(JSON.parse(redacted(value))), JSON.stringify(value));
      }),
      { numRuns: 2000 },
    );
  });
});
