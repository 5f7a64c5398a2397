import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import type { AcquiredToken } from '../../src/activities/acquire-token';
import { tracedTokenRequest, tracedWebServiceCall } from '../../src/activities/tracing';
import { createWebServiceCall } from '../../src/activities/web-service-call';
import type { WebServiceCallInput, WebServiceCallResult } from '../../src/activities/web-service-call-types';
import { WebServiceCallFailure } from '../../src/contract/failures';
import { parseOAuthServerConfig } from '../../src/oauth/config';
import { assertAsyncProperty } from '../support/generated-cases';
import { startInMemoryTraces, type InMemoryTraces } from '../support/in-memory-traces';

const NO_CONTENT: WebServiceCallResult = { status: 204, headers: {}, body: null, bodyType: 'empty' };
const answering = (result: WebServiceCallResult) => () => Promise.resolve(result);

/** The real activity, which refuses a bad input before it needs a worker, a token or the network. */
const realCall = createWebServiceCall(() => {
  throw new Error('a unit test has no token cache');
});

/** How a span names a failure: its Temporal failure type, or the error's name. */
function typeOf(error: unknown): string {
  return error instanceof ApplicationFailure && error.type ? error.type : (error as Error).name;
}

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  assert.fail('the call did not fail');
}

describe('tracing without an OpenTelemetry SDK', () => {
  it('a traced call gives the call its own result and its own failure', async () => {
    assert.equal(await tracedWebServiceCall(answering(NO_CONTENT))({ server: 'crm', url: 'https://api.example.com/' }), NO_CONTENT);
    const failure = ApplicationFailure.create({ type: WebServiceCallFailure.HttpTransport, message: 'connection refused' });
    assert.equal(await failureOf(tracedWebServiceCall(() => Promise.reject(failure))({ server: 'crm', url: 'https://api.example.com/' })), failure);
  });
});

describe('tracing with an OpenTelemetry SDK', () => {
  let traces: InMemoryTraces;
  before(() => {
    traces = startInMemoryTraces();
  });
  after(() => traces.close());

  const lastSpan = () => traces.spans().at(-1);

  it('anything a workflow passes gets one span failing as the untraced call fails, with a known method or _OTHER and only text and numbers', async () => {
    const input = fc.oneof(
      fc.anything(),
      fc.record({ server: fc.anything(), url: fc.oneof(fc.webUrl(), fc.anything()), method: fc.oneof(fc.constantFrom('GET', 'POST', 'get'), fc.anything()) }, { requiredKeys: [] }),
    );
    await assertAsyncProperty(
      fc.asyncProperty(input, async (anything) => {
        const before = traces.spans().length;
        const expected = typeOf(await failureOf(realCall(anything as WebServiceCallInput)));
        const failure = await failureOf(tracedWebServiceCall(realCall)(anything as WebServiceCallInput));
        assert.equal(typeOf(failure), expected);
        assert.equal(traces.spans().length, before + 1);
        const span = lastSpan();
        assert.equal(span?.attributes['error.type'], expected);
        assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', '_OTHER'].includes(String(span.attributes['http.request.method'])));
        for (const value of Object.values(span.attributes)) assert.ok(typeof value === 'string' || typeof value === 'number', JSON.stringify(span.attributes));
      }),
      { numRuns: 300 },
    );
  });

  it('a span names the origin of the URL and nothing after it or before its host: no path, query, fragment or credentials', async () => {
    const url = fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true, withPort: true, withIPv4: true, withIPv6: true } });
    await assertAsyncProperty(
      fc.asyncProperty(url, async (text) => {
        await tracedWebServiceCall(answering(NO_CONTENT))({ server: 'crm', url: text });
        const attributes = lastSpan()?.attributes ?? {};
        for (const value of Object.values(attributes)) assert.ok(!/[/?#@]/.test(String(value)), `${text}: ${JSON.stringify(attributes)}`);
        assert.equal(attributes['url.scheme'], new URL(text).protocol.slice(0, -1));
      }),
      { numRuns: 500 },
    );
  });

  it('an origin is its scheme, its host as written without brackets, and its port, the scheme default included', async () => {
    await tracedWebServiceCall(answering(NO_CONTENT))({ server: 'crm', method: 'DELETE', url: 'https://[::1]/orders/7?key=k' });
    assert.deepEqual(lastSpan()?.attributes, {
      'temporal_oauth.server': 'crm',
      'http.request.method': 'DELETE',
      'url.scheme': 'https',
      'server.address': '::1',
      'server.port': 443,
      'http.response.status_code': 204,
      'temporal_oauth.outcome': 'ok',
    });
  });

  it('a token request of a server configured by its issuer names the issuer, since its token endpoint is discovered', async () => {
    const config = parseOAuthServerConfig({ name: 'Discovered', clientId: 'client', clientSecret: { source: 'local', value: 'discovered-secret' }, issuer: 'https://login.example.com/tenant' });
    const token: AcquiredToken = { accessToken: 'a-token', expiresInSeconds: 60, expiresInDefaulted: false };
    assert.equal(await tracedTokenRequest(() => Promise.resolve(token))({ config }), token);
    assert.deepEqual(lastSpan()?.attributes, { 'temporal_oauth.server': 'Discovered', 'temporal_oauth.issuer': 'https://login.example.com/tenant', 'temporal_oauth.outcome': 'ok' });
  });
});
