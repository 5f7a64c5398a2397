import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { createServer } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { eventTimeMs } from './support/event-time';
import { eventually, within } from './support/eventually';
import { callFromWorkflow } from './support/run-workflow';
import { API_SCOPES, testBed, type TestBed } from './support/test-bed';
import { forwardTokenRequest, startRecordingProxy, startScriptedEndpoint } from './support/token-endpoints';
import { startTestWorkerProcess } from './support/test-worker-processes';
import type { WorkerProcess } from './support/worker-processes';
import { workersRunningActivities } from './support/workers-running';
import type { callMany, CallOutcome } from './workflows';

const { EventType } = temporal.api.enums.v1;

/** The update-accepted events of a server's workflow, by update name. */
async function acceptedUpdates(bed: TestBed, server: string): Promise<string[]> {
  const history = await bed.client.workflow.getHandle(serverWorkflowId(server)).fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    .map((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? '?');
}

function tally(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function outcomeTally(outcomes: CallOutcome[]): Record<string, number> {
  return tally(outcomes.map((outcome) => ('status' in outcome ? String(outcome.status) : outcome.failure)));
}

describe('token economy', () => {
  it('a cold start of 1,000 concurrent webServiceCalls on two worker processes makes exactly one token request', async function () {
    this.timeout(300_000);
    const bed = testBed();
    const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES });
    let tokenRequestArrived!: () => void;
    const firstTokenRequest = new Promise<void>((resolve) => (tokenRequestArrived = resolve));
    let tokenAnsweredAt: number | undefined;
    const workflowId = `calls-${randomUUID()}`;
    // Held on purpose until calls on both workers wait for it, so that the calls meet the server
    // while its first token request is under way, however slowly this machine starts them.
    const endpoint = await startScriptedEndpoint(async (request, body) => {
      tokenRequestArrived();
      await eventually(async () => (await workersRunningActivities(bed.client.workflow.getHandle(workflowId)).catch(() => new Set())).size >= 2, {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: 'calls on both workers waiting for the first token',
      }).catch(() => undefined);
      const response = await forwardTokenRequest(bed.authorizationServer.tokenEndpoint, request, body);
      tokenAnsweredAt ??= Date.now();
      return response;
    });
    let child: WorkerProcess | undefined;
    try {
      await bed.withWorker(async (taskQueue) => {
        child = await startTestWorkerProcess(bed.temporal, taskQueue);
        const config = bed.serverConfig('client_secret_basic', {
          accessTokenUrl: endpoint.url,
          clientId: client.clientId,
          clientSecret: { source: 'local', value: client.secret },
        });
        const callsBefore = bed.api.calls.length;
        let created = false;
        const creation = createServer(bed.client, config, { taskQueue }).finally(() => (created = true));
        // Not a sleep: the server workflow exists and its token request is held by the endpoint above.
        await within(firstTokenRequest, 30_000, "the server's first token request");
        assert.equal(created, false);

        const outcomes = await bed.client.workflow.execute<typeof callMany>('callMany', {
          taskQueue,
          workflowId,
          args: [{ server: config.name, url: `${bed.api.url}/whoami` }, 1_000],
          workflowExecutionTimeout: '3 minutes',
        });
        assert.equal((await creation).status, 'OK');
        assert.equal(outcomes.length, 1_000);
        assert.deepEqual(outcomeTally(outcomes), { 200: 1_000 });
        assert.equal(endpoint.requests.length, 1, 'token requests');

        // The resource API saw the 1,000 calls, all with the one token.
        const seen = bed.api.calls.slice(callsBefore).filter((call) => call.clientId === client.clientId);
        assert.equal(seen.length, 1_000);
        assert.deepEqual(tally(seen.map((call) => `${call.status}`)), { 200: 1_000 });
        assert.equal(new Set(seen.map((call) => call.tokenSha256)).size, 1);

        // Both processes ran calls: the history names the worker that started each activity.
        const history = await bed.client.workflow.getHandle(workflowId).fetchHistory();
        const started = (history.events ?? []).filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
        const byWorker = tally(started.map((event) => event.activityTaskStartedEventAttributes?.identity ?? '?'));
        const childIdentity = child.identity;
        const childCount = await child.stop();
        assert.equal(started.length, 1_000);
        assert.equal(Object.keys(byWorker).length, 2, JSON.stringify(byWorker));
        assert.ok((byWorker[childIdentity] ?? 0) > 0, `the worker process ran no call: ${JSON.stringify(byWorker)}`);
        assert.equal(byWorker[childIdentity], childCount, 'the worker process counts what the history says it ran');
        assert.ok(1_000 - childCount > 0, `the test's worker ran no call: ${JSON.stringify(byWorker)}`);

        // The calls met the server while its token request was under way, and waited for it by reading
        // its status: no update of theirs took one of the workflow's ten slots.
        const firstStart = Math.min(...started.map(eventTimeMs));
        const updates = await acceptedUpdates(bed, config.name);
        const freshTokenUpdates = updates.filter((name) => name === 'freshToken').length;
        process.stderr.write(
          `      [token economy] calls per worker ${JSON.stringify(byWorker)}; updates accepted ${JSON.stringify(tally(updates))}; ` +
            `first call started ${tokenAnsweredAt === undefined ? '?' : tokenAnsweredAt - firstStart} ms before the token was answered\n`,
        );
        assert.equal(freshTokenUpdates, 0, `updates accepted: ${JSON.stringify(tally(updates))}`);
        assert.ok(tokenAnsweredAt !== undefined && firstStart < tokenAnsweredAt, 'the first call started only after the token was issued');
      });
    } finally {
      await child?.kill();
      await endpoint.close();
    }
  });

  // The 100 waiting calls fill every activity slot of a default worker: the refresh must not need one of them.
  it('100 concurrent calls meet one 401 invalid_token: exactly one extra token request, all 100 succeed', async function () {
    this.timeout(180_000);
    const bed = testBed();
    const client = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES });
    const proxy = await startRecordingProxy(bed.authorizationServer.tokenEndpoint);
    let rejected: string | undefined;
    const rejections = () => bed.api.calls.filter((call) => call.tokenSha256 === rejected && call.status === 401).length;
    // In front of the counting proxy: once the token is revoked, a token request is passed on only
    // after all 100 calls have been refused, so that every call meets the rejection.
    const gate = await startScriptedEndpoint(async (request, body) => {
      if (rejected !== undefined) await eventually(() => rejections() >= 100, { timeoutMs: 20_000, intervalMs: 20 }).catch(() => undefined);
      return forwardTokenRequest(proxy.url, request, body);
    });
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic', {
          accessTokenUrl: gate.url,
          clientId: client.clientId,
          clientSecret: { source: 'local', value: client.secret },
        });
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const call = { server: config.name, url: `${bed.api.url}/whoami` };
        assert.equal((await callFromWorkflow(taskQueue, call)).status, 200);
        const warm = bed.api.calls.filter((seen) => seen.clientId === client.clientId);
        assert.equal(warm.length, 1);
        const oldToken = warm[0]?.tokenSha256;
        assert.ok(oldToken);
        assert.equal(proxy.requests.length, 1);

        const callsBefore = bed.api.calls.length;
        bed.api.rejectToken(oldToken);
        rejected = oldToken;
        const outcomes = await bed.client.workflow.execute<typeof callMany>('callMany', {
          taskQueue,
          workflowId: `calls-${randomUUID()}`,
          args: [call, 100],
          workflowExecutionTimeout: '2 minutes',
        });
        assert.deepEqual(outcomeTally(outcomes), { 200: 100 });
        assert.equal(proxy.requests.length, 2, 'token requests');

        const log = bed.api.calls.slice(callsBefore).filter((seen) => seen.tokenSha256 === oldToken || seen.clientId === client.clientId);
        assert.equal(log.length, 200);
        const refused = log.slice(0, 100);
        const answered = log.slice(100);
        assert.deepEqual(tally(refused.map((seen) => `${seen.status} ${seen.tokenSha256 === oldToken ? 'old' : 'new'}`)), { '401 old': 100 });
        assert.deepEqual(tally(answered.map((seen) => `${seen.status}`)), { 200: 100 });
        const newTokens = new Set(answered.map((seen) => seen.tokenSha256));
        assert.equal(newTokens.size, 1);
        assert.ok(!newTokens.has(oldToken));
      });
    } finally {
      await gate.close();
      await proxy.close();
    }
  });
});
