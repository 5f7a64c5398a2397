import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WorkflowNotFoundError } from '@temporalio/client';
import { signalEach } from '../../src/activities/tell-dependents';
import { assertAsyncProperty } from '../support/generated-cases';

/** A dependent's fate: how many of its signals fail before one gets through, or that it has ended. */
type Fate = { fails: number } | 'ended';

describe('telling dependents, signal by signal (pure)', () => {
  it('sends again only the signals that failed, up to four passes, reports ended dependents, and keeps within the signals in flight', async () => {
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ fails: fc.nat({ max: 5 }) }), fc.constant<Fate>('ended')), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (fates, signalsInFlight) => {
          const ids = fates.map((_, index) => `dependent-${index}`);
          const sent = new Map<string, number>();
          const pauses: number[] = [];
          let inFlight = 0;
          let mostInFlight = 0;
          const send = async (workflowId: string) => {
            inFlight += 1;
            mostInFlight = Math.max(mostInFlight, inFlight);
            await Promise.resolve();
            inFlight -= 1;
            const count = (sent.get(workflowId) ?? 0) + 1;
            sent.set(workflowId, count);
            const fate = fates[ids.indexOf(workflowId)]!;
            if (fate === 'ended') throw new WorkflowNotFoundError('gone', workflowId, undefined);
            if (count <= fate.fails) throw new Error('Failed to signal Workflow');
          };
          const outcome = await signalEach(ids, send, { signalsInFlight, heartbeat: () => undefined, pause: (ms) => Promise.resolve(void pauses.push(ms)) }).then(
            (result) => result,
            (error: unknown) => error,
          );
          assert.ok(mostInFlight <= signalsInFlight);
          const worst = Math.max(0, ...fates.map((fate) => (fate === 'ended' ? 0 : fate.fails)));
          fates.forEach((fate, index) => {
            const expected = fate === 'ended' ? 1 : Math.min(fate.fails + 1, 4);
            assert.equal(sent.get(ids[index]!), expected, `${ids[index]} sent ${sent.get(ids[index]!)} times`);
          });
          assert.deepEqual(pauses, [500, 1_000, 2_000].slice(0, Math.min(worst, 3)));
          if (worst >= 4) {
            const untold = fates.filter((fate) => fate !== 'ended' && fate.fails >= 4).length;
            assert.ok(outcome instanceof Error);
            assert.equal(outcome.message, `could not signal ${untold} of ${ids.length} dependents in 4 passes`);
          } else {
            assert.deepEqual(outcome, { ended: ids.filter((_, index) => fates[index] === 'ended') });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
