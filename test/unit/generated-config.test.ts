import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AUTH_METHODS, ConfigValidationError, parseOAuthServerConfig } from '../../src';
import { assertProperty } from '../support/generated-cases';

const SECRET = 'generated-secret-marker-7c1f0e';

const CONTROL = fc.constantFrom('\u0000', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b');
const visible = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength, maxLength });
const anyText = fc.string({ unit: 'binary', maxLength: 30 });
/** A value of the wrong type for a text, number, boolean or list field. */
const wrongType = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
const withControl = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, CONTROL, text).map(([before, control, after]) => `${before}${control}${after}`);
const host = fc.constantFrom('login.example.com', 'api.example.com', 'xn--bcher-kva.example', '[2001:db8::1]', '10.0.0.7');
const loopback = fc.constantFrom('127.0.0.1', 'localhost', '[::1]', '127.8.9.10');
const port = fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }).map((value) => (value === undefined ? '' : `:${value}`));
const path = fc.array(visible(1, 8).map((segment) => encodeURIComponent(segment)), { maxLength: 3 }).map((segments) => `/${segments.join('/')}`);
const secureUrl = fc.oneof(
  fc.tuple(host, port, path).map(([name, p, rest]) => `https://${name}${p}${rest}`),
  fc.tuple(loopback, port, path).map(([name, p, rest]) => `http://${name}${p}${rest}`),
);
const origin = fc.oneof(
  fc.tuple(host, port).map(([name, p]) => `https://${name}${p}`),
  fc.tuple(loopback, port).map(([name, p]) => `http://${name}${p}`),
);
const parameter = fc.record({ name: visible(1, 20).filter((name) => !/^(grant_type|client_id|client_secret|scope|client_assertion.*)$/i.test(name)), value: visible(0, 30) });
const scopeToken = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz:._-/0123456789'.split('')), minLength: 1, maxLength: 12 });

/** Where tokens come from: a token URL, an issuer whose metadata names the token endpoint, or both (the issuer is then the assertion audience). */
const endpoints: fc.Arbitrary<{ accessTokenUrl?: string; issuer?: string }> = fc.oneof(
  secureUrl.map((accessTokenUrl) => ({ accessTokenUrl })),
  secureUrl.map((issuer) => ({ issuer })),
  fc.record({ accessTokenUrl: secureUrl, issuer: secureUrl }),
);

/** A configuration every rule accepts: what a careful admin writes. */
const validConfig = fc.tuple(fc.record(
  {
    name: visible(1, 50),
    category: visible(1, 100),
    authMethod: fc.constantFrom(...AUTH_METHODS.filter((method) => method !== 'private_key_jwt')),
    clientId: visible(1, 255),
    clientSecret: fc.oneof(
      visible(0, 40).map((value) => ({ source: 'local', value: `${SECRET}${value}` })),
      fc.tuple(fc.constantFrom('env', 'file', 'vault'), visible(1, 40)).map(([scheme, ref]) => ({ source: 'external', ref: `${scheme}:${ref}` })),
    ),
    scope: fc.array(scopeToken, { maxLength: 5 }).map((tokens) => tokens.join(' ')),
    includeScope: fc.boolean(),
    maxRetryAttempts: fc.integer({ min: 1, max: 20 }),
    maxWait: fc.oneof(fc.integer({ min: 1_000, max: 900_000 }), fc.constantFrom('PT1S', 'PT1M', 'PT2M30S', 'PT15M')),
    queryParams: fc.array(parameter, { maxLength: 5 }),
    postParams: fc.array(parameter, { maxLength: 5 }),
    allowedOrigins: fc.array(origin, { maxLength: 5 }),
    invalidTokenStatuses: fc.array(fc.integer({ min: 400, max: 499 }), { maxLength: 10 }),
  },
  { requiredKeys: ['name', 'clientId', 'clientSecret'] },
), endpoints).map(([config, endpoint]) => ({ ...config, ...endpoint }));

