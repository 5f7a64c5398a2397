import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { createServer, WebServiceCallFailure, type WebServiceCallInput, type WebServiceCallResult } from '../src';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV } from '../src/codec/codec-keys';
import { closeServer, listen } from '../src/http/server-lifecycle';
import { keepChildOutput } from './support/child-output';
import { capturedLogs } from './support/captured-logs';
import { eventually, within } from './support/eventually';
import { callFromWorkflow } from './support/run-workflow';
import { CODEC_KEYS_FIXTURE, testBed } from './support/test-bed';
import type { callWithDefaults } from './workflows';

/** What the resource API's `/echo` route answers: the request as it arrived, minus the token. */
interface Echo {
  method: string;
  headers: Record<string, string | string[]>;
  query: Record<string, string[]>;
  body: string;
  contentType: string | null;
}

interface ApiRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** As sent, duplicates and case included: the parsed `headers` keep only one Content-Type. */
  rawHeaders: string[];
  body: string;
  receivedAt: number;
  /** Settles when the exchange's connection is gone: for an unanswered request, when the client gave up on it. */
  closed: Promise<number>;
}

interface Api {
  origin: string;
  requests: ApiRequest[];
  close(): Promise<void>;
}

/**
 * A web service on its own origin that records every request and answers through `respond` with
 * the raw response, so that it can stall, trickle or stream without end (the scripted endpoints of
 * the support code always answer whole).
 */
async function startApi(respond: (request: ApiRequest, response: ServerResponse) => void): Promise<Api> {
  const requests: ApiRequest[] = [];
  const server = createHttpServer((incoming, response) => {
    const receivedAt = Date.now();
    const closed = new Promise<number>((resolve) => response.once('close', () => resolve(Date.now())));
    void readBody(incoming)
      .then((body) => {
        const request: ApiRequest = {
          method: incoming.method ?? '',
          url: incoming.url ?? '/',
          headers: incoming.headers,
          rawHeaders: incoming.rawHeaders,
          body,
          receivedAt,
          closed,
        };
        requests.push(request);
        respond(request, response);
      })
      .catch(() => incoming.socket.destroy());
  });
  const { port } = await listen(server, 0, '127.0.0.1');
  return { origin: `http://127.0.0.1:${port}`, requests, close: () => closeServer(server) };
}

