import assert from 'node:assert/strict';
import { createServer as listen, type Server } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { createServer } from '../src';
import { callFromWorkflow } from './support/run-workflow';
import { testBed } from './support/test-bed';

/** A TCP listener that only counts connections: any byte of a request sent to it would be a leak. */
async function connectionCounter(): Promise<{ origin: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = listen((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

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
