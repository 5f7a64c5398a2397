import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createServer } from '../src';
import { CODEC_KEY_FILE_ENV, CODEC_KEYS_ENV } from '../src/codec/codec-keys';
import { testLogger } from './support/captured-logs';
import { keepChildOutput } from './support/child-output';
import { eventually, within } from './support/eventually';
import { callFromWorkflow } from './support/run-workflow';
import { CODEC_KEYS_FIXTURE, testBed, testPlugin } from './support/test-bed';

const USER_WORKFLOWS_PATH = require.resolve('./workflows');

/** The node_modules folders a worker bundling the user's workflows reads: where the user's SDK is, and where the plugin's is. */
function nodeModulesFolders(): string[] {
  const folderOf = (resolved: string) => resolved.slice(0, resolved.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
  return [
    ...new Set([
      folderOf(require.resolve('@temporalio/workflow', { paths: [dirname(USER_WORKFLOWS_PATH)] })),
      folderOf(require.resolve('@temporalio/workflow')),
    ]),
  ];
}

/** Every file and folder under `folder` written at or after `since` (a new entry changes its folder's time too). */
function writtenSince(folder: string, since: number): string[] {
  const written: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.mtimeMs >= since) written.push(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(folder);
  return written;
}

/** The user's workflow and the plugin's both run: the bundle holds both. */
async function servesBothWorkflowSets(taskQueue: string): Promise<void> {
  const bed = testBed();
  const server = bed.serverConfig('client_secret_basic');
  assert.equal((await createServer(bed.client, server, { taskQueue })).status, 'OK');
  assert.equal((await callFromWorkflow(taskQueue, { server: server.name, url: `${bed.api.url}/whoami` })).status, 200);
}

describe('the plugin adds its workflows to a user’s workflows path', () => {
  it('a worker created with the user’s workflows path writes nothing under node_modules, and runs the user’s workflows and the plugin’s', async function () {
    this.timeout(120_000);
    const bed = testBed();
    // File times are kept at a coarser grain on some file systems.
    const since = Date.now() - 5;
    const taskQueue = `tq-${randomUUID()}`;
    const worker = await Worker.create({
      connection: bed.temporal.nativeConnection,
      namespace: bed.temporal.namespace,
      taskQueue,
      workflowsPath: USER_WORKFLOWS_PATH,
      plugins: [testPlugin()],
    });
    await worker.runUntil(() => servesBothWorkflowSets(taskQueue));
    for (const folder of nodeModulesFolders()) assert.deepEqual(writtenSince(folder, since), [], `the worker wrote into ${folder}`);
  });

  it('the bundle holds one copy of the workflow SDK, shared by the user’s workflows and the plugin’s', async function () {
    this.timeout(60_000);
    const { code } = await bundleWorkflowCode({ workflowsPath: USER_WORKFLOWS_PATH, plugins: [testPlugin()], logger: testLogger });
    // A development bundle names each module by its path, in a comment line that starts its entry.
    const modules = [...code.matchAll(/^\/\*\*\*\/ "([^"\n]{1,500})"/gm)].map((match) => match[1] ?? '');
    assert.equal(modules.filter((module) => module.endsWith('@temporalio/workflow/lib/workflow.js')).length, 1, modules.join('\n'));
    assert.ok(modules.some((module) => module.endsWith('src/workflows/oauth-server.js')), 'the plugin’s workflows are missing');
  });

  it('with node_modules mounted read-only, a worker process (the user’s workflows path and the plugin) starts and runs both', async function () {
    this.timeout(180_000);
    // A read-only bind mount needs user and mount namespaces; where they are not allowed, the test above still holds.
    if (spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status !== 0) {
      process.stderr.write('skipped: unshare --user --map-root-user --mount is not allowed here\n');
      this.skip();
    }
    const bed = testBed();
    const taskQueue = `tq-${randomUUID()}`;
    const env: NodeJS.ProcessEnv = { ...process.env, [CODEC_KEY_FILE_ENV]: CODEC_KEYS_FIXTURE };
    delete env[CODEC_KEYS_ENV];
    // Every node_modules read-only, proven by a write that must fail, then the user's worker in its place.
    const script = [
      'for folder in "$@"; do [ "$folder" = -- ] && break; mount --bind "$folder" "$folder" && mount -o remount,bind,ro "$folder" || exit 96;',
      'if touch "$folder/.temporal-oauth-write-probe" 2>/dev/null; then exit 97; fi; done',
      'while [ "$1" != -- ]; do shift; done; shift; exec "$@"',
    ].join('\n');
    const worker = join(__dirname, 'support', 'worker-process.js');
    const child = spawn(
      'unshare',
      ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', ...nodeModulesFolders(), '--', process.execPath, worker, bed.temporal.address, bed.temporal.namespace, taskQueue],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = keepChildOutput(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const failedEarly = exited.then((code): never => assert.fail(`the worker process exited with ${code} before it ran: …${output.tail().slice(-1_500)}`));
    try {
      await within(
        Promise.race([eventually(() => /^ready /m.test(output.tail()) || undefined, { what: 'the worker process to be ready', timeoutMs: 150_000 }), failedEarly]),
        155_000,
        'the worker process start',
      );
      await Promise.race([servesBothWorkflowSets(taskQueue), failedEarly]);
      child.kill('SIGTERM');
      assert.equal(await within(exited, 30_000, 'the worker process shutdown'), 0, output.tail());
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
