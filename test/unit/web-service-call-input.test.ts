import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { WebServiceCallFailure, type WebServiceCallInput } from '../../src';
import { parseWebServiceCallInput } from '../../src/activities/web-service-call-input';
import { DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES, MAX_TIMEOUT_MS, TEMPORAL_PAYLOAD_LIMIT_BYTES } from '../../src/contract/web-service-call-limits';
import { assertProperty } from '../support/generated-cases';

const VALID = { server: 'crm', url: 'https://api.example.com/orders?keep=yes' };

/** The issues of the InvalidWebServiceCallInput `input` fails with; fails the test on anything else. */
function issuesOf(input: unknown): string[] {
  try {
    parseWebServiceCallInput(input as WebServiceCallInput);
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `an untyped ${String(error)}`);
    assert.equal(error.type, WebServiceCallFailure.InvalidInput);
    assert.equal(error.nonRetryable, true);
    const issues = (error.details?.[0] as { issues: string[] }).issues;
    for (const issue of issues) assert.ok(error.message.includes(issue));
    return issues;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

const neitherTextNorNumber = fc.oneof(fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
const notText = fc.oneof(neitherTextNorNumber, fc.integer());
const notWholeNumber = fc.oneof(neitherTextNorNumber, fc.double({ noInteger: true }), fc.constant(Number.NaN), fc.string());

/** For each field, values it must refuse, and how its issue starts. */
const badFields: Array<[string, fc.Arbitrary<unknown>]> = [
  ['server', fc.oneof(notText, fc.constant(''), fc.string({ minLength: 51, maxLength: 80 }))],
  ['method', fc.oneof(notText, fc.string().filter((method) => !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)))],
  [
    'url',
    fc.oneof(
      notText,
      fc.string().filter((url) => !/^https?:/i.test(url.trim())),
      fc.webUrl().map((url) => url.replace(/^https?:/, 'ftp:')),
      fc.tuple(fc.webUrl(), fc.stringMatching(/^[a-z]{1,8}$/)).map(([url, user]) => url.replace('://', `://${user}:pw@`)),
    ),
  ],
  [
    'headers',
    fc.oneof(
      fc.constantFrom<unknown>('x: y', 42, [['x', 'y']]),
      fc.stringMatching(/^[a-z]{1,5}[ ():@]?[a-z]{0,5}$/).filter((name) => /[ ():@]/.test(name)).map((name) => ({ [name]: 'v' })),
      fc.string().map((value) => ({ 'x-note': `${value}\r\n` })),
      fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION').map((name) => ({ [name]: 'Bearer mine' })),
      fc.oneof(fc.integer(), fc.constant(null)).map((value) => ({ 'x-count': value })),
    ),
  ],
  ['query', fc.oneof(fc.constantFrom<unknown>('a=1', 7), fc.dictionary(fc.string({ minLength: 1 }), fc.dictionary(fc.string(), fc.string()), { minKeys: 1, maxKeys: 2 }))],
  ['body', fc.oneof(fc.string(), fc.integer(), fc.constant({ json: 1, form: {} }), fc.record({ form: fc.dictionary(fc.string(), fc.integer(), { minKeys: 1 }) }), fc.constant({ base64: 'not base64!' }))],
  ['timeoutMs', fc.oneof(notWholeNumber, fc.integer({ max: 0 }), fc.integer({ min: MAX_TIMEOUT_MS + 1 }))],
  ['maxResponseBytes', fc.oneof(notWholeNumber, fc.integer({ max: -1 }), fc.integer({ min: MAX_RESPONSE_BYTES + 1 }))],
  [
    'responseHeaders',
    fc.oneof(
      fc.constantFrom<unknown>('all', 'content-type', 42, null, { etag: true }, ['*']),
      fc.stringMatching(/^[a-z]{1,5}[ ():@\r\n]?[a-z]{0,5}$/).filter((name) => /[ ():@\r\n]/.test(name)).map((name) => ['etag', name]),
      fc.array(fc.constant('x-many'), { minLength: 101, maxLength: 120 }),
    ),
  ],
];

describe('webServiceCall input (pure)', () => {
  it('a bad value in any field fails with InvalidWebServiceCallInput naming that field', () => {
    assertProperty(
      fc.property(fc.oneof(...badFields.map(([field, values]) => values.map((value) => [field, value] as const))), ([field, value]) => {
        const issues = issuesOf({ ...VALID, [field]: value });
        // The URL's rules are this project's own: their issues say what a URL must be.
        const named = field === 'url' ? /^url: url must (be|not)/ : new RegExp(`^${field}`);
        assert.ok(
          issues.some((issue) => named.test(issue)),
          `${field}=${JSON.stringify(value)}: ${JSON.stringify(issues)}`,
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('an option nobody defined is refused by name, not ignored', () => {
    assertProperty(
      fc.property(fc.stringMatching(/^[a-zA-Z]{1,12}$/).filter((key) => !['server', 'method', 'url', 'headers', 'query', 'body', 'timeoutMs', 'maxResponseBytes', 'responseHeaders'].includes(key)), (key) => {
        const issues = issuesOf({ ...VALID, [key]: 1 });
        assert.ok(issues.some((issue) => issue.startsWith('(input)') && issue.includes(`"${key}"`)), JSON.stringify(issues));
      }),
      { numRuns: 500 },
    );
  });

  it('anything at all is either a call or InvalidWebServiceCallInput, never an untyped error', () => {
    assertProperty(
      fc.property(fc.oneof(fc.anything(), fc.record({ server: fc.anything(), url: fc.oneof(fc.webUrl(), fc.anything()), method: fc.anything(), body: fc.anything() }, { requiredKeys: [] })), (input) => {
        try {
          parseWebServiceCallInput(input as WebServiceCallInput);
        } catch (error) {
          assert.ok(error instanceof ApplicationFailure && error.type === WebServiceCallFailure.InvalidInput, String(error));
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('the URL is parsed once with the query appended; the default and largest size limits fit a Temporal payload', () => {
    const parsed = parseWebServiceCallInput({ ...VALID, query: { page: 2, tags: ['a', 'b c&d'], exact: true } });
    assert.equal(parsed.url.href, 'https://api.example.com/orders?keep=yes&page=2&tags=a&tags=b+c%26d&exact=true');
    assert.equal(parsed.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
    // Binary comes back as base64: four bytes for every three.
    assert.ok((DEFAULT_MAX_RESPONSE_BYTES * 4) / 3 < TEMPORAL_PAYLOAD_LIMIT_BYTES);
    assert.ok(MAX_RESPONSE_BYTES < TEMPORAL_PAYLOAD_LIMIT_BYTES);
    assert.equal(parseWebServiceCallInput({ ...VALID, maxResponseBytes: MAX_RESPONSE_BYTES }).maxResponseBytes, MAX_RESPONSE_BYTES);
  });
});
