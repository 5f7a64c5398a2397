import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import * as oauth from 'oauth4webapi';
import { importJWK } from 'jose';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  generateClientSecret,
  generatePrivateKey,
  startAuthorizationServer,
  type AuthorizationServer,
  type ClientAuthMethod,
} from '../src/demo/authorization-server';
import { startResourceApi, type ResourceApi } from '../src/demo/resource-api';
import { eventually } from './support/eventually';
import {
  startHangingEndpoint,
  startRecordingProxy,
  startResettingEndpoint,
  startScriptedEndpoint,
  startStatusEndpoint,
  type TokenEndpoint,
} from './support/token-endpoints';

const SCOPES = 'api:read records:read api:write';
const SHORT_TTL_SECONDS = 42;
const HTTP_TIMEOUT_MS = 10_000;

/** Client authentication for oauth4webapi, built from what a registration holds. */
type Credentials = { clientId: string; auth: () => Promise<oauth.ClientAuth> };

describe('the demo authorization server and resource API', () => {
  let server: AuthorizationServer;
  let api: ResourceApi;
  const credentials = {} as Record<ClientAuthMethod, Credentials>;
  const secrets: Record<string, string> = {};

  before(async () => {
    const key = await generatePrivateKey();
    for (const id of ['basic', 'post', 'jwt', 'narrow', 'short-lived', 'rotating', 'resource-api']) secrets[id] = generateClientSecret();
    server = await startAuthorizationServer({
      clients: [
        { clientId: 'basic', authMethod: 'client_secret_basic', clientSecret: secrets.basic, scope: SCOPES },
        { clientId: 'post', authMethod: 'client_secret_post', clientSecret: secrets.post, scope: SCOPES },
        { clientId: 'jwt', authMethod: 'client_secret_jwt', clientSecret: secrets.jwt, scope: SCOPES },
        { clientId: 'key', authMethod: 'private_key_jwt', publicJwk: key.publicJwk, scope: SCOPES },
        { clientId: 'narrow', authMethod: 'client_secret_basic', clientSecret: secrets.narrow, scope: 'api:read' },
        { clientId: 'short-lived', authMethod: 'client_secret_post', clientSecret: secrets['short-lived'], scope: SCOPES, tokenTtlSeconds: SHORT_TTL_SECONDS },
        { clientId: 'rotating', authMethod: 'client_secret_basic', clientSecret: secrets.rotating, scope: SCOPES },
        { clientId: 'resource-api', authMethod: 'client_secret_basic', clientSecret: secrets['resource-api'], scope: '' },
      ],
    });
    api = await startResourceApi({
      issuer: server.issuer,
      introspectionEndpoint: server.introspectionEndpoint,
      clientId: 'resource-api',
      clientSecret: secret('resource-api'),
      recordCount: 25,
    });
    credentials.client_secret_basic = { clientId: 'basic', auth: () => Promise.resolve(oauth.ClientSecretBasic(secret('basic'))) };
    credentials.client_secret_post = { clientId: 'post', auth: () => Promise.resolve(oauth.ClientSecretPost(secret('post'))) };
    credentials.client_secret_jwt = { clientId: 'jwt', auth: () => Promise.resolve(oauth.ClientSecretJwt(secret('jwt'))) };
    credentials.private_key_jwt = {
      clientId: 'key',
      auth: async () => {
        const privateKey = await importJWK(key.privateJwk, 'ES256');
        if (!(privateKey instanceof CryptoKey)) throw new Error('not an asymmetric key');
        return oauth.PrivateKeyJwt({ key: privateKey, kid: key.privateJwk.kid });
      },
    };
  });

  after(async () => {
    await Promise.all([api?.close(), server?.close()]);
  });

  function secret(clientId: string): string {
    const value = secrets[clientId];
    if (value === undefined) throw new Error(`no secret for ${clientId}`);
    return value;
  }

  /**
   * A client credentials request the way the plugin makes it: without discovery, the token
   * endpoint URL stands for the server's identifier, so it is also the audience of JWT assertions.
   */
  async function requestToken(clientId: string, auth: oauth.ClientAuth, scope?: string, tokenEndpoint = server.tokenEndpoint): Promise<oauth.TokenEndpointResponse> {
    const as: oauth.AuthorizationServer = { issuer: tokenEndpoint, token_endpoint: tokenEndpoint };
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, auth, scope === undefined ? {} : { scope }, {
      [oauth.allowInsecureRequests]: true,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    return oauth.processClientCredentialsResponse(as, client, response);
  }

  function callApi(path: string, token?: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    return fetch(`${api.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  }

  describe('token endpoint', () => {
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'] as const) {
      it(`issues a bearer token to a ${method} client, with the default lifetime and no refresh token`, async () => {
        const { clientId, auth } = credentials[method];
        const token = await requestToken(clientId, await auth(), 'api:read records:read');
        assert.equal(token.token_type, 'bearer');
        assert.equal(token.expires_in, DEFAULT_TOKEN_TTL_SECONDS);
        assert.equal(token.scope, 'api:read records:read');
        assert.ok(token.access_token.length > 20);
        assert.equal('refresh_token' in token, false);
      });
    }

    it('takes the issuer or the token endpoint as a JWT assertion audience, and refuses any other (e.g. a proxy)', async () => {
      const { clientId, auth } = credentials.private_key_jwt;
      const statusFor = async (audience: string) => {
        const as: oauth.AuthorizationServer = { issuer: audience, token_endpoint: server.tokenEndpoint };
        const response = await oauth.clientCredentialsGrantRequest(as, { client_id: clientId }, await auth(), {}, {
          [oauth.allowInsecureRequests]: true,
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        await response.body?.cancel();
        return response.status;
      };
      assert.equal(await statusFor(server.issuer), 200);
      assert.equal(await statusFor(server.tokenEndpoint), 200);
      assert.equal(await statusFor('http://127.0.0.1:1/token'), 401);
    });

    it('gives a client the token lifetime registered for it', async () => {
      const token = await requestToken('short-lived', oauth.ClientSecretPost(secret('short-lived')), 'api:read');
      assert.equal(token.expires_in, SHORT_TTL_SECONDS);
    });

    for (const scope of ['api:read api:write', 'api:read admin']) {
      it(`refuses a scope outside the client's with 400 invalid_scope (${scope})`, async () => {
        const error = await requestToken('narrow', oauth.ClientSecretBasic(secret('narrow')), scope).then(
          () => assert.fail('a token was issued'),
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof oauth.ResponseBodyError, String(error));
        assert.equal(error.status, 400);
        assert.equal(error.error, 'invalid_scope');
      });
    }

    it('refuses a wrong secret with 401 and a WWW-Authenticate challenge naming invalid_client', async () => {
      const error = await requestToken('basic', oauth.ClientSecretBasic(generateClientSecret()), 'api:read').then(
        () => assert.fail('a token was issued'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof oauth.WWWAuthenticateChallengeError, String(error));
      assert.equal(error.status, 401);
      assert.equal(error.cause[0]?.parameters.error, 'invalid_client');
    });

    it('after setClientSecret, refuses the old secret and accepts the new one', async () => {
      const old = secret('rotating');
      await requestToken('rotating', oauth.ClientSecretBasic(old));
      const fresh = generateClientSecret();
      await server.setClientSecret('rotating', fresh);
      await assert.rejects(requestToken('rotating', oauth.ClientSecretBasic(old)), oauth.WWWAuthenticateChallengeError);
      const token = await requestToken('rotating', oauth.ClientSecretBasic(fresh), 'api:read');
      assert.equal(token.scope, 'api:read');
    });

    it('registers clients at run time, and refuses one whose scope the server does not know', async () => {
      const fresh = generateClientSecret();
      await server.registerClient({ clientId: 'late', authMethod: 'client_secret_post', clientSecret: fresh, scope: 'records:read' });
      assert.equal((await requestToken('late', oauth.ClientSecretPost(fresh), 'records:read')).scope, 'records:read');
      await assert.rejects(server.registerClient({ clientId: 'odd', authMethod: 'client_secret_post', clientSecret: fresh, scope: 'admin' }), /admin/);
    });
  });

  describe('resource API', () => {
    async function tokenFor(clientId: 'basic' | 'narrow'): Promise<string> {
      return (await requestToken(clientId, oauth.ClientSecretBasic(secret(clientId)), clientId === 'basic' ? SCOPES : 'api:read')).access_token;
    }

    it('answers 200 to a good token, and logs the caller by client and token fingerprint only', async () => {
      const token = await tokenFor('basic');
      const response = await callApi('/whoami', token);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { client_id: 'basic', scope: SCOPES });
      const call = api.calls.at(-1);
      assert.deepEqual(call, {
        method: 'GET',
        path: '/whoami',
        status: 200,
        clientId: 'basic',
        scope: SCOPES,
        tokenSha256: createHash('sha256').update(token).digest('hex'),
      });
      assert.ok(!JSON.stringify(api.calls).includes(token));
    });

    it('answers 401 invalid_token to a garbage token and to none', async () => {
      for (const token of ['not-a-token', undefined]) {
        const response = await callApi('/whoami', token);
        assert.equal(response.status, 401);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      }
    });

    it('answers 403 insufficient_scope to a token lacking the route scope', async () => {
      const response = await callApi('/echo', await tokenFor('narrow'), { method: 'POST', body: 'x' });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", scope="api:write"');
      assert.equal(api.calls.at(-1)?.clientId, 'narrow');
    });

    it('rejectNext(n) answers the next n requests 401, then recovers', async () => {
      const token = await tokenFor('basic');
      api.rejectNext(2);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await callApi('/whoami', token)).status);
      assert.deepEqual(statuses, [401, 401, 200]);
    });

    it('pages over the records', async () => {
      const token = await tokenFor('basic');
      const ids: string[] = [];
      let cursor: number | null = 0;
      while (cursor !== null) {
        const response = await callApi(`/records?cursor=${cursor}&limit=10`, token);
        assert.equal(response.status, 200);
        const page = (await response.json()) as { records: Array<{ id: string; value: number }>; nextCursor: number | null };
        ids.push(...page.records.map((record) => record.id));
        cursor = page.nextCursor;
      }
      assert.equal(ids.length, 25);
      assert.equal(ids[0], 'rec-000001');
      assert.equal(ids[24], 'rec-000025');
      assert.equal((await callApi('/records?limit=0', token)).status, 400);
    });

    it('echoes a POST without its authorization header', async () => {
      const response = await callApi('/echo?a=1&a=2', await tokenFor('basic'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-trace': 't1' },
        body: 'hello',
      });
      assert.equal(response.status, 200);
      const echo = (await response.json()) as { method: string; headers: Record<string, string>; query: Record<string, string[]>; body: string; contentType: string };
      assert.equal(echo.method, 'POST');
      assert.equal(echo.body, 'hello');
      assert.equal(echo.contentType, 'text/plain');
      assert.deepEqual(echo.query, { a: ['1', '2'] });
      assert.equal(echo.headers['x-trace'], 't1');
      assert.equal(echo.headers.authorization, undefined);
    });
  });

  describe('test token endpoints', () => {
    const started: TokenEndpoint[] = [];
    async function start(endpoint: Promise<TokenEndpoint>): Promise<TokenEndpoint> {
      started.push(await endpoint);
      return started[started.length - 1] as TokenEndpoint;
    }
    afterEach(async () => {
      await Promise.all(started.splice(0).map((endpoint) => endpoint.close()));
    });

    function post(url: string, body = 'grant_type=client_credentials'): Promise<Response> {
      return fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
    }

    it('the recording proxy records the post body and query, and passes on real tokens and challenges', async () => {
      const proxy = await start(startRecordingProxy(server.tokenEndpoint));
      const token = await requestToken('post', oauth.ClientSecretPost(secret('post')), 'api:read', `${proxy.url}?tenant=blue`);
      assert.equal(token.scope, 'api:read');
      const [first] = proxy.requests;
      assert.ok(first);
      assert.equal(first.method, 'POST');
      assert.equal(new URL(first.url, proxy.url).searchParams.get('tenant'), 'blue');
      const form = new URLSearchParams(first.body);
      assert.equal(form.get('grant_type'), 'client_credentials');
      assert.equal(form.get('scope'), 'api:read');
      assert.equal(form.get('client_id'), 'post');

      const refused = await requestToken('basic', oauth.ClientSecretBasic('wrong'), undefined, proxy.url).catch((error: unknown) => error);
      assert.ok(refused instanceof oauth.WWWAuthenticateChallengeError, String(refused));
      assert.equal(proxy.requests.length, 2);
    });

    it('a status endpoint answers its status and counts requests', async () => {
      const endpoint = await start(startStatusEndpoint(503, { body: 'down', headers: { 'retry-after': '7' } }));
      const response = await post(endpoint.url);
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '7');
      assert.equal(await response.text(), 'down');
      assert.equal(endpoint.requests.length, 1);
    });

    it('a scripted endpoint answers what its handler says', async () => {
      const endpoint = await start(startScriptedEndpoint((request, body) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: `{"seen":${JSON.stringify(body)},"m":"${request.method}"` })));
      const response = await post(endpoint.url, 'a=1');
      assert.equal(await response.text(), '{"seen":"a=1","m":"POST"');
    });

    it('a resetting endpoint counts each attempt and the client sees a network failure', async () => {
      const endpoint = await start(startResettingEndpoint());
      for (let i = 0; i < 2; i += 1) await assert.rejects(post(endpoint.url), TypeError);
      assert.equal(endpoint.requests.length, 2);
    });

    it('a hanging endpoint never answers, and close() frees its port at once', async () => {
      const endpoint = await startHangingEndpoint();
      const port = Number(new URL(endpoint.url).port);
      const pending = fetch(endpoint.url, { method: 'POST', body: 'x', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
      await eventually(() => endpoint.requests.length === 1, { timeoutMs: 5_000, what: 'the hanging request' });
      const closing = Date.now();
      await endpoint.close();
      assert.ok(Date.now() - closing < 1_000);
      await assert.rejects(pending);
      await assertPortFree(port);
    });
  });

  it('close() frees the authorization server port and the resource API port', async () => {
    const other = await startAuthorizationServer({ clients: [{ clientId: 'x', authMethod: 'client_secret_post', clientSecret: generateClientSecret(), scope: 'a' }] });
    const otherApi = await startResourceApi({ issuer: other.issuer, introspectionEndpoint: other.introspectionEndpoint, clientId: 'x', clientSecret: 'unused' });
    await fetch(`${other.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    await fetch(`${otherApi.url}/whoami`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    await Promise.all([other.close(), otherApi.close()]);
    await assertPortFree(Number(new URL(other.issuer).port));
    await assertPortFree(Number(new URL(otherApi.url).port));
  });
});

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