async function readBody(message: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of message as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function pathOf(request: ApiRequest): string {
  return new URL(request.url, 'http://api').pathname;
}

/** Writes until the client goes away, never ending the body: no limit on the server's side. */
function streamForever(response: ServerResponse): void {
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const pump = (): void => {
    while (!response.destroyed && response.write(chunk));
    if (!response.destroyed) response.once('drain', pump);
  };
  pump();
}

interface WorkerProcess {
  /** Settles as `work` does, unless the process exits first: then rejects with its exit code and last output. */
  whileAlive<T>(work: Promise<T>, what: string): Promise<T>;
  kill(): Promise<void>;
}

/** test/support/worker-process.ts on `taskQueue`, once its worker runs. */
async function startWorkerProcess(taskQueue: string): Promise<WorkerProcess> {
  const bed = testBed();
  const env: NodeJS.ProcessEnv = { ...process.env, [CODEC_KEY_FILE_ENV]: CODEC_KEYS_FIXTURE };
  delete env[CODEC_KEYS_ENV];
  const child = spawn(process.execPath, [join(__dirname, 'support', 'worker-process.js'), bed.temporal.address, bed.temporal.namespace, taskQueue], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = keepChildOutput(child);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`the worker process exited (${code ?? signal})`)));
  // The end of its output is where an uncaught error's stack is.
  const died = (what: string) => exited.then((how): never => assert.fail(`${how} during ${what}: …${output.tail().slice(-1_200)}`));
  const ready = new Promise<void>((resolve) => {
    const look = () => {
      if (/^ready /m.test(output.tail())) resolve();
    };
    child.stdout.on('data', look);
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  await within(Promise.race([ready, died('its start')]), 120_000, 'the worker process start').catch(async (error: unknown) => {
    await kill();
    throw error;
  });
  return { whileAlive: (work, what) => Promise.race([work, died(what)]), kill };
}

/** The ApplicationFailure a failed call workflow carries, and the ActivityFailure around it. */
async function failureOf(call: Promise<unknown>): Promise<{ activity: ActivityFailure; failure: ApplicationFailure }> {
  const error = await call.then(
    () => assert.fail('the call succeeded'),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof WorkflowFailedError, String(error));
  assert.ok(error.cause instanceof ActivityFailure, String(error.cause));
  assert.equal(error.cause.activityType, 'webServiceCall');
  assert.ok(error.cause.cause instanceof ApplicationFailure, String(error.cause.cause));
  return { activity: error.cause, failure: error.cause.cause };
}

/**
 * A workflow author's call under the helper's default retry policy (five attempts): a failure that
 * Temporal would retry shows up as MAXIMUM_ATTEMPTS_REACHED, one that it must not as NON_RETRYABLE_FAILURE.
 */
function callWithDefaultRetries(taskQueue: string, input: WebServiceCallInput): Promise<WebServiceCallResult> {
  return testBed().client.workflow.execute<typeof callWithDefaults>('callWithDefaults', {
    taskQueue,
    workflowId: `call-${randomUUID()}`,
    args: [input],
    workflowExecutionTimeout: '2 minutes',
  });
}

/** A configured OAuth server whose tokens may go to `origins`, created on the worker's task queue. */
async function serverFor(taskQueue: string, origins: string[]): Promise<string> {
  const bed = testBed();
  const config = bed.serverConfig('client_secret_basic', { allowedOrigins: origins });
  assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
  return config.name;
}

/** Input the TypeScript types forbid, as a workflow written in plain JavaScript or fed from data could pass. */
function untyped(input: Record<string, unknown>): WebServiceCallInput {
  return input as unknown as WebServiceCallInput;
}

describe('webServiceCall: request in, response out', () => {
  describe('what the API receives', () => {
    it('POST with a JSON body, a custom header and query parameters: the API gets them all as sent; the caller gets status, headers and the parsed JSON', async () => {
      const bed = testBed();
      await bed.withWorker(async (taskQueue) => {
        const server = await serverFor(taskQueue, [bed.api.origin]);
        const tag = randomUUID();
        const json = { order: { id: 'A-1', lines: [1, 2.5, null], rush: false }, note: 'Zoë ✓' };
        const echoCallsBefore = bed.api.calls.filter((call) => call.path === '/echo').length;

        const result = await callFromWorkflow(taskQueue, {
          server,
          method: 'POST',
          url: `${bed.api.url}/echo?keep=yes`,
          headers: { 'x-request-tag': tag },
          query: { page: 2, tags: ['a', 'b c&d'], exact: true },
          body: { json },
        });

        assert.equal(result.status, 200);
        assert.equal(result.bodyType, 'json');
        assert.match(result.headers['content-type'] ?? '', /^application\/json/);
        assert.equal(result.headers['cache-control'], 'no-store');
        const echoed = result.body as Echo;
        assert.equal(echoed.method, 'POST');
        assert.equal(echoed.contentType, 'application/json');
        assert.equal(echoed.headers['x-request-tag'], tag);
        // The URL's own query is kept; an array repeats its name; numbers and booleans go as text.
        assert.deepEqual(echoed.query, { keep: ['yes'], page: ['2'], tags: ['a', 'b c&d'], exact: ['true'] });
        assert.deepEqual(JSON.parse(echoed.body), json);

        // The API let the call through on the configured client's token, once.
        const echoCalls = bed.api.calls.filter((call) => call.path === '/echo').slice(echoCallsBefore);
        assert.equal(echoCalls.length, 1);
        assert.equal(echoCalls[0]?.status, 200);
        assert.equal(echoCalls[0]?.clientId, bed.clients.client_secret_basic.clientId);
      });
    });

    it('form, text and base64 bodies arrive encoded and labelled as documented; a caller\'s content-type header replaces the default label', async () => {
      const bed = testBed();
      await bed.withWorker(async (taskQueue) => {
        const server = await serverFor(taskQueue, [bed.api.origin]);
        const echo = async (body: WebServiceCallInput['body'], headers: Record<string, string> = {}): Promise<Echo> => {
          const result = await callFromWorkflow(taskQueue, { server, method: 'POST', url: `${bed.api.url}/echo`, body, headers });
          assert.equal(result.status, 200);
          return result.body as Echo;
        };

        const form = { name: 'Zoë & co', 'a+b': '1=2', empty: '' };
        const formEcho = await echo({ form });
        assert.equal(formEcho.contentType, 'application/x-www-form-urlencoded');
        assert.deepEqual(Object.fromEntries(new URLSearchParams(formEcho.body)), form);

        const text = 'line one\nline two, ünïcode';
        const textEcho = await echo({ text });
        assert.equal(textEcho.contentType, 'text/plain; charset=utf-8');
        assert.equal(textEcho.body, text);

        const csvEcho = await echo({ text: 'a,b\n1,2\n', contentType: 'text/csv' });
        assert.equal(csvEcho.contentType, 'text/csv');
        assert.equal(csvEcho.body, 'a,b\n1,2\n');

        const bytesEcho = await echo({ base64: Buffer.from('raw bytes').toString('base64') });
        assert.equal(bytesEcho.contentType, 'application/octet-stream');
        assert.equal(bytesEcho.body, 'raw bytes');

        // A JSON Merge Patch, say, is JSON under another media type: the header is the only way to say so.
        const patchEcho = await echo({ json: { status: 'closed' } }, { 'content-type': 'application/merge-patch+json' });
        assert.equal(patchEcho.contentType, 'application/merge-patch+json');
        assert.deepEqual(JSON.parse(patchEcho.body), { status: 'closed' });
      });
    });

    it('a caller\'s Content-Type header replaces the default whatever the case of its name, and the API gets exactly one', async () => {
      const bed = testBed();
      const api = await startApi((_request, response) => response.writeHead(204).end());
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const result = await callFromWorkflow(taskQueue, {
            server,
            method: 'PATCH',
            url: `${api.origin}/orders/A-1`,
            headers: { 'Content-Type': 'application/merge-patch+json' },
            body: { json: { status: 'closed' } },
          });
          assert.equal(result.status, 204);
          assert.equal(api.requests.length, 1);
          const rawHeaders = api.requests[0]?.rawHeaders ?? [];
          const contentTypes = rawHeaders.filter((_value, index) => index % 2 === 1 && rawHeaders[index - 1]?.toLowerCase() === 'content-type');
          assert.deepEqual(contentTypes, ['application/merge-patch+json']);
        });
      } finally {
        await api.close();
      }
    });

    it('each method arrives as sent, GET when none is given', async () => {
      const bed = testBed();
      const api = await startApi((request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ method: request.method }));
      });
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
          const results = await Promise.all([
            ...methods.map((method) => callFromWorkflow(taskQueue, { server, method, url: `${api.origin}/by/${method}` })),
            callFromWorkflow(taskQueue, { server, url: `${api.origin}/by/default` }),
          ]);

          const received = Object.fromEntries(api.requests.map((request) => [pathOf(request), request.method]));
          assert.deepEqual(received, { ...Object.fromEntries(methods.map((method) => [`/by/${method}`, method])), '/by/default': 'GET' });
          for (const [index, result] of results.entries()) {
            const method = methods[index] ?? 'GET';
            if (method === 'HEAD') assert.deepEqual([result.body, result.bodyType], [null, 'empty']);
            else assert.deepEqual([result.body, result.bodyType], [{ method }, 'json']);
          }
        });
      } finally {
        await api.close();
      }
    });
  });

  describe('what the caller gets back', () => {
    it('the body comes back by its content type: text and XML as text, +json parsed, binary as base64, nothing as null; the default response headers, others only when named, every one with \'*\'', async () => {
      const bed = testBed();
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
      const api = await startApi((request, response) => {
        const answers: Record<string, [number, Record<string, string>, string | Buffer]> = {
          '/text': [200, { 'content-type': 'text/plain; charset=utf-8', 'x-trace-id': 'trace-1', 'set-cookie': 'session=s3cret' }, 'plain words, {not: "JSON"}'],
          '/xml': [200, { 'content-type': 'application/xml' }, '<order id="A-1"/>'],
          '/problem': [200, { 'content-type': 'application/problem+json' }, '{"title":"fine","n":1}'],
          '/binary': [200, { 'content-type': 'image/png' }, png],
          '/nothing': [204, {}, ''],
        };
        const [status, headers, body] = answers[pathOf(request)] ?? [404, {}, ''];
        response.writeHead(status, headers).end(body);
      });
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const get = (path: string) => callFromWorkflow(taskQueue, { server, url: `${api.origin}${path}` });
          const [text, xml, problem, binary, nothing] = await Promise.all(['/text', '/xml', '/problem', '/binary', '/nothing'].map(get));

          assert.equal(text?.status, 200);
          assert.deepEqual([text?.body, text?.bodyType], ['plain words, {not: "JSON"}', 'text']);
          // The result keeps the default headers and those the call names: no Set-Cookie in the workflow's history.
          assert.deepEqual(Object.keys(text?.headers ?? {}).sort(), ['content-type', 'date']);
          assert.equal(text?.headers['content-type'], 'text/plain; charset=utf-8');
          const traced = await callFromWorkflow(taskQueue, { server, url: `${api.origin}/text`, responseHeaders: ['X-Trace-Id'] });
          assert.equal(traced?.headers['x-trace-id'], 'trace-1');
          assert.equal(traced?.headers['set-cookie'], undefined);
          const everything = await callFromWorkflow(taskQueue, { server, url: `${api.origin}/text`, responseHeaders: '*' });
          assert.equal(everything?.headers['set-cookie'], 'session=s3cret');
          assert.deepEqual([xml?.body, xml?.bodyType], ['<order id="A-1"/>', 'text']);
          assert.deepEqual([problem?.body, problem?.bodyType], [{ title: 'fine', n: 1 }, 'json']);
          assert.deepEqual([binary?.body, binary?.bodyType], [png.toString('base64'), 'base64']);
          assert.deepEqual([nothing?.status, nothing?.body, nothing?.bodyType], [204, null, 'empty']);
        });
      } finally {
        await api.close();
      }
    });

    it('a body labelled JSON that is not JSON fails the call with InvalidResponseBody, not retried', async () => {
      const bed = testBed();
      const api = await startApi((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"cut off'));
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const { activity, failure } = await failureOf(callWithDefaultRetries(taskQueue, { server, url: `${api.origin}/broken` }));
          assert.equal(failure.type, WebServiceCallFailure.InvalidResponseBody);
          assert.match(failure.message, /application\/json/);
          assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE);
          assert.equal(api.requests.length, 1);
        });
      } finally {
        await api.close();
      }
    });
  });

  describe('timeoutMs', () => {
    const TIMEOUT_MS = 1_500;
    /** Time for the failure to travel activity → workflow → client; far below the activity's start-to-close. */
    const REPORT_MARGIN_MS = 5_000;
    /** The client's clock starts before the request reaches the API, and abort and close take a moment. */
    const CLOSE_SLACK_MS = 1_000;

    async function assertTimedOut(api: Api, call: Promise<unknown>): Promise<void> {
      const { activity, failure } = await failureOf(call);
      const reportedAt = Date.now();
      assert.equal(failure.type, WebServiceCallFailure.HttpTransport);
      assert.match(failure.message, /timed out|TIMEOUT/);
      assert.ok(failure.message.includes(api.origin), failure.message);
      // One attempt by the workflow's choice: the activity's own timeout did not end it.
      assert.equal(activity.retryState, RetryState.MAXIMUM_ATTEMPTS_REACHED);

      assert.equal(api.requests.length, 1);
      const request = api.requests[0];
      assert.ok(request);
      const heldMs = (await within(request.closed, CLOSE_SLACK_MS, 'the client dropping the connection')) - request.receivedAt;
      assert.ok(heldMs >= TIMEOUT_MS - 200 && heldMs <= TIMEOUT_MS + CLOSE_SLACK_MS, `the client gave up after ${heldMs} ms`);
      assert.ok(reportedAt - request.receivedAt <= TIMEOUT_MS + REPORT_MARGIN_MS, `the failure came ${reportedAt - request.receivedAt} ms after the request`);
    }

    it('an API that never answers: the call fails with HttpTransport (timed out) after timeoutMs, and the connection is dropped', async () => {
      const bed = testBed();
      const api = await startApi(() => undefined);
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          await assertTimedOut(api, callFromWorkflow(taskQueue, { server, url: `${api.origin}/stuck`, timeoutMs: TIMEOUT_MS }));
        });
      } finally {
        await api.close();
      }
    });

    it('an API whose body trickles on past timeoutMs: the call fails after timeoutMs though bytes keep coming (headers and body together)', async () => {
      const bed = testBed();
      const api = await startApi((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        // Each byte comes well within the timeout, so only a bound on the whole exchange ends this.
        const drip = setInterval(() => response.write('.'), 100);
        response.once('close', () => clearInterval(drip));
      });
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          await assertTimedOut(api, callFromWorkflow(taskQueue, { server, url: `${api.origin}/drip`, timeoutMs: TIMEOUT_MS }));
        });
      } finally {
        await api.close();
      }
    });
  });

  describe('maxResponseBytes', () => {
    const LIMIT = 1024;

    it('a body of exactly the limit comes back; one byte more, or a stream without end, fails with ResponseTooLarge naming the limit, not retried; the worker goes on', async () => {
      const bed = testBed();
      const api = await startApi((request, response) => {
        const path = pathOf(request);
        // writeHead before end: no Content-Length, so the body comes chunked and only counting can stop it.
        if (path === '/exact') response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(LIMIT, 1));
        else if (path === '/streamed') response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(LIMIT + 1, 1));
        else if (path === '/endless') {
          response.writeHead(200, { 'content-type': 'text/plain' });
          streamForever(response);
        } else response.writeHead(404).end();
      });
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin, bed.api.origin]);
          const call = (path: string) => callWithDefaultRetries(taskQueue, { server, url: `${api.origin}${path}`, maxResponseBytes: LIMIT, responseHeaders: ['transfer-encoding'] });

          const exact = await call('/exact');
          assert.equal(exact.headers['transfer-encoding'], 'chunked');
          assert.equal(exact.bodyType, 'base64');
          assert.equal(Buffer.from(exact.body as string, 'base64').byteLength, LIMIT);

          for (const path of ['/streamed', '/endless']) {
            const { activity, failure } = await failureOf(call(path));
            assert.equal(failure.type, WebServiceCallFailure.ResponseTooLarge, path);
            assert.ok(failure.message.includes(`${LIMIT} bytes`), failure.message);
            assert.equal(failure.nonRetryable, true);
            assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE, path);
          }
          assert.deepEqual(api.requests.map(pathOf), ['/exact', '/streamed', '/endless']);
          const endless = api.requests[2];
          assert.ok(endless);
          await within(endless.closed, 5_000, 'the client dropping the endless response');

          const after = await callFromWorkflow(taskQueue, { server, method: 'POST', url: `${bed.api.url}/echo`, body: { text: 'still here' } });
          assert.equal((after.body as Echo).body, 'still here');
        });
      } finally {
        await api.close();
      }
    });

    it('the default limit keeps a result within Temporal\'s 2 MiB payload limit: a 3 MiB body, or text that JSON escaping grows past it, fails with ResponseTooLarge, not retried', async () => {
      const bed = testBed();
      const api = await startApi((request, response) => {
        if (pathOf(request) === '/big') response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(3 * 1024 * 1024, 1));
        // 700 KiB of quotes and control characters, under the default limit, take 2.8 MiB as JSON (\" and \u0001).
        else response.writeHead(200, { 'content-type': 'text/plain' }).end('"\u0001'.repeat(350 * 1024));
      });
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          for (const path of ['/big', '/escaped']) {
            const { activity, failure } = await failureOf(callWithDefaultRetries(taskQueue, { server, url: `${api.origin}${path}` }));
            assert.equal(failure.type, WebServiceCallFailure.ResponseTooLarge, `${path}: ${failure.message}`);
            assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE, path);
          }
          assert.deepEqual(api.requests.map(pathOf), ['/big', '/escaped']);
        });
      } finally {
        await api.close();
      }
    });

    /*
     * The next two run their worker in a process of its own, as a user runs it: what must not happen
     * there is an uncaught error, which ends a worker process (and which, in this one, mocha would
     * pin on whatever test happens to be running).
     */

    it('a declared Content-Length over the limit fails the call with ResponseTooLarge, and the worker process lives on to serve the next call', async function () {
      this.timeout(240_000);
      const api = await startApi((request, response) => {
        if (pathOf(request) === '/declared') response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(LIMIT + 1) }).end(Buffer.alloc(LIMIT + 1, 1));
        else response.writeHead(200, { 'content-type': 'text/plain' }).end('small');
      });
      const taskQueue = `tq-${randomUUID()}`;
      const worker = await startWorkerProcess(taskQueue);
      try {
        const server = await worker.whileAlive(serverFor(taskQueue, [api.origin]), 'creating the server');
        const { activity, failure } = await worker.whileAlive(
          failureOf(callWithDefaultRetries(taskQueue, { server, url: `${api.origin}/declared`, maxResponseBytes: LIMIT })),
          'the call answered too large',
        );
        assert.equal(failure.type, WebServiceCallFailure.ResponseTooLarge);
        assert.ok(failure.message.includes(`${LIMIT} bytes`), failure.message);
        assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE);

        const next = await worker.whileAlive(callFromWorkflow(taskQueue, { server, url: `${api.origin}/small`, maxResponseBytes: LIMIT }), 'the next call');
        assert.equal(next.body, 'small');
        assert.deepEqual(api.requests.map(pathOf), ['/declared', '/small']);
      } finally {
        await worker.kill();
        await api.close();
      }
    });

    it('HEAD of a resource larger than the limit returns its headers: a HEAD response has no body to be too large', async function () {
      this.timeout(240_000);
      const api = await startApi((_request, response) => response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(4 * LIMIT) }).end());
      const taskQueue = `tq-${randomUUID()}`;
      const worker = await startWorkerProcess(taskQueue);
      try {
        const server = await worker.whileAlive(serverFor(taskQueue, [api.origin]), 'creating the server');
        const result = await worker.whileAlive(
          callFromWorkflow(taskQueue, { server, method: 'HEAD', url: `${api.origin}/report.pdf`, maxResponseBytes: LIMIT }),
          'the HEAD call',
        );
        assert.equal(result.status, 200);
        assert.equal(result.headers['content-length'], String(4 * LIMIT));
        assert.deepEqual([result.body, result.bodyType], [null, 'empty']);
      } finally {
        await worker.kill();
        await api.close();
      }
    });
  });

  describe('heartbeats and cancellation', () => {
    it('cancelling the calling workflow aborts the request: the API sees its connection closed long before timeoutMs', async function () {
      this.timeout(90_000);
      const bed = testBed();
      const api = await startApi(() => undefined);
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const handle = await bed.client.workflow.start<typeof callWithDefaults>('callWithDefaults', {
            taskQueue,
            workflowId: `call-${randomUUID()}`,
            args: [{ server, url: `${api.origin}/stuck`, timeoutMs: 120_000 }],
          });
          const request = await eventually(() => api.requests[0], { timeoutMs: 30_000, what: 'the request reaching the API' });
          await handle.cancel();
          // A heartbeat's answer carries the cancellation to the worker: within one heartbeat interval.
          const closedAt = await within(request.closed, 30_000, 'the API seeing the request aborted');
          assert.ok(closedAt - request.receivedAt < 60_000);
          await assert.rejects(handle.result(), WorkflowFailedError);
          // Ended as the SDK cancelled it, not as a failed exchange (logged as a warning, and retried by a shutting-down worker's workflows).
          const ofThisCall = () => capturedLogs.filter((line) => line.includes(handle.workflowId) && / Activity (completed as cancelled|failed) /.test(line));
          const [ending] = await eventually(() => (ofThisCall().length > 0 ? ofThisCall() : undefined), { timeoutMs: 30_000, what: "the worker's log of the call's end" });
          assert.match(ending ?? '', /^DEBUG Activity completed as cancelled /);
        });
      } finally {
        await api.close();
      }
    });

    it('a worker that dies during a call: another worker retries it within the heartbeat timeout, not after minutes', async function () {
      this.timeout(240_000);
      const bed = testBed();
      const api = await startApi((request, response) => {
        // The first attempt hangs (its worker dies meanwhile); the retry is answered.
        if (api.requests.length > 1) response.writeHead(200, { 'content-type': 'text/plain' }).end('answered');
      });
      const taskQueue = `tq-${randomUUID()}`;
      const worker = await startWorkerProcess(taskQueue);
      try {
        const server = await worker.whileAlive(serverFor(taskQueue, [api.origin]), 'creating the server');
        const handle = await bed.client.workflow.start<typeof callWithDefaults>('callWithDefaults', {
          taskQueue,
          workflowId: `call-${randomUUID()}`,
          args: [{ server, url: `${api.origin}/slow`, timeoutMs: 120_000 }],
        });
        await worker.whileAlive(
          eventually(() => api.requests[0], { timeoutMs: 60_000, what: 'the first attempt reaching the API' }),
          'the first attempt',
        );
        await worker.kill();
        const killedAt = Date.now();
        const result = await bed.withWorker(() => within(handle.result(), 60_000, 'the retry on another worker'), { taskQueue });
        assert.equal(result.body, 'answered');
        assert.equal(api.requests.length, 2);
        assert.ok(Date.now() - killedAt < 60_000, `the retry came ${Date.now() - killedAt} ms after the worker died`);
      } finally {
        await worker.kill();
        await api.close();
      }
    });
  });

  describe('bad input', () => {
    /** Fails the test unless the call failed as bad input, at once under the default retry policy, saying which field and why. */
    function assertInvalidInput(label: string, activity: ActivityFailure, failure: ApplicationFailure, issue: RegExp): void {
      assert.equal(failure.type, WebServiceCallFailure.InvalidInput, `${label}: ${failure.type} (${activity.retryState}): ${failure.message}`);
      assert.equal(failure.nonRetryable, true, label);
      assert.equal(activity.retryState, RetryState.NON_RETRYABLE_FAILURE, label);
      const issues = (failure.details?.[0] as { issues?: string[] } | undefined)?.issues ?? [];
      assert.ok(
        issues.some((text) => issue.test(text) && failure.message.includes(text)),
        `${label}: no issue like ${String(issue)} in ${JSON.stringify(issues)} (message: ${failure.message})`,
      );
    }

    it('every kind of bad input fails at once with InvalidWebServiceCallInput naming the field, and no request reaches the API', async () => {
      const bed = testBed();
      const api = await startApi((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('reached'));
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const { host } = new URL(api.origin);
          const valid = { server, method: 'POST', url: `${api.origin}/orders` };
          const cases: Array<{ label: string; input: Record<string, unknown>; issue: RegExp }> = [
            { label: 'no server', input: { url: valid.url }, issue: /^server: / },
            { label: 'ftp URL', input: { ...valid, url: `ftp://${host}/orders` }, issue: /^url: .*http\(s\)/ },
            { label: 'file URL', input: { ...valid, url: 'file:///etc/passwd' }, issue: /^url: .*http\(s\)/ },
            { label: 'relative URL', input: { ...valid, url: '/orders' }, issue: /^url: .*absolute/ },
            { label: 'credentials in the URL', input: { ...valid, url: `http://user:pass@${host}/orders` }, issue: /^url: .*credentials/ },
            { label: 'unknown method', input: { ...valid, method: 'TRACE' }, issue: /^method: .*GET, HEAD, POST/ },
            { label: 'lower-case method', input: { ...valid, method: 'post' }, issue: /^method: / },
            { label: 'negative timeout', input: { ...valid, timeoutMs: -1 }, issue: /^timeoutMs: / },
            { label: 'zero timeout', input: { ...valid, timeoutMs: 0 }, issue: /^timeoutMs: / },
            { label: 'fractional timeout', input: { ...valid, timeoutMs: 1.5 }, issue: /^timeoutMs: / },
            { label: 'timeout in text', input: { ...valid, timeoutMs: '5000' }, issue: /^timeoutMs: / },
            { label: 'timeout over 15 minutes', input: { ...valid, timeoutMs: 16 * 60_000 }, issue: /^timeoutMs: .*15 minutes/ },
            { label: 'negative size limit', input: { ...valid, maxResponseBytes: -1 }, issue: /^maxResponseBytes: / },
            { label: 'size limit over 1 GiB', input: { ...valid, maxResponseBytes: 2 ** 31 }, issue: /^maxResponseBytes: / },
            { label: 'json and form body', input: { ...valid, body: { json: { a: 1 }, form: { a: '1' } } }, issue: /^body: .*\{ json \}, \{ form \}/ },
            { label: 'form with a number', input: { ...valid, body: { form: { a: 1 } } }, issue: /^body: / },
            { label: 'unlabelled body', input: { ...valid, body: 'raw text' }, issue: /^body: / },
            { label: 'base64 body that is not base64', input: { ...valid, body: { base64: 'not base64!' } }, issue: /^body(\.base64)?: / },
            { label: 'Authorization header', input: { ...valid, headers: { AUTHORIZATION: 'Bearer mine' } }, issue: /^headers: .*Authorization/ },
            { label: 'header value not text', input: { ...valid, headers: { 'x-count': 5 } }, issue: /^headers\.x-count: / },
            { label: 'nested query value', input: { ...valid, query: { filter: { status: 'open' } } }, issue: /^query\.filter: / },
            { label: 'misspelt option', input: { ...valid, timeout: 5_000 }, issue: /^\(input\): .*"timeout"/ },
          ];

          const outcomes = await Promise.all(cases.map(({ input }) => failureOf(callWithDefaultRetries(taskQueue, untyped(input)))));
          for (const [index, { activity, failure }] of outcomes.entries()) {
            const { label, issue } = cases[index] ?? assert.fail(`no case ${index}`);
            assertInvalidInput(label, activity, failure, issue);
          }
          assert.deepEqual(api.requests, []);

          // The same server and API do take a well-formed call: the silence above was the input's doing.
          const control = await callFromWorkflow(taskQueue, { server, method: 'POST', url: valid.url });
          assert.equal(control.body, 'reached');
          assert.equal(api.requests.length, 1);
        });
      } finally {
        await api.close();
      }
    });

    it('a header name or value that HTTP cannot carry is bad input too: InvalidWebServiceCallInput naming the header, not a retried transport failure', async function () {
      // Until this holds, each case takes the default policy's five attempts (about 15 s) to fail.
      this.timeout(90_000);
      const bed = testBed();
      const api = await startApi((_request, response) => response.writeHead(204).end());
      try {
        await bed.withWorker(async (taskQueue) => {
          const server = await serverFor(taskQueue, [api.origin]);
          const url = `${api.origin}/orders`;
          const cases: Array<{ label: string; headers: Record<string, string>; issue: RegExp }> = [
            { label: 'space in a header name', headers: { 'x request': 'a' }, issue: /^headers/ },
            { label: 'line break in a header value', headers: { 'x-note': 'a\r\nx-injected: 1' }, issue: /^headers\.x-note/ },
          ];
          const outcomes = await Promise.all(cases.map(({ headers }) => failureOf(callWithDefaultRetries(taskQueue, { server, url, headers }))));
          for (const [index, { activity, failure }] of outcomes.entries()) {
            const { label, issue } = cases[index] ?? assert.fail(`no case ${index}`);
            assertInvalidInput(label, activity, failure, issue);
          }
          assert.deepEqual(api.requests, []);
        });
      } finally {
        await api.close();
      }
    });
  });
});
