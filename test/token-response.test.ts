import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { AUTH_METHODS, parseOAuthServerConfig, TokenRequestError } from '../src';
import { DEFAULT_EXPIRES_IN_SECONDS, requestToken } from '../src/oauth/token-request';
import { startScriptedEndpoint, type ScriptedResponse } from './support/token-endpoints';

const SECRET = 'client-secret-never-shown-0123456789';
const TOKEN = 'an-access-token-that-must-not-leak-42';

async function exchange(response: ScriptedResponse) {
  const endpoint = await startScriptedEndpoint(() => response);
  try {
    const config = parseOAuthServerConfig({
      name: 'scripted',
      clientId: 'client',
      clientSecret: { source: 'local', value: SECRET },
      accessTokenUrl: endpoint.url,
      scope: 'api:read',
    });
    return await requestToken(config, { tokenEndpoint: endpoint.url }, { secret: SECRET, timeoutMs: 5_000 });
  } finally {
    await endpoint.close();
  }
}

const json = (body: unknown, status = 200): ScriptedResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function failure(response: ScriptedResponse): Promise<TokenRequestError> {
  try {
    await exchange(response);
  } catch (error) {
    assert.ok(error instanceof TokenRequestError, `expected TokenRequestError, got ${String(error)}`);
    assert.ok(!error.message.includes(SECRET) && !error.message.includes(TOKEN), 'the error carries a secret or the token');
    return error;
  }
  assert.fail('the response was accepted');
}

describe('the token response is checked', () => {
  it('accepts Bearer in any case and a numeric-string expires_in, and keeps the granted scope', async () => {
    const token = await exchange(json({ access_token: TOKEN, token_type: 'Bearer', expires_in: '120', scope: 'api:read' }));
    assert.equal(token.accessToken, TOKEN);
    assert.equal(token.expiresInSeconds, 120);
    assert.equal(token.expiresInDefaulted, false);
    assert.equal(token.grantedScope, 'api:read');
  });

  it(`assumes ${DEFAULT_EXPIRES_IN_SECONDS} s when expires_in is missing`, async () => {
    const token = await exchange(json({ access_token: TOKEN, token_type: 'bearer' }));
    assert.equal(token.expiresInSeconds, DEFAULT_EXPIRES_IN_SECONDS);
    assert.equal(token.expiresInDefaulted, true);
  });

  const malformed: Array<[string, ScriptedResponse]> = [
    ['invalid JSON', { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token": ' }],
    ['no access_token', json({ token_type: 'bearer', expires_in: 60 })],
    ['a token_type other than bearer', json({ access_token: TOKEN, token_type: 'mac', expires_in: 60 })],
    ['a negative expires_in', json({ access_token: TOKEN, token_type: 'bearer', expires_in: -5 })],
    ['a non-numeric expires_in', json({ access_token: TOKEN, token_type: 'bearer', expires_in: 'soon' })],
    ['an expires_in string with trailing garbage', json({ access_token: TOKEN, token_type: 'bearer', expires_in: '120abc' })],
    ['a zero expires_in', json({ access_token: TOKEN, token_type: 'bearer', expires_in: 0 })],
  ];
  for (const [what, response] of malformed) {
    it(`refuses ${what} as a non-retryable invalid_token_response`, async () => {
      const error = await failure(response);
      assert.equal(error.code, 'invalid_token_response');
      assert.equal(error.retryable, false);
    });
  }

  it('refuses a huge body without reading it all', async () => {
    const error = await failure({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(2 * 1024 * 1024, 32) });
    assert.equal(error.code, 'response_too_large');
  });

  const classified: Array<[string, ScriptedResponse, string, boolean]> = [
    ['400 invalid_scope', json({ error: 'invalid_scope', error_description: 'nope' }, 400), 'invalid_scope', false],
    ['400 unsupported_grant_type', json({ error: 'unsupported_grant_type' }, 400), 'unsupported_grant_type', false],
    ['401 invalid_client without a challenge', json({ error: 'invalid_client' }, 401), 'invalid_client', false],
    ['400 unauthorized_client', json({ error: 'unauthorized_client' }, 400), 'unauthorized_client', false],
    ['500 with an OAuth body', json({ error: 'server_error' }, 500), 'unexpected_status', true],
    ['503 as HTML', { status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>down</h1>' }, 'unexpected_status', true],
    ['429 with Retry-After', { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }, 'unexpected_status', true],
  ];
  for (const [what, response, code, retryable] of classified) {
    it(`classifies ${what} as ${retryable ? 'retryable' : 'non-retryable'} ${code}`, async () => {
      const error = await failure(response);
      assert.equal(error.code, code);
      assert.equal(error.retryable, retryable);
      if (what.includes('Retry-After')) assert.equal(error.retryAfterMs, 7_000);
    });
  }

  it('redacts a secret that a server echoes in its error description', async () => {
    const error = await failure(json({ error: 'invalid_request', error_description: `bad secret ${SECRET}` }, 400));
    assert.match(error.description ?? '', /\[REDACTED\]/);
  });
});

describe('client credentials a token endpoint echoes back', () => {
  const privateKey = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
  for (const authMethod of AUTH_METHODS) {
    it(`${authMethod}: the Basic header, secret or client assertion quoted in an error are redacted from it`, async () => {
      const secret = authMethod === 'private_key_jwt' ? privateKey : SECRET;
      // Echoes the whole credential, then each part of it, the way a verbose server might complain.
      const endpoint = await startScriptedEndpoint((request, body) => {
        const form = new URLSearchParams(body);
        const authorization = request.headers.authorization ?? '';
        const assertion = form.get('client_assertion') ?? '';
        const quoted = [authorization, authorization.split(' ')[1] ?? '', form.get('client_secret') ?? '', assertion, ...assertion.split('.').slice(1)];
        return json({ error: 'invalid_client', error_description: `rejected ${quoted.filter((part) => part !== '').join(' | ')}` }, 400);
      });
      try {
        const config = parseOAuthServerConfig({
          name: 'echoing',
          authMethod,
          clientId: 'client',
          clientSecret: { source: 'local', value: secret },
          accessTokenUrl: endpoint.url,
        });
        const error = await requestToken(config, { tokenEndpoint: endpoint.url }, { secret, timeoutMs: 5_000 }).then(
          () => assert.fail('the echo was taken for a token'),
          (thrown: unknown) => thrown,
        );
        assert.ok(error instanceof TokenRequestError);
        assert.equal(error.code, 'invalid_client');
        const [request] = endpoint.requests;
        assert.ok(request);
        const form = new URLSearchParams(request.body);
        const sent = [request.headers.authorization?.split(' ')[1], form.get('client_secret'), form.get('client_assertion')?.split('.')[2], SECRET];
        const told = JSON.stringify([error.message, error.toDetails()]);
        assert.match(told, /\[REDACTED\]/);
        for (const credential of sent) {
          if (credential) assert.ok(!told.includes(credential), `the error repeats what the client sent as ${authMethod} credentials`);
        }
      } finally {
        await endpoint.close();
      }
    });
  }
});
