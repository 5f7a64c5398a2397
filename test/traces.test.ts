import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { Worker } from '@temporalio/worker';
import { createServer, WebServiceCallFailure, type WebServiceCallInput } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { generateClientSecret } from '../src/demo/authorization-server';
import { eventually } from './support/eventually';
import { startInMemoryTraces, type InMemoryTraces } from './support/in-memory-traces';
import { failureTypeOf } from './support/run-workflow';
import { testBed, testPlugin } from './support/test-bed';
import type { callOnce } from './workflows';

/** The span the Temporal interceptor opens around each run of an activity of `workflowId`. */
function activitySpan(spans: ReadableSpan[], activityType: string, workflowId: string): ReadableSpan | undefined {
  return spans.find((span) => span.name === `RunActivity:${activityType}` && span.attributes.temporalWorkflowId === workflowId);
}

function childOf(spans: ReadableSpan[], parent: ReadableSpan, name: string): ReadableSpan | undefined {
  return spans.find((span) => span.name === name && span.parentSpanId === parent.spanContext().spanId);
}

/** The plugin's span under the activity's span of `workflowId`, waiting for both to end. */
function pluginSpan(traces: InMemoryTraces, activityType: string, workflowId: string, name: string): Promise<{ activity: ReadableSpan; span: ReadableSpan }> {
  return eventually(
    () => {
      const spans = traces.spans();
      const activity = activitySpan(spans, activityType, workflowId);
      const span = activity && childOf(spans, activity, name);
      return span && activity && { activity, span };
    },
    { what: `a ${name} span under RunActivity:${activityType} of ${workflowId}`, timeoutMs: 10_000 },
  );
}

/** Every text a span exporter would send: names, attribute values, events, links, status messages. */
function exportedText(span: ReadableSpan): string {
  return JSON.stringify([span.name, span.attributes, span.status, span.events, span.links.map((link) => link.attributes), span.resource.attributes]);
}

