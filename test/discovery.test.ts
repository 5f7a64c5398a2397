import assert from 'node:assert/strict';
import { AUTH_METHODS, authorizeServer, createServer, editServer, ServerChangeRejectedError, showServer, TokenRequestError, type AuthMethod } from '../src';
import { startBreakableTokenEndpoint } from './support/breakable-token-endpoint';
import { discoverIssuer, MAX_METADATA_BYTES } from '../src/oauth/discovery';
import { callFromWorkflow } from './support/run-workflow';
import { startRecordingProxy, startScriptedEndpoint, type RecordedRequest, type ScriptedResponse, type TokenEndpoint } from './support/token-endpoints';
import { API_SCOPES, testBed } from './support/test-bed';

const RFC8414_PATH = '/.well-known/oauth-authorization-server';
const OIDC_PATH = '/.well-known/openid-configuration';

const json = (body: unknown): ScriptedResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const notFound: ScriptedResponse = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };

/**
 * An issuer on loopback that serves the metadata `document` gives (at RFC 8414's well-known URI, or
 * only at OpenID Connect's) and answers anything else 404. Its issuer identifier is its origin.
 */
async function startIssuer(document: (issuer: string) => unknown, { only = RFC8414_PATH } = {}): Promise<TokenEndpoint & { issuer: string }> {
  let issuer = '';
  const server = await startScriptedEndpoint((request) => (new URL(request.url, issuer).pathname === only ? json(document(issuer)) : notFound));
  issuer = new URL(server.url).origin;
  return { ...server, issuer };
}

/** What the audience of each client assertion the authorization server received since `from` was. */
function assertionAudiences(from: number): unknown[] {
  return testBed()
    .authorizationServer.receivedClientAssertions()
    .slice(from)
    .map((assertion) => (JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud: unknown }).aud);
}

/** Metadata requests must carry nothing that proves who the client is. */
function assertNoCredentials(requests: readonly RecordedRequest[]): void {
  for (const request of requests) {
    assert.equal(request.method, 'GET', `${request.method} ${request.url}`);
    assert.equal(request.headers.authorization, undefined, `credentials sent to ${request.url}`);
    assert.equal(request.body, '', `a body sent to ${request.url}`);
    for (const secret of testBed().secretsUsed()) assert.ok(!request.url.includes(secret), `a secret in ${request.url}`);
  }
}

