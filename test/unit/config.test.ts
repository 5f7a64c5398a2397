import assert from 'node:assert/strict';
import { ConfigValidationError, parseOAuthServerConfig, type OAuthServerConfigInput } from '../../src';

const SECRET = 'a-client-secret-that-must-never-be-echoed';

const valid: OAuthServerConfigInput = {
  name: 'CRM',
  clientId: '7f0c5a2e-1d4b-4c3a-9b8e-2f6d1a0c9e7b',
  clientSecret: { source: 'local', value: SECRET },
  accessTokenUrl: 'https://login.example.com/oauth2/token',
};

function rejection(patch: Record<string, unknown>): ConfigValidationError {
  try {
    parseOAuthServerConfig({ ...valid, ...patch });
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail(`configuration ${JSON.stringify(Object.keys(patch))} was accepted`);
}

describe('OAuth server configuration', () => {
  it('fills in the documented defaults', () => {
    const config = parseOAuthServerConfig(valid);
    assert.equal(config.category, 'Default');
    assert.equal(config.grantType, 'client_credentials');
    assert.equal(config.authMethod, 'client_secret_basic');
    assert.equal(config.scope, '');
    assert.equal(config.includeScope, true);
    assert.equal(config.maxRetryAttempts, 3);
    assert.equal(config.maxWait, 60_000);
    assert.deepEqual(config.queryParams, []);
    assert.deepEqual(config.postParams, []);
    assert.deepEqual(config.allowedOrigins, []);
    assert.equal(config.issuer, undefined);
  });

  it('keeps an issuer as written, https or loopback http', () => {
    assert.equal(parseOAuthServerConfig({ ...valid, issuer: 'https://login.example.com/tenant-a' }).issuer, 'https://login.example.com/tenant-a');
    assert.equal(parseOAuthServerConfig({ ...valid, issuer: 'http://127.0.0.1:9400' }).issuer, 'http://127.0.0.1:9400');
  });

  it('takes an issuer instead of an access token URL, or both (the token URL is then used and the issuer is the audience)', () => {
    const { accessTokenUrl: _url, ...withoutUrl } = valid;
    const byIssuer = parseOAuthServerConfig({ ...withoutUrl, issuer: 'https://login.example.com/tenant-a' });
    assert.equal(byIssuer.accessTokenUrl, undefined);
    assert.equal(byIssuer.issuer, 'https://login.example.com/tenant-a');
    const both = parseOAuthServerConfig({ ...valid, issuer: 'https://login.example.com' });
    assert.deepEqual([both.accessTokenUrl, both.issuer], [valid.accessTokenUrl, 'https://login.example.com']);
  });

  it('refuses a configuration with neither access token URL nor issuer, naming accessTokenUrl even when other fields are wrong too', () => {
    const error = rejection({ accessTokenUrl: undefined, clientId: 'has space' });
    assert.deepEqual(error.issues.map((issue) => issue.field).sort(), ['accessTokenUrl', 'clientId']);
    assert.match(error.message, /accessTokenUrl: accessTokenUrl or issuer must be set/);
  });

  it('accepts ISO-8601 and millisecond waits, loopback http, GUID client IDs and normalises origins and scope', () => {
    const config = parseOAuthServerConfig({
      ...valid,
      accessTokenUrl: 'http://127.0.0.1:8080/token',
      maxWait: 'PT2M30S',
      scope: ' api:read  records:read ',
      allowedOrigins: ['HTTPS://API.Example.com:443', 'http://localhost:9000'],
    });
    assert.equal(config.maxWait, 150_000);
    assert.equal(config.scope, 'api:read records:read');
    assert.deepEqual(config.allowedOrigins, ['https://api.example.com', 'http://localhost:9000']);
    assert.equal(parseOAuthServerConfig({ ...valid, maxWait: 5000 }).maxWait, 5000);
  });

  const invalid: Array<[string, Record<string, unknown>]> = [
    ['name', { name: '' }],
    ['name', { name: 'x'.repeat(51) }],
    ['name', { name: 'tab\there' }],
    ['name', { name: ' padded ' }],
    ['name', { name: undefined }],
    ['category', { category: 'c'.repeat(101) }],
    ['category', { category: 'line\nbreak' }],
    ['grantType', { grantType: 'authorization_code' }],
    ['authMethod', { authMethod: 'tls_client_auth_v0' }],
    ['clientId', { clientId: undefined }],
    ['clientId', { clientId: '' }],
    ['clientId', { clientId: 'has space' }],
    ['clientId', { clientId: 'x'.repeat(256) }],
    ['clientSecret', { clientSecret: undefined }],
    ['clientSecret', { clientSecret: 'plain-string' }],
    ['clientSecret.source', { clientSecret: { source: 'vault', value: SECRET } }],
    ['clientSecret.value', { clientSecret: { source: 'local', value: '' } }],
    ['clientSecret.ref', { clientSecret: { source: 'external', ref: 'no-scheme' } }],
    ['clientSecret.value', { authMethod: 'private_key_jwt', clientSecret: { source: 'local', value: SECRET } }],
    ['accessTokenUrl', { accessTokenUrl: undefined }],
    ['accessTokenUrl', { accessTokenUrl: 'not a url' }],
    ['accessTokenUrl', { accessTokenUrl: 'http://login.example.com/token' }],
    ['accessTokenUrl', { accessTokenUrl: 'https://login.example.com/token#frag' }],
    ['issuer', { issuer: 'not a url' }],
    ['issuer', { issuer: 42 }],
    ['issuer', { issuer: 'http://login.example.com' }],
    ['issuer', { issuer: 'https://login.example.com/?tenant=1' }],
    ['issuer', { issuer: 'https://login.example.com/#x' }],
    ['scope', { scope: 'bad"quote' }],
    ['scope', { scope: 42 }],
    ['includeScope', { includeScope: 'yes' }],
    ['maxRetryAttempts', { maxRetryAttempts: 0 }],
    ['maxRetryAttempts', { maxRetryAttempts: 21 }],
    ['maxRetryAttempts', { maxRetryAttempts: 2.5 }],
    ['maxWait', { maxWait: 999 }],
    ['maxWait', { maxWait: 'PT16M' }],
    ['maxWait', { maxWait: 'one minute' }],
    ['maxWait', { maxWait: 'PT0.5S' }],
    ['queryParams.0.name', { queryParams: [{ name: 'client_id', value: 'x' }] }],
    ['postParams.0.name', { postParams: [{ name: 'Client_Assertion_Type', value: 'x' }] }],
    ['postParams.0.name', { postParams: [{ name: 'scope', value: 'x' }] }],
    ['postParams.0.name', { postParams: [{ name: '', value: 'x' }] }],
    ['queryParams', { queryParams: { audience: 'x' } }],
    ['queryParams', { queryParams: Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, value: 'x' })) }],
    ['queryParams.0.value', { queryParams: [{ name: 'audience', value: 'v'.repeat(4_001) }] }],
    ['postParams.0.value', { postParams: [{ name: 'audience', value: 'bell\u0007' }] }],
    ['postParams.0.name', { postParams: [{ name: 'new\nline', value: 'x' }] }],
    ['allowedOrigins.0', { allowedOrigins: ['https://api.example.com/v1'] }],
    ['allowedOrigins.0', { allowedOrigins: ['http://api.example.com'] }],
    ['allowedOrigins.0', { allowedOrigins: ['nope'] }],
    ['allowedOrigins', { allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://api${i}.example.com`) }],
    ['invalidTokenStatuses.0', { invalidTokenStatuses: [200] }],
    ['(configuration)', { unknownField: true }],
  ];
  for (const [field, patch] of invalid) {
    const shown = JSON.stringify(patch, (_key, value: unknown) => (value === undefined ? '(missing)' : value));
    it(`rejects ${shown.length > 90 ? `${shown.slice(0, 90)}…` : shown} naming ${field}`, () => {
      const error = rejection(patch);
      const issue = error.issues.find((candidate) => candidate.field === field);
      assert.ok(issue, `expected an issue on ${field}, got ${JSON.stringify(error.issues)}`);
      // zod's fallback text says nothing of the rule broken: every rule here has its own message.
      assert.doesNotMatch(issue.message, /^Invalid input$/);
      assert.match(error.message, new RegExp(field.replace(/[.()]/g, '\\$&')));
      assert.ok(!error.message.includes(SECRET), 'the message echoes the secret');
    });
  }

  it('names every field at fault at once, and never echoes the secret', () => {
    const error = rejection({ name: '', clientId: 'a b', maxRetryAttempts: 99, clientSecret: { source: 'local', value: SECRET, extra: SECRET } });
    const fields = error.issues.map((issue) => issue.field);
    for (const field of ['name', 'clientId', 'maxRetryAttempts']) assert.ok(fields.includes(field), `${field} missing from ${fields.join(', ')}`);
    assert.ok(!JSON.stringify(error.issues).includes(SECRET));
  });
});
