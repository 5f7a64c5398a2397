import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { WebServiceCallFailure, type WebServiceCallInput } from '../../src';
import { DEFAULT_RESPONSE_HEADERS, keptResponseHeaders } from '../../src/activities/kept-response-headers';
import { isTokenRejection, resultOf, type ApiResponse, type ResponseContext } from '../../src/activities/response-outcome';
import { parseWebServiceCallInput } from '../../src/activities/web-service-call-input';
import { MAX_RESULT_JSON_BYTES, MAX_RETRY_AFTER_MS } from '../../src/contract/web-service-call-limits';
import { assertProperty } from '../support/generated-cases';

const TOKEN = 'access-token-that-must-never-show-0123456789';
const CONTEXT: ResponseContext = { method: 'GET', url: new URL('https://api.example.com/orders?customer=42'), accessToken: TOKEN };
const FAILURE_TYPES = new Set<string>(Object.values(WebServiceCallFailure));
const DEFAULT_KEPT = keptResponseHeaders(undefined);

function response(status: number, headers: Record<string, string>, body: string | Buffer): ApiResponse {
  return { status, headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

/** The failure `resultOf` ends with; fails the test if it returns a result or throws anything untyped. */
function failureOf(answer: ApiResponse): ApplicationFailure {
  try {
    resultOf(answer, CONTEXT, DEFAULT_KEPT);
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `an untyped ${String(error)}`);
    return error;
  }
  assert.fail(`HTTP ${answer.status} gave a result`);
}

const contentTypes = fc.oneof(
  fc.constantFrom('application/json', 'application/problem+json', 'text/html', 'text/plain; charset=utf-8', 'application/xml', 'image/png', 'application/octet-stream', 'APPLICATION/JSON'),
  fc.string({ maxLength: 40 }),
);

/** Bodies of every kind an API sends: none, bytes, JSON, JSON lookalikes, the token itself, deep nesting, and now and then one near or past the payload limit. */
const bodies: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 4, arbitrary: fc.json().map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.constantFrom('<html>503</html>', `{"echo":"${TOKEN}"}`, TOKEN, '{"cut off', '').map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))) },
  {
    weight: 1,
    arbitrary: fc
      .record({ byte: fc.constantFrom(0x01, 0x22, 0x41, 0xff), length: fc.integer({ min: MAX_RESULT_JSON_BYTES / 8, max: MAX_RESULT_JSON_BYTES + 1_000 }) })
      .map(({ byte, length }) => Buffer.alloc(length, byte)),
  },
);

const retryAfters = fc.oneof(
  fc.nat({ max: 7_200 }).map(String),
  fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()),
  fc.string({ maxLength: 20 }),
);

const responses: fc.Arbitrary<ApiResponse> = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc
    .record(
      {
        'content-type': contentTypes,
        'retry-after': retryAfters,
        'www-authenticate': fc.constantFrom('Bearer', 'Bearer error="invalid_token"', 'Bearer error="insufficient_scope"', 'Basic realm="x"'),
        location: fc.webUrl(),
        'x-other': fc.string({ maxLength: 30 }),
      },
      { requiredKeys: [] },
    )
    .map((headers) => Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined))),
  body: bodies,
});