describe('issuer discovery: a server configured by issuer alone', () => {
  for (const method of AUTH_METHODS) {
    it(`${method}: the token endpoint is read from the real server's metadata, the server reaches OK and a call gets a 200`, async () => {
      const bed = testBed();
      const assertionsBefore = bed.authorizationServer.receivedClientAssertions().length;
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig(method, { accessTokenUrl: undefined, issuer: bed.authorizationServer.issuer });
        const view = await createServer(bed.client, config, { taskQueue });
        assert.equal(view.status, 'OK', JSON.stringify(view.disabledReason));
        assert.equal(view.config.accessTokenUrl, undefined);
        assert.equal(view.config.issuer, bed.authorizationServer.issuer);
        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` });
        assert.deepEqual(result.body, { client_id: bed.clients[method].clientId, scope: API_SCOPES });
      });
      const jwt: readonly AuthMethod[] = ['client_secret_jwt', 'private_key_jwt'];
      const audiences = assertionAudiences(assertionsBefore);
      assert.deepEqual(audiences, jwt.includes(method) ? [bed.authorizationServer.issuer] : []);
    });
  }

  it('an edit that removes the token URL (null) turns the server to its issuer: the next authorize reads the endpoint from the metadata; what would leave neither, or remove a setting that cannot go, is refused by name', async () => {
    const bed = testBed();
    const deadEndpoint = await startBreakableTokenEndpoint(bed.authorizationServer.tokenEndpoint);
    deadEndpoint.break();
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: deadEndpoint.url, issuer: bed.authorizationServer.issuer, maxRetryAttempts: 1 });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'Error');
        const edited = await editServer(bed.client, config.name, { accessTokenUrl: null });
        assert.equal(edited.config.accessTokenUrl, undefined);
        assert.equal(edited.config.issuer, bed.authorizationServer.issuer);
        const authorized = await authorizeServer(bed.client, config.name);
        assert.equal(authorized.status, 'OK', JSON.stringify(authorized.disabledReason));
        const result = await callFromWorkflow(taskQueue, { server: config.name, url: `${bed.api.url}/whoami` });
        assert.equal(result.status, 200);

        await assert.rejects(editServer(bed.client, config.name, { issuer: null }), (error: unknown) => {
          assert.ok(error instanceof ServerChangeRejectedError);
          assert.match(error.message, /accessTokenUrl or issuer must be set/);
          return true;
        });
        await assert.rejects(editServer(bed.client, config.name, { scope: null } as never), (error: unknown) => {
          assert.ok(error instanceof ServerChangeRejectedError);
          assert.match(error.message, /scope/);
          return true;
        });
        const kept = await showServer(bed.client, config.name);
        assert.equal(kept.status, 'OK');
        assert.equal(kept.config.issuer, bed.authorizationServer.issuer);
      });
    } finally {
      await deadEndpoint.close();
    }
  });

  it('metadata naming another issuer: Error after one attempt with issuer_mismatch naming both, no token request sent anywhere, OpenID Connect discovery tried after RFC 8414', async () => {
    const bed = testBed();
    let tokenRequests = 0;
    const elsewhere = await startScriptedEndpoint(() => {
      tokenRequests += 1;
      return json({});
    });
    const issuer = await startIssuer(() => ({ issuer: 'https://login.attacker.example', token_endpoint: elsewhere.url }), { only: OIDC_PATH });
    try {
      await bed.withWorker(async (taskQueue) => {
        const view = await createServer(bed.client, bed.serverConfig('client_secret_post', { accessTokenUrl: undefined, issuer: issuer.issuer }), { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.code, 'issuer_mismatch');
        assert.equal(view.disabledReason?.attempts, 1, 'a mismatched issuer must not be retried');
        assert.match(view.disabledReason?.message ?? '', /issuer_mismatch: the metadata at .*openid-configuration names issuer "https:\/\/login\.attacker\.example", not the configured http:\/\/127\.0\.0\.1:\d+\//);
      });
      assert.equal(tokenRequests, 0);
      assert.deepEqual(
        issuer.requests.map((request) => request.url),
        [RFC8414_PATH, OIDC_PATH],
      );
      assertNoCredentials(issuer.requests);
    } finally {
      await Promise.all([issuer.close(), elsewhere.close()]);
    }
  });

  it('metadata without a token endpoint: Error after one attempt with invalid_issuer_metadata saying so', async () => {
    const bed = testBed();
    const issuer = await startIssuer((self) => ({ issuer: self, jwks_uri: `${self}/jwks` }));
    try {
      await bed.withWorker(async (taskQueue) => {
        const view = await createServer(bed.client, bed.serverConfig('client_secret_basic', { accessTokenUrl: undefined, issuer: issuer.issuer }), { taskQueue });
        assert.equal(view.status, 'Error');
        assert.equal(view.disabledReason?.code, 'invalid_issuer_metadata');
        assert.equal(view.disabledReason?.attempts, 1);
        assert.match(view.disabledReason?.message ?? '', /the metadata at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server has no token_endpoint/);
      });
      assert.deepEqual(
        issuer.requests.map((request) => request.url),
        [RFC8414_PATH],
      );
      assertNoCredentials(issuer.requests);
    } finally {
      await issuer.close();
    }
  });

  it('a token endpoint that moved: when the kept endpoint stops answering, the metadata is read again and the new endpoint gives the token', async () => {
    const bed = testBed();
    const first = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    const second = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    let firstOpen = true;
    const closeFirst = async () => {
      if (firstOpen) await first.close();
      firstOpen = false;
    };
    let current = first.url;
    const issuer = await startIssuer((self) => ({ issuer: self, token_endpoint: current }));
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', { accessTokenUrl: undefined, issuer: issuer.issuer, maxRetryAttempts: 1 });
        const created = await createServer(bed.client, config, { taskQueue });
        assert.equal(created.status, 'OK', JSON.stringify(created.disabledReason));
        assert.equal(first.requests.length, 1);

        // The first endpoint is gone (its port closed) and the metadata now names the second one.
        await closeFirst();
        current = second.url;
        const authorized = await authorizeServer(bed.client, config.name);
        assert.equal(authorized.status, 'OK', JSON.stringify(authorized.disabledReason));
        assert.equal(second.requests.length, 1, 'the token did not come from the new endpoint');
        assert.equal(authorized.disabledReason, undefined);
      });
      // Once for the first token, once more after the kept endpoint failed: never on every request.
      assert.equal(issuer.requests.length, 2);
      assertNoCredentials(issuer.requests);
    } finally {
      await Promise.all([closeFirst(), second.close(), issuer.close()]);
    }
  });
});

describe('reading an issuer metadata document', () => {
  /** What discovery throws for an issuer that gives `answer` at every well-known URI. */
  async function refusal(answer: (issuer: string) => ScriptedResponse): Promise<TokenRequestError> {
    let issuer = '';
    const server = await startScriptedEndpoint(() => answer(issuer));
    issuer = new URL(server.url).origin;
    try {
      const error = await discoverIssuer(issuer, { timeoutMs: 5_000 }).then(
        (metadata) => assert.fail(`accepted: ${JSON.stringify(metadata)}`),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof TokenRequestError, `expected TokenRequestError, got ${String(error)}`);
      return error;
    } finally {
      await server.close();
    }
  }

  it('refuses a token endpoint a secret may not travel to, naming the rule', async () => {
    for (const tokenEndpoint of ['http://login.example.com/token', 'https://login.example.com/token#x', 'not a url', 42]) {
      const error = await refusal((issuer) => json({ issuer, token_endpoint: tokenEndpoint }));
      assert.equal(error.code, 'invalid_issuer_metadata');
      assert.equal(error.retryable, false);
      assert.match(error.message, /token_endpoint (must|is refused)/, `${String(tokenEndpoint)}: ${error.message}`);
    }
  });

  it('refuses an answer that is not a metadata document, or too large, and retries only what a retry can fix', async () => {
    const notJson = await refusal(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>' }));
    assert.deepEqual([notJson.code, notJson.retryable], ['invalid_issuer_metadata', false]);
    const noIssuer = await refusal(() => json({ token_endpoint: 'https://login.example.com/token' }));
    assert.deepEqual([noIssuer.code, noIssuer.retryable], ['invalid_issuer_metadata', false]);
    const huge = await refusal((issuer) => json({ issuer, padding: 'x'.repeat(MAX_METADATA_BYTES) }));
    assert.deepEqual([huge.code, huge.retryable], ['response_too_large', false]);
    assert.match(huge.message, /the issuer's metadata at .* answered with more than/);
    const unavailable = await refusal(() => ({ status: 503, body: 'down' }));
    assert.deepEqual([unavailable.code, unavailable.status, unavailable.retryable], ['unexpected_status', 503, true]);
    const missing = await refusal(() => notFound);
    assert.deepEqual([missing.code, missing.status, missing.retryable], ['unexpected_status', 404, false]);
    assert.match(missing.message, /oauth-authorization-server answered HTTP 404, .*openid-configuration answered HTTP 404/);
  });

  it('keeps the issuer as the metadata writes it: the assertion audience a strict server compares', async () => {
    const issuer = await startIssuer((self) => ({ issuer: self, token_endpoint: `${self}/oauth2/token` }));
    try {
      assert.deepEqual(await discoverIssuer(`${issuer.issuer}/`, { timeoutMs: 5_000 }), { issuer: issuer.issuer, tokenEndpoint: `${issuer.issuer}/oauth2/token` });
    } finally {
      await issuer.close();
    }
  });
});