type Mutation = [field: string, value: fc.Arbitrary<unknown>];
/** For each field, values no rule can accept: wrong types, lengths, control characters, URLs, parameters, references. */
const broken: Mutation[] = [
  ['name', fc.oneof(wrongType, fc.constant(''), fc.constant('   '), visible(51, 80), withControl(visible(0, 10)), visible(1, 10).map((name) => ` ${name}`))],
  ['category', fc.oneof(wrongType, visible(101, 150), withControl(visible(0, 10)))],
  ['grantType', fc.oneof(wrongType, fc.constantFrom('authorization_code', 'password', 'CLIENT_CREDENTIALS', ''))],
  ['authMethod', fc.oneof(wrongType, anyText.filter((text) => !(AUTH_METHODS as readonly string[]).includes(text)))],
  ['clientId', fc.oneof(wrongType, fc.constant(''), visible(256, 300), fc.tuple(visible(1, 5), visible(1, 5)).map(([a, b]) => `${a} ${b}`), withControl(visible(0, 5)), fc.constant('clïent'))],
  [
    'clientSecret',
    fc.oneof(
      wrongType,
      fc.constant(SECRET),
      fc.constant({ source: 'local', value: '' }),
      fc.constant({ source: 'local', value: SECRET, extra: SECRET }),
      fc.constant({ source: 'vault', value: SECRET }),
      fc.constant({ source: 'local', value: SECRET.repeat(600) }),
      fc.oneof(fc.constant('no-scheme'), fc.constant('env:'), fc.constant('env: spaced'), fc.constant('1env:X'), visible(1001, 1100).map((ref) => `env:${ref}`)).map((ref) => ({ source: 'external', ref })),
      fc.constant({ source: 'external', ref: 'env:X', value: SECRET }),
    ),
  ],
  [
    'accessTokenUrl',
    fc.oneof(
      wrongType,
      fc.constantFrom('not a url', '', '/token', 'ftp://login.example.com/token', 'http://login.example.com/token', 'https://login.example.com/token#fragment', 'javascript:alert(1)'),
      host.map((name) => `http://${name}/token`),
    ),
  ],
  ['issuer', fc.oneof(wrongType, fc.constantFrom('issuer', 'http://login.example.com', 'https://login.example.com/?tenant=a', 'https://login.example.com#x', 'file:///etc/passwd'))],
  ['scope', fc.oneof(wrongType, fc.constantFrom('bad"quote', 'back\\slash', 'tab\tinside'), visible(4_001, 4_100))],
  ['includeScope', fc.oneof(fc.integer(), fc.constantFrom('true', 'yes', null))],
  ['maxRetryAttempts', fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 21 }), fc.double({ min: 1.01, max: 19.99, noInteger: true }), fc.constantFrom('3', null, Number.NaN))],
  ['maxWait', fc.oneof(fc.integer({ min: -1_000, max: 999 }), fc.integer({ min: 900_001 }), fc.constantFrom('PT0.5S', 'PT16M', 'P1D', 'one minute', '', true, null, Number.POSITIVE_INFINITY))],
  [
    'queryParams',
    fc.oneof(
      wrongType.filter((value) => !Array.isArray(value)),
      fc.array(parameter, { minLength: 51, maxLength: 55 }),
      fc.constantFrom('client_id', 'CLIENT_SECRET', 'Grant_Type', 'scope', 'client_assertion_type', '').map((name) => [{ name, value: 'x' }]),
      withControl(visible(0, 5)).map((value) => [{ name: 'audience', value }]),
      fc.constant([{ name: 'audience', value: 'v'.repeat(4_001) }]),
      fc.constant([{ name: 'audience', value: 'x', extra: 1 }]),
      fc.constant([{ name: 'audience' }]),
    ),
  ],
  ['postParams', fc.oneof(fc.constant('audience=x'), fc.constantFrom('client_secret', 'Client_Assertion').map((name) => [{ name, value: SECRET }]), withControl(visible(1, 5)).map((name) => [{ name, value: 'x' }]))],
  [
    'allowedOrigins',
    fc.oneof(
      wrongType.filter((value) => !Array.isArray(value)),
      fc.constantFrom('https://api.example.com/v1', 'http://api.example.com', 'nope', 'https://api.example.com/', 'https://user:pw@api.example.com', 'https://api.example.com?x=1').map((value) => [value]),
      fc.array(origin, { minLength: 51, maxLength: 55 }),
      fc.constant([42]),
    ),
  ],
  ['invalidTokenStatuses', fc.oneof(fc.constant('401'), fc.array(fc.oneof(fc.integer({ max: 399 }), fc.integer({ min: 500 }), fc.constant(401.5)), { minLength: 1, maxLength: 3 }), fc.array(fc.constant(403), { minLength: 11, maxLength: 12 }))],
];

