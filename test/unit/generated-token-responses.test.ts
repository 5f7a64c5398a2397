import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TokenRequestError } from '../../src';
import { OTHER_OAUTH_ERROR, TOKEN_FAILURE_TYPES, tokenFailureType } from '../../src/contract/failures';
import { OAUTH_ERROR_CODES } from '../../src/oauth/errors';
import { MAX_EXPIRES_IN_SECONDS, MAX_TOKEN_RESPONSE_BYTES, tokenFromResponse, type AccessToken, type TokenExchange } from '../../src/oauth/token-request';
import { assertAsyncProperty } from '../support/generated-cases';

const SECRET = 'client-secret-that-an-answer-may-echo-0123456789';
const BASIC = Buffer.from(`client:${SECRET}`).toString('base64');

function exchange(): TokenExchange {
  return {
    server: { issuer: 'https://login.example.com', token_endpoint: 'https://login.example.com/token' },
    client: { client_id: 'client' },
    sensitiveValues: [SECRET, BASIC],
  };
}

/** Text a hostile or broken server might put anywhere: the secret it was sent, control characters, long runs. */
const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(SECRET, `echo ${SECRET} back`, BASIC, '', ' ', 'null', '\u0000\u001b[31m'),
  fc.nat({ max: 3_000 }).map((length) => 'x'.repeat(length)),
);

/** A field's value: a plausible one, one of the wrong type, or none at all. */
function field<T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 3 }), fc.object({ maxDepth: 1 })) },
    { weight: 2, arbitrary: fc.constant(undefined) },
  );
}

const expiresIn = fc.oneof(
  fc.integer({ min: -10, max: 10 ** 6 }),
  fc.double(),
  fc.constantFrom(0, 1e308, 2 ** 53, 2_147_483_647, 3600.5),
  fc.constantFrom('120', ' 60 ', '3600.0', 'soon', '120abc', '-5', '1e3', `1${'0'.repeat(400)}`, ''),
);

const tokenBody = fc.record(
  {
    access_token: field(fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constant(''))),
    token_type: field(fc.constantFrom('bearer', 'Bearer', 'BEARER', 'mac', 'DPoP', 'N_A', '')),
    expires_in: field(expiresIn),
    scope: field(fc.oneof(fc.string({ maxLength: 30 }), fc.constant('api:read records:read'))),
    refresh_token: field(fc.string({ maxLength: 20 })),
    id_token: field(fc.constantFrom('not-a-jwt', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')),
    error: field(fc.oneof(fc.constantFrom(...OAUTH_ERROR_CODES), oddText)),
    error_description: field(oddText),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  { weight: 6, arbitrary: tokenBody.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: oddText },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constant(' '.repeat(MAX_TOKEN_RESPONSE_BYTES + 1)) },
  { weight: 1, arbitrary: tokenBody.map((value) => `${JSON.stringify(value)}${' '.repeat(MAX_TOKEN_RESPONSE_BYTES)}`) },
);

const headers = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/html', 'text/plain', 'application/x-www-form-urlencoded'),
    'content-length': fc.constantFrom('0', '12', String(MAX_TOKEN_RESPONSE_BYTES + 1), 'abc', '-1'),
    'retry-after': fc.oneof(fc.nat({ max: 10 ** 9 }).map(String), fc.constantFrom('Wed, 21 Oct 2015 07:28:00 GMT', 'soon', '-3', '')),
    'www-authenticate': fc.oneof(
      fc.constantFrom('Bearer error="invalid_client"', 'Basic realm="x"', 'Bearer error="x", error_description="' + SECRET + '"', 'Bearer, , ,', '"'),
      oddText.filter((text) => /^[\x20-\x7e]*$/.test(text)),
    ),
    'cache-control': fc.constantFrom('no-store', 'max-age=60'),
  },
  { requiredKeys: [] },
);

const status = fc.oneof(
  { weight: 4, arbitrary: fc.constant(200) },
  { weight: 3, arbitrary: fc.constantFrom(400, 401, 403, 429, 500, 502, 503) },
  { weight: 2, arbitrary: fc.integer({ min: 200, max: 599 }) },
);

