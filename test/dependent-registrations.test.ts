import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createServer, listDependents } from '../src';
import { DependentRegistrations } from '../src/activities/dependent-registrations';
import { serverWorkflowId } from '../src/contract/definitions';
import { ServerFailure } from '../src/contract/failures';
import { DEPENDENTS_BUDGET_BYTES } from '../src/workflows/fan-out-chunks';
import { registerMadeUpDependents } from './support/made-up-dependents';
import { testBed } from './support/test-bed';

describe('a worker’s registrations with a server that carries all the dependents it can', () => {
  it('a batch refused for one newcomer too many still registers those already known and those that fit, and refuses only that one', async function () {
    this.timeout(120_000);
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const config = bed.serverConfig('client_secret_basic');
      assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
      // IDs of 1,000 characters take 1,003 bytes each in the server's list: fill it to within 160 bytes of its budget.
      const filling = Array.from({ length: Math.floor(DEPENDENTS_BUDGET_BYTES / 1_003) }, () => `gone-${randomUUID()}-`.padEnd(1_000, 'x'));
      await registerMadeUpDependents(bed.client.workflow.getHandle(serverWorkflowId(config.name)), filling);
      const room = DEPENDENTS_BUDGET_BYTES - filling.length * 1_003;
      assert.ok(room > 60 && room < 1_003, `room for ${room} bytes`);

      const registrations = new DependentRegistrations();
      const register = (workflowId: string) => registrations.register(bed.client, config.name, workflowId, new AbortController().signal);
      const short = () => `short-${randomUUID()}`.slice(0, 20);
      // The first goes alone; the three after it, registered meanwhile, go together in the next batch.
      const first = register(short());
      const known = register(filling[0]!);
      const tooLong = register(`long-${randomUUID()}`.padEnd(room, 'y')).then(
        () => undefined,
        (error: unknown) => error,
      );
      const fitting = short();
      const fits = register(fitting);

      assert.equal((await first).status, 'OK');
      assert.equal((await known).status, 'OK');
      assert.equal((await fits).status, 'OK');
      const refusal = await tooLong;
      assert.ok(refusal instanceof WorkflowUpdateFailedError && refusal.cause instanceof ApplicationFailure, 'the newcomer past the budget was registered');
      assert.equal(refusal.cause.type, ServerFailure.TooManyDependents);
      assert.match(refusal.cause.message, /the 1 registering would need \d+ more/);
      const dependents = await listDependents(bed.client, config.name);
      assert.equal(dependents.length, filling.length + 2);
      assert.ok(dependents.includes(fitting));
    });
  });
});