/** One to three fields of a valid configuration replaced by values no rule accepts, or a field no schema knows. */
const brokenConfig = fc
  .tuple(
    validConfig,
    fc.uniqueArray(fc.integer({ min: 0, max: broken.length }), { minLength: 1, maxLength: 3 }).chain((indexes) =>
      fc.tuple(...indexes.map((index): fc.Arbitrary<[string, unknown]> => (index === broken.length ? fc.constant(['(configuration)', 'unknown field']) : fc.tuple(fc.constant(broken[index]![0]), broken[index]![1])))),
    ),
  )
  .map(([config, mutations]) => {
    const result: Record<string, unknown> = { ...config };
    for (const [field, value] of mutations) {
      if (field === '(configuration)') result[`unknown_${String(value).length}`] = value;
      else result[field] = value;
    }
    return { config: result, fields: mutations.map(([field]) => field) };
  });

function parseOutcome(input: unknown): { parsed: true } | { parsed: false; error: ConfigValidationError } {
  try {
    parseOAuthServerConfig(input);
    return { parsed: true };
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    assert.ok(error.issues.length > 0, 'a rejection without issues');
    for (const issue of error.issues) assert.ok(issue.field.length > 0 && issue.message.length > 0, JSON.stringify(issue));
    assert.ok(!error.message.includes(SECRET), `the rejection echoes the secret: ${error.message}`);
    return { parsed: false, error };
  }
}

const names = (error: ConfigValidationError, field: string) =>
  error.issues.some((issue) => issue.field === field || issue.field.startsWith(`${field}.`));

describe('generated configurations give a configuration or a ConfigValidationError naming the field', () => {
  it('valid configurations parse', () => {
    assertProperty(
      fc.property(validConfig, (config) => {
        const outcome = parseOutcome(config);
        assert.ok(outcome.parsed, outcome.parsed ? '' : outcome.error.message);
        const parsed = parseOAuthServerConfig(config);
        assert.equal(parsed.accessTokenUrl, config.accessTokenUrl);
        assert.equal(parsed.issuer, config.issuer);
      }),
      { numRuns: 3_000 },
    );
  });

  it('configurations with one to three broken fields are refused, naming each of them, never echoing the secret', () => {
    assertProperty(
      fc.property(brokenConfig, ({ config, fields }) => {
        const outcome = parseOutcome(config);
        assert.ok(!outcome.parsed, `accepted although ${fields.join(', ')} are broken`);
        for (const field of fields) assert.ok(names(outcome.error, field), `${field} is not named in ${JSON.stringify(outcome.error.issues)}`);
      }),
      { numRuns: 6_000 },
    );
  });

  it('configurations with neither accessTokenUrl nor issuer are refused naming accessTokenUrl, and every other broken field', () => {
    const withoutEndpoint = fc.oneof(
      validConfig.map((config): { config: Record<string, unknown>; fields: string[] } => ({ config, fields: [] })),
      brokenConfig.filter(({ fields }) => !fields.includes('accessTokenUrl') && !fields.includes('issuer')),
    );
    assertProperty(
      fc.property(withoutEndpoint, ({ config, fields }) => {
        const { accessTokenUrl: _url, issuer: _issuer, ...rest } = config;
        const outcome = parseOutcome(rest);
        assert.ok(!outcome.parsed, 'accepted without accessTokenUrl or issuer');
        for (const field of [...fields, 'accessTokenUrl']) assert.ok(names(outcome.error, field), `${field} is not named in ${JSON.stringify(outcome.error.issues)}`);
      }),
      { numRuns: 2_000 },
    );
  });

  it('anything at all in any field: a configuration or a ConfigValidationError, nothing else', () => {
    const fields = ['name', 'category', 'grantType', 'authMethod', 'clientId', 'clientSecret', 'accessTokenUrl', 'issuer', 'scope', 'includeScope', 'maxRetryAttempts', 'maxWait', 'queryParams', 'postParams', 'allowedOrigins', 'invalidTokenStatuses'];
    assertProperty(
      fc.property(
        fc.oneof(fc.anything(), validConfig.chain((config) => fc.dictionary(fc.constantFrom(...fields), fc.anything(), { maxKeys: 4 }).map((noise) => ({ ...config, ...noise })))),
        (input) => {
          parseOutcome(input);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
