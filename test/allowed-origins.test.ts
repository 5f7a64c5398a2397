import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createServer } from '../src';
import { connectionCounter } from './support/connection-counter';
import { callFromWorkflow } from './support/run-workflow';
import { testBed } from './support/test-bed';

describe('tokens go only to allowed origins', () => {
  it('a call to an origin outside allowedOrigins is refused before any connection is made, naming the origin', async () => {
    const bed = testBed();
    const foreign = await connectionCounter();
    try {
      await bed.withWorker(async (taskQueue) => {
        const config = bed.serverConfig('client_secret_basic');
        assert.equal((await createServer(bed.client, config, { taskQueue })).status, 'OK');
        const error = await callFromWorkflow(taskQueue, { server: config.name, url: `${foreign.origin}/steal` }).then(
          () => assert.fail('the call was made'),
          (failure: unknown) => failure,
        );
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ActivityFailure);
        assert.ok(error.cause.cause instanceof ApplicationFailure);
        assert.equal(error.cause.cause.type, 'OriginNotAllowed');
        assert.match(error.cause.cause.message, new RegExp(foreign.origin));
        assert.equal(foreign.connections(), 0);
      });
    } finally {
      await foreign.close();
    }
  });
});
