import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { defineSearchAttributeKey } from '@temporalio/common';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';

// Not TemporalOAuthTestKeyword: servers reserve the Temporal prefix and refuse to register such a name through the
// operator API, though the dev server's --search-attribute flag accepts it.
const TEST_KEYWORD = defineSearchAttributeKey('OAuthTestKeyword', 'KEYWORD');
const INDEXED_VALUE_TYPE_KEYWORD = 2;

describe('startTemporalEnvironment', function () {
  let environment: TemporalEnvironment | undefined;
  let tornDown = false;

  before(async function () {
    // The first run on a machine may build the Temporal CLI.
    this.timeout(20 * 60_000);
    environment = await startTemporalEnvironment({ searchAttributes: [TEST_KEYWORD] });
  });

  after(async function () {
    if (!tornDown) await environment?.teardown();
  });

  function started(): TemporalEnvironment {
    assert.ok(environment, 'the environment did not start');
    return environment;
  }

  it('connects to the server', async function () {
    const { client } = started();
    const info = await client.connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the server reports no version');
  });

  it('registers the search attribute', async function () {
    const { connection, namespace } = started();
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    assert.equal(customAttributes[TEST_KEYWORD.name], INDEXED_VALUE_TYPE_KEYWORD);
  });

  it('leaves no dev server behind after teardown', async function () {
    const env = started();
    if (env.external) this.skip();
    tornDown = true;
    await env.teardown();
    assert.equal(await probePort(env.address), 'refused', `something still listens on ${env.address}`);
    const port = env.address.slice(env.address.lastIndexOf(':') + 1);
    assert.deepEqual(await temporalChildren(port), [], 'its temporal child process is still running');
  });
});

function probePort(address: string): Promise<'refused' | 'connected'> {
  const separator = address.lastIndexOf(':');
  const socket = connect({ host: address.slice(0, separator), port: Number(address.slice(separator + 1)) });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve('refused');
      else reject(error);
    });
  });
}

/** Live (not zombie) children of this process running a temporal server on `port` (the suite's own server runs beside it). */
async function temporalChildren(port: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-ww', '-o', 'ppid=', '-o', 'stat=', '-o', 'args=']);
  return stdout.split('\n').filter((line) => {
    const [ppid, stat] = line.trim().split(/\s+/);
    return Number(ppid) === process.pid && !stat?.startsWith('Z') && line.includes('temporal') && line.includes(`--port ${port} `);
  });
}
