import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { serverWorkflowId } from '../src/contract/definitions';
import { eventually, within } from './support/eventually';
import { runProcess, type Finished } from './support/run-process';
import { API_SCOPES, CODEC_KEYS_FIXTURE, testBed } from './support/test-bed';

const REPOSITORY = resolve(__dirname, '../..');
const NPM_TIMEOUT_MS = 100_000;

/** The quick start's files, exactly as the README shows them: each TypeScript block that starts with `// <file>.ts`. */
function quickStartFiles(): Map<string, string> {
  const readme = readFileSync(join(REPOSITORY, 'README.md'), 'utf8');
  const files = new Map<string, string>();
  for (const [, file, code] of readme.matchAll(/```ts\n\/\/ ([\w-]+\.ts)\n([\s\S]*?)```/g)) files.set(file!, code!);
  return files;
}

function expectSuccess(run: Finished, what: string): void {
  assert.equal(run.code, 0, `${what}: exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}

/**
 * The quick start's server has a fixed name: one left by an earlier run on a reused Temporal server
 * (or by a failed one, whose worker is gone and cannot run a delete) is ended outright.
 */
async function endQuickStartServer(): Promise<void> {
  await testBed()
    .client.workflow.getHandle(serverWorkflowId('crm'))
    .terminate('the package test starts from no server')
    .catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    });
}

describe('the published package', () => {
  let scratch: string;
  let tarball: string;
  let packedFiles: string[];

  before(async function () {
    this.timeout(4 * NPM_TIMEOUT_MS);
    scratch = mkdtempSync(join(tmpdir(), 'temporal-oauth-app-'));
    // The suite has just built dist: pack it as it is, since prepack's build would rewrite dist under the running tests.
    const packed = await runProcess('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: REPOSITORY, timeoutMs: NPM_TIMEOUT_MS });
    expectSuccess(packed, 'npm pack');
    const [pack] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, pack!.filename);
    packedFiles = pack!.files.map((file) => file.path);
  });

  after(async () => {
    await endQuickStartServer();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ships the built code with its types, the README and the LICENSE, and nothing else', () => {
    const files = packedFiles;
    assert.ok(files.includes('dist/src/index.js') && files.includes('dist/src/index.d.ts') && files.includes('dist/src/workflow.d.ts'));
    assert.ok(files.includes('dist/src/cli/main.js'), 'the bin is not shipped');
    assert.ok(files.includes('src/admin-page/static/index.html'), 'the admin page is not shipped');
    const unexpected = files.filter(
      (file) =>
        !['README.md', 'LICENSE', 'package.json'].includes(file) &&
        !file.startsWith('src/admin-page/static/') &&
        !(/^dist\/src\/.+\.(js|d\.ts)$/.test(file) && !/^dist\/src\/(demo|dev-server|temporal-cli)\//.test(file)),
    );
    assert.deepEqual(unexpected, []);
    const manifest = JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    assert.equal(manifest.private, undefined);
    for (const name of Object.keys(manifest.dependencies ?? {})) assert.ok(!name.startsWith('@temporalio/') && name !== 'oidc-provider', `${name} is a runtime dependency`);
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) assert.equal(range, '^1.24.0', name);
  });

  it("installs into an app outside the repository, whose README quick start (worker, workflow, client) compiles, runs and calls the API; a typo in the configuration does not compile; the bin works", async function () {
    this.timeout(4 * NPM_TIMEOUT_MS);
    const bed = testBed();
    await endQuickStartServer();
    const files = quickStartFiles();
    assert.deepEqual([...files.keys()].sort(), ['client.ts', 'worker.ts', 'workflows.ts']);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'quick-start-app', private: true }));
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'node16', target: 'es2023', strict: true, outDir: 'dist', rootDir: 'src', skipLibCheck: true, types: ['node'] }, include: ['src'] }),
    );
    mkdirSync(join(scratch, 'src'));
    for (const [file, code] of files) writeFileSync(join(scratch, 'src', file), code);

    const installed = await runProcess(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball]
        .concat(['@temporalio/client', '@temporalio/worker', '@temporalio/workflow', '@temporalio/activity', '@temporalio/common', '@temporalio/envconfig'])
        .concat(['typescript', '@types/node']),
      { cwd: scratch, timeoutMs: NPM_TIMEOUT_MS },
    );
    expectSuccess(installed, 'npm install');
    const tsc = join(scratch, 'node_modules/.bin/tsc');
    expectSuccess(await runProcess(tsc, ['-p', '.'], { cwd: scratch }), 'tsc on the quick start');

    const typo = (files.get('client.ts') ?? '').replace('accessTokenUrl: CRM_TOKEN_URL', 'accesTokenUrl: CRM_TOKEN_URL');
    writeFileSync(join(scratch, 'src', 'client.ts'), typo);
    const refused = await runProcess(tsc, ['-p', '.', '--noEmit'], { cwd: scratch });
    assert.notEqual(refused.code, 0, 'a configuration with accesTokenUrl compiled');
    assert.match(refused.stdout, /'accesTokenUrl' does not exist in type/);

    const { clientId, secret } = await bed.registerClient({ authMethod: 'client_secret_basic', scope: API_SCOPES });
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: bed.temporal.address, TEMPORAL_NAMESPACE: bed.temporal.namespace, TEMPORAL_OAUTH_CODEC_KEY_FILE: CODEC_KEYS_FIXTURE };
    delete env.TEMPORAL_OAUTH_CODEC_KEYS;
    const worker = spawn(process.execPath, ['dist/worker.js'], { cwd: scratch, env: { ...env, CRM_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
    let workerOutput = '';
    worker.stdout.on('data', (chunk: Buffer) => (workerOutput += chunk.toString('utf8')));
    worker.stderr.on('data', (chunk: Buffer) => (workerOutput += chunk.toString('utf8')));
    const workerExited = new Promise<number | null>((done) => worker.once('exit', (code) => done(code)));
    try {
      await eventually(() => workerOutput.includes('Worker running on task queue crm-sync') || undefined, { timeoutMs: 60_000, what: `the worker starting:\n${workerOutput}` });
      const client = await runProcess(process.execPath, ['dist/client.js'], {
        cwd: scratch,
        env: { ...env, CRM_CLIENT_ID: clientId, CRM_TOKEN_URL: bed.authorizationServer.tokenEndpoint, CRM_SCOPE: API_SCOPES, CRM_API_URL: `${bed.api.url}/whoami` },
      });
      expectSuccess(client, 'the quick start client');
      assert.match(client.stdout, /^OAuth server crm: OK/m);
      assert.match(client.stdout, new RegExp(`"client_id":"${clientId}"`), 'the workflow did not return what the API answered');

      const shown = await runProcess(join(scratch, 'node_modules/.bin/temporal-oauth'), ['servers', 'show', 'crm'], { cwd: scratch, env });
      expectSuccess(shown, 'the installed bin');
      assert.match(shown.stdout, /Status: +OK/);
      assert.match(shown.stdout, /Client secret: +external \(env:CRM_SECRET\)/);

      const deleted = await runProcess(join(scratch, 'node_modules/.bin/temporal-oauth'), ['servers', 'delete', 'crm', '--force'], { cwd: scratch, env });
      expectSuccess(deleted, 'the installed bin deleting the server');

      worker.kill('SIGINT');
      assert.equal(await within(workerExited, 30_000, 'the worker stopping on Ctrl-C'), 0, workerOutput);
      for (const output of [workerOutput, client.stdout, client.stderr, shown.stdout]) assert.ok(!output.includes(secret), 'the quick start printed the secret');
    } finally {
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await workerExited;
    }
  });
});