describe('webServiceCall: from a response to the call\'s outcome (pure)', () => {
  it('any response gives a result that fits a Temporal payload or a typed failure of WebServiceCallFailure; never an untyped error, never the token', () => {
    assertProperty(
      fc.property(responses, (answer) => {
        let result;
        try {
          result = resultOf(answer, CONTEXT, DEFAULT_KEPT);
        } catch (error) {
          assert.ok(error instanceof ApplicationFailure, `an untyped ${String(error)}`);
          assert.ok(FAILURE_TYPES.has(error.type ?? ''), `type ${error.type}`);
          assert.ok(!JSON.stringify([error.message, error.details]).includes(TOKEN), 'the token is in the failure');
          // Status first: an error status fails as its status says, whatever its body.
          if (answer.status >= 400) {
            assert.ok([WebServiceCallFailure.HttpClientError, WebServiceCallFailure.HttpRetryableStatus, WebServiceCallFailure.RetryAfterTooLong].includes(error.type as never), String(error.type));
            const transient = answer.status >= 500 || answer.status === 408 || answer.status === 429;
            assert.equal(error.type === WebServiceCallFailure.HttpClientError, !transient);
          } else {
            assert.ok([WebServiceCallFailure.InvalidResponseBody, WebServiceCallFailure.ResponseTooLarge].includes(error.type as never), String(error.type));
          }
          assert.equal(error.nonRetryable, error.type !== WebServiceCallFailure.HttpRetryableStatus);
          return;
        }
        assert.ok(answer.status < 400);
        assert.equal(result.status, answer.status);
        assert.ok(Buffer.byteLength(JSON.stringify(result)) <= MAX_RESULT_JSON_BYTES);
      }),
      { numRuns: 3_000 },
    );
  });

  it('a 503 or a 401 whose HTML body is labelled JSON keeps its status\'s meaning: retried, or the token replaced', () => {
    const html = '<html><body>Service Unavailable</body></html>';
    const failure = failureOf(response(503, { 'content-type': 'application/json' }, html));
    assert.equal(failure.type, WebServiceCallFailure.HttpRetryableStatus);
    assert.equal(failure.nonRetryable, false);
    assert.deepEqual(failure.details, [{ status: 503, body: html }]);

    const rejection = response(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }, html);
    assert.equal(isTokenRejection(rejection, []), true);
    assert.equal(failureOf(response(200, { 'content-type': 'application/json' }, html)).type, WebServiceCallFailure.InvalidResponseBody);
  });

  it('Retry-After up to the cap is Temporal\'s next retry delay; a longer one fails without retry, saying how long it asked', () => {
    const honoured = failureOf(response(429, { 'retry-after': String(MAX_RETRY_AFTER_MS / 1000) }, ''));
    assert.equal(honoured.type, WebServiceCallFailure.HttpRetryableStatus);
    assert.equal(honoured.nextRetryDelay, MAX_RETRY_AFTER_MS);

    const tooLong = failureOf(response(503, { 'retry-after': String(MAX_RETRY_AFTER_MS / 1000 + 1), 'content-type': 'text/plain' }, 'later'));
    assert.equal(tooLong.type, WebServiceCallFailure.RetryAfterTooLong);
    assert.equal(tooLong.nonRetryable, true);
    assert.deepEqual(tooLong.details, [{ status: 503, body: 'later', retryAfterMs: MAX_RETRY_AFTER_MS + 1000 }]);
  });

  it('a body within maxResponseBytes that JSON escaping grows past the payload limit fails with ResponseTooLarge; the same bytes as base64 or plain text fit', () => {
    const quotes = Buffer.alloc(MAX_RESULT_JSON_BYTES / 2 + 1, '"');
    const failure = failureOf(response(200, { 'content-type': 'text/plain' }, quotes));
    assert.equal(failure.type, WebServiceCallFailure.ResponseTooLarge);
    assert.match(failure.message, /Temporal payload/);
    assert.equal(resultOf(response(200, { 'content-type': 'text/plain' }, Buffer.alloc(quotes.length, 'a')), CONTEXT, DEFAULT_KEPT).bodyType, 'text');
    assert.equal(resultOf(response(200, { 'content-type': 'image/png' }, Buffer.alloc(1024 * 1024, 0xff)), CONTEXT, DEFAULT_KEPT).bodyType, 'base64');
  });

  it('JSON nested too deeply to be written again fails with InvalidResponseBody, not a stack overflow', () => {
    const depth = 1_000_000;
    const failure = failureOf(response(200, { 'content-type': 'application/json' }, '['.repeat(depth) + ']'.repeat(depth)));
    assert.equal(failure.type, WebServiceCallFailure.InvalidResponseBody);
  });

  it('a result keeps the default response headers and those the call names (any case), not Set-Cookie or the rest; \'*\' keeps every one', () => {
    const answer = response(
      200,
      { 'content-type': 'text/plain', etag: '"v1"', link: '<https://api.example.com/orders?page=2>; rel="next"', 'set-cookie': 'session=s3cret', 'x-trace-id': 't-1', server: 'api/1.0' },
      'fine',
    );
    const keptBy = (responseHeaders?: WebServiceCallInput['responseHeaders']) =>
      resultOf(answer, CONTEXT, parseWebServiceCallInput({ server: 'crm', url: CONTEXT.url.href, ...(responseHeaders ? { responseHeaders } : {}) }).responseHeaders).headers;
    assert.deepEqual(keptBy(), { 'content-type': 'text/plain', etag: '"v1"', link: answer.headers.link });
    assert.deepEqual(keptBy(['X-Trace-ID']), { 'content-type': 'text/plain', etag: '"v1"', link: answer.headers.link, 'x-trace-id': 't-1' });
    assert.deepEqual(keptBy('*'), answer.headers);
  });

  it('whatever headers come and whatever names the call adds, the result holds exactly the answered ones among the default and named', () => {
    const names = fc.oneof(fc.constantFrom(...DEFAULT_RESPONSE_HEADERS, 'set-cookie', 'x-trace-id', 'server', 'constructor', 'tostring'), fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/));
    assertProperty(
      fc.property(fc.dictionary(names, fc.string({ maxLength: 20 }), { maxKeys: 12 }), fc.array(names.map((name) => (name.length % 2 ? name.toUpperCase() : name)), { maxLength: 5 }), (headers, named) => {
        const wanted = new Set([...DEFAULT_RESPONSE_HEADERS, ...named.map((name) => name.toLowerCase())]);
        const kept = resultOf(response(204, headers, ''), CONTEXT, keptResponseHeaders(named)).headers;
        assert.deepEqual(kept, Object.fromEntries(Object.entries(headers).filter(([name]) => wanted.has(name))));
      }),
      { numRuns: 500 },
    );
  });
});