/** Statuses whose responses cannot carry a body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES = [204, 205, 304];

function received(statusCode: number, headerValues: Record<string, string>, content: string | Buffer): Response {
  return new Response(NULL_BODY_STATUSES.includes(statusCode) ? null : content, { status: statusCode, headers: headerValues });
}

function assertUsable(token: AccessToken): void {
  assert.equal(typeof token.accessToken, 'string');
  assert.ok(token.accessToken.length > 0, 'empty access token');
  assert.equal(token.tokenType, 'bearer');
  assert.ok(Number.isFinite(token.expiresInSeconds) && token.expiresInSeconds > 0, `expiresInSeconds ${token.expiresInSeconds}`);
  assert.ok(token.expiresInSeconds <= MAX_EXPIRES_IN_SECONDS, `expiresInSeconds ${token.expiresInSeconds}`);
  assert.ok(token.grantedScope === undefined || typeof token.grantedScope === 'string');
}

function assertTyped(error: unknown): asserts error is TokenRequestError {
  assert.ok(error instanceof TokenRequestError, `expected TokenRequestError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  assert.ok(!error.message.includes(SECRET) && !error.message.includes(BASIC), `the error quotes the secret: ${error.message}`);
  assert.ok(error.message.length <= 1_200, `the error is ${error.message.length} characters long`);
  const type = tokenFailureType(error.toDetails());
  assert.ok((TOKEN_FAILURE_TYPES as readonly string[]).includes(type), `failure type ${type}`);
  if (error.kind === 'oauth' && !(OAUTH_ERROR_CODES as readonly string[]).includes(error.code)) assert.equal(type, OTHER_OAUTH_ERROR);
}

describe('generated token responses give a token or a typed token error', () => {
  it('any status, headers and body: a usable token, or a TokenRequestError that quotes no secret and has a fixed failure type', async () => {
    const seen = new Map<string, number>();
    const count = (outcome: string) => seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    await assertAsyncProperty(
      fc.asyncProperty(status, headers, body, async (statusCode, headerValues, content) => {
        const outcome = await tokenFromResponse(received(statusCode, headerValues, content), exchange()).then(
          (token) => ({ token }),
          (error: unknown) => ({ error }),
        );
        if ('token' in outcome) {
          assertUsable(outcome.token);
          assert.equal(statusCode, 200, 'a token from a status other than 200');
          count('token');
        } else {
          assertTyped(outcome.error);
          count(outcome.error.code === 'response_too_large' ? outcome.error.code : outcome.error.kind);
        }
      }),
      { numRuns: 5_000 },
    );
    // The generators reach every outcome, so the property above is not passing on one kind of answer only.
    for (const outcome of ['token', 'oauth', 'transport', 'response', 'response_too_large']) assert.ok((seen.get(outcome) ?? 0) > 0, `no ${outcome} among ${JSON.stringify([...seen])}`);
  });

  it('an OAuth error outside RFC 6749 keeps its text in the details, and its failure type is other_oauth_error', async () => {
    await assertAsyncProperty(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }).filter((code) => !(OAUTH_ERROR_CODES as readonly string[]).includes(code)), async (code) => {
        const error = await tokenFromResponse(received(400, { 'content-type': 'application/json' }, JSON.stringify({ error: code })), exchange()).then(
          () => assert.fail('an error body gave a token'),
          (failure: unknown) => failure,
        );
        assertTyped(error);
        assert.equal(tokenFailureType(error.toDetails()), OTHER_OAUTH_ERROR);
        assert.equal(error.toDetails().code, code);
      }),
      { numRuns: 1_000 },
    );
  });

  it(`takes a lifetime beyond ${MAX_EXPIRES_IN_SECONDS} s as ${MAX_EXPIRES_IN_SECONDS} s, so that no date or timer built from it overflows`, async () => {
    for (const expires of [MAX_EXPIRES_IN_SECONDS + 1, 2 ** 53, 1e308, '99999999999999999999']) {
      const token = await tokenFromResponse(
        received(200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: 'a-token', token_type: 'bearer', expires_in: expires })),
        exchange(),
      );
      assert.equal(token.expiresInSeconds, MAX_EXPIRES_IN_SECONDS);
    }
  });
});
