import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createServer } from '../src';
import { serverWorkflowId } from '../src/contract/definitions';
import { eventually } from './support/eventually';
import { API_SCOPES, testBed } from './support/test-bed';

const EventType = temporal.api.enums.v1.EventType;

/** The type of every event of the server's history, once it holds `tokens` completed token requests. */
async function historyWithTokens(client: Client, server: string, tokens: number): Promise<{ type: string; activityType?: string }[]> {
  const handle = client.workflow.getHandle(serverWorkflowId(server));
  return eventually(
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const completed = events.filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length;
      if (completed < tokens) return undefined;
      return events.map((event) => ({
        type: String(EventType[event.eventType ?? 0]).replace(/^EVENT_TYPE_/, ''),
        activityType: event.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined,
      }));
    },
    { what: `${tokens} tokens in the history of ${server}`, timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe('the cost of a token refresh to the server’s own history', () => {
  it('a refresh adds 6 events (at most 8): the token’s completion, one workflow task, and the next refresh scheduled in it', async function () {
    this.timeout(120_000);
    const bed = testBed();
    // Refreshed when a third of its 3 s is left: a refresh every 2 s.
    const shortLived = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES, tokenTtlSeconds: 3 });
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic', { clientId: shortLived.clientId, clientSecret: { source: 'local', value: shortLived.secret } });
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
      // The first token comes with the create's update; the second and the third are refreshes, nothing else happening.
      const events = await historyWithTokens(bed.client, config.name, 3);
      const completions = events.flatMap((event, index) => (event.type === 'ACTIVITY_TASK_COMPLETED' ? [index] : []));
      const refresh = events.slice(completions[1]! + 1, completions[2]! + 1);
      process.stderr.write(`      [refresh cost] events per refresh: ${refresh.length} (${refresh.map((event) => event.type).join(', ')})\n`);
      assert.ok(refresh.length <= 8, `${refresh.length} events per refresh`);
      assert.deepEqual(
        refresh.map((event) => event.type),
        [
          'WORKFLOW_TASK_SCHEDULED',
          'WORKFLOW_TASK_STARTED',
          'WORKFLOW_TASK_COMPLETED',
          'ACTIVITY_TASK_SCHEDULED',
          'ACTIVITY_TASK_STARTED',
          'ACTIVITY_TASK_COMPLETED',
        ],
      );
      assert.equal(refresh[3]?.activityType, 'acquireOAuthToken');
    });
  });
});