describe('traces (OpenTelemetry)', () => {
  let traces: InMemoryTraces;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  /** Values in the URLs the calls send, which no span may hold. */
  const queryValues: string[] = [];

  before(async () => {
    const bed = testBed();
    traces = startInMemoryTraces();
    // As the README tells users: the SDK's own plugin beside temporal-oauth's, on the client and the worker.
    const tracing = new OpenTelemetryPlugin({ resource: traces.provider.resource, spanProcessor: traces.processor });
    client = new Client({ connection: bed.temporal.connection, namespace: bed.temporal.namespace, plugins: [testPlugin(), tracing] });
    taskQueue = `tq-${randomUUID()}`;
    worker = await Worker.create({
      connection: bed.temporal.nativeConnection,
      namespace: bed.temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('./workflows'),
      plugins: [testPlugin(), tracing],
    });
    running = worker.run();
  });

  after(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await traces.close();
  });

  function call(input: WebServiceCallInput) {
    const workflowId = `call-${randomUUID()}`;
    const result = client.workflow.execute<typeof callOnce>('callOnce', { taskQueue, workflowId, args: [input], workflowExecutionTimeout: '2 minutes' });
    return { workflowId, result };
  }

  function assertNothingSecret(): void {
    const bed = testBed();
    const spans = traces.spans();
    assert.ok(spans.length > 0, 'no span was exported');
    const secrets = [...bed.secretsUsed(), ...bed.authorizationServer.issuedAccessTokens(), ...bed.authorizationServer.receivedClientAssertions(), ...queryValues];
    for (const span of spans) {
      const text = exportedText(span);
      for (const secret of secrets) assert.ok(!text.includes(secret), `span ${span.name} holds a secret, a token or a query value`);
    }
  }

  it('a webServiceCall span names the method, the origin, the status and the server, under the activity span of the calling workflow', async () => {
    const bed = testBed();
    const config = bed.serverConfig('client_secret_basic');
    assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
    const inUrl = `k-${randomUUID()}`;
    const inQuery = `q-${randomUUID()}`;
    queryValues.push(inUrl, inQuery);
    const { workflowId, result } = call({ server: config.name, url: `${bed.api.url}/whoami?apiKey=${inUrl}`, query: { cursor: inQuery } });
    assert.equal((await result).status, 200);

    const { activity, span } = await pluginSpan(traces, 'webServiceCall', workflowId, 'webServiceCall');
    const api = new URL(bed.api.origin);
    assert.deepEqual(span.attributes, {
      'temporal_oauth.server': config.name,
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'server.address': api.hostname,
      'server.port': Number(api.port),
      'http.response.status_code': 200,
      'temporal_oauth.outcome': 'ok',
    });
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.equal(span.spanContext().traceId, activity.spanContext().traceId);
    // One trace from the client's start through the workflow to the call: the interceptors carry it across.
    const started = traces.spans().find((candidate) => candidate.name === 'StartWorkflow:callOnce' && candidate.spanContext().traceId === span.spanContext().traceId);
    assert.ok(started, 'the call is not in the trace its workflow was started in');
    assertNothingSecret();
  });

  it('a failed webServiceCall span has status ERROR with the failure type and the status the API answered, never its message', async () => {
    const bed = testBed();
    const config = bed.serverConfig('client_secret_post');
    assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');
    const inUrl = `k-${randomUUID()}`;
    queryValues.push(inUrl);
    const { workflowId, result } = call({ server: config.name, method: 'GET', url: `${bed.api.url}/no-such-route?apiKey=${inUrl}` });
    assert.equal(await failureTypeOf(result), WebServiceCallFailure.HttpClientError);

    const { span } = await pluginSpan(traces, 'webServiceCall', workflowId, 'webServiceCall');
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: WebServiceCallFailure.HttpClientError });
    assert.equal(span.attributes['error.type'], WebServiceCallFailure.HttpClientError);
    assert.equal(span.attributes['temporal_oauth.outcome'], WebServiceCallFailure.HttpClientError);
    assert.equal(span.attributes['http.response.status_code'], 404);
    assert.deepEqual(span.events, []);
    assertNothingSecret();
  });

  it('a token request is a span of its own under the token activity span: server, token endpoint origin, outcome', async () => {
    const bed = testBed();
    const config = bed.serverConfig('client_secret_jwt');
    assert.equal((await createServer(client, config, { taskQueue })).status, 'OK');

    const { activity, span } = await pluginSpan(traces, 'acquireOAuthToken', serverWorkflowId(config.name), 'oauthTokenRequest');
    const endpoint = new URL(bed.authorizationServer.tokenEndpoint);
    assert.deepEqual(span.attributes, {
      'temporal_oauth.server': config.name,
      'url.scheme': 'http',
      'server.address': endpoint.hostname,
      'server.port': Number(endpoint.port),
      'temporal_oauth.outcome': 'ok',
    });
    assert.equal(span.status.code, SpanStatusCode.OK);
    assert.equal(span.spanContext().traceId, activity.spanContext().traceId);
    assertNothingSecret();
  });

  it('a refused token request span says invalid_client and the HTTP status, and holds no part of the secret it sent', async () => {
    const bed = testBed();
    const wrongSecret = generateClientSecret();
    const config = bed.serverConfig('client_secret_basic', { clientSecret: { source: 'local', value: wrongSecret } });
    assert.equal((await createServer(client, config, { taskQueue })).status, 'Error');

    const { span } = await pluginSpan(traces, 'acquireOAuthToken', serverWorkflowId(config.name), 'oauthTokenRequest');
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'invalid_client' });
    assert.equal(span.attributes['error.type'], 'invalid_client');
    assert.equal(span.attributes['http.response.status_code'], 401);
    assert.ok(bed.secretsUsed().includes(wrongSecret));
    assertNothingSecret();
  });
});
