import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { defineSearchAttributeKey } from '@temporalio/common';
import { startTemporalEnvironment, type TemporalEnvironment } from '../src/dev-server/temporal-environment';

// Not TemporalOAuthTestKeyword: servers reserve the Temporal prefix and refuse to register such a name through the
// operator API, though the dev server's --search-attribute flag accepts it.
const TEST_KEYWORD = defineSearchAttributeKey('OAuthTestKeyword', 'KEYWORD');
const EXTERNAL_TEST_KEYWORD = defineSearchAttributeKey('OAuthTestExternalKeyword', 'KEYWORD');
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

  it('with TEMPORAL_ADDRESS, uses that server: starts none, registers the search attributes there, and its teardown leaves the server running', async function () {
    const { address, namespace, connection } = started();
    const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
    const childrenBefore = await temporalChildren();
    process.env.TEMPORAL_ADDRESS = address;
    process.env.TEMPORAL_NAMESPACE = namespace;
    let external: TemporalEnvironment | undefined;
    try {
      external = await startTemporalEnvironment({ searchAttributes: [TEST_KEYWORD, EXTERNAL_TEST_KEYWORD] });
      assert.equal(external.external, true);
      assert.equal(external.address, address);
      assert.equal(external.namespace, namespace);
      assert.deepEqual(await temporalChildren(), childrenBefore, 'a dev server was started beside the one named');
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      assert.equal(customAttributes[EXTERNAL_TEST_KEYWORD.name], INDEXED_VALUE_TYPE_KEYWORD);
    } finally {
      for (const [name, value] of [['TEMPORAL_ADDRESS', saved.address], ['TEMPORAL_NAMESPACE', saved.namespace]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await external?.teardown();
    }
    assert.ok((await connection.workflowService.getSystemInfo({})).serverVersion, 'the server went down with the external teardown');
  });

  it('leaves no dev server behind after teardown', async function () {
    const env = started();
    if (env.external) this.skip();
    tornDown = true;
    await env.teardown();
    assert.equal(await probePort(env.address), 'refused', `something still listens on ${env.address}`);
    const port = env.address.slice(env.address.lastIndexOf(':') + 1);
    assert.deepEqual(
      (await temporalChildren()).filter((line) => line.includes(`--port ${port} `)),
      [],
      'its temporal child process is still running',
    );
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

/**
 * Live (not zombie) temporal servers this process started (the suite's own server runs beside this
 * file's), as PID and command line: not their state, which turns from sleeping to running and back
 * as they work, so that two listings of the same servers compare equal.
 */
async function temporalChildren(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-ww', '-o', 'ppid=', '-o', 'stat=', '-o', 'pid=', '-o', 'args=']);
  return stdout.split('\n').flatMap((line) => {
    const [ppid, stat, pid, ...args] = line.trim().split(/\s+/);
    const command = args.join(' ');
    const live = Number(ppid) === process.pid && !stat?.startsWith('Z') && command.includes('temporal') && command.includes('--port ');
    return live ? [`${pid} ${command}`] : [];
  });
}
