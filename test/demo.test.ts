import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually, within } from './support/eventually';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function refuses(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  return new Promise((answer) => {
    socket.once('connect', () => {
      socket.destroy();
      answer(false);
    });
    socket.once('error', () => answer(true));
  });
}

describe('the main job (npm start)', () => {
  it('starts everything, reaches OK, calls the API, imports the demo records, prints every URL, keeps its secrets to itself, and stops on Ctrl-C leaving nothing running', async function () {
    this.timeout(180_000);
    const stateDir = mkdtempSync(join(tmpdir(), 'temporal-oauth-demo-'));
    const ports = { TEMPORAL_PORT: 0, TEMPORAL_UI_PORT: 0, DEMO_AUTH_PORT: 0, DEMO_API_PORT: 0, DEMO_CODEC_PORT: 0, DEMO_ADMIN_PORT: 0 };
    for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_OAUTH_DEMO_STATE_DIR: stateDir };
    for (const [name, port] of Object.entries(ports)) env[name] = String(port);
    // Its own process group, as in a terminal, so that Ctrl-C reaches the dev server too.
    const demo = spawn(process.execPath, [resolve(__dirname, '../src/demo/main.js')], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => demo.once('exit', (code) => done(code)));
    const printed = (pattern: RegExp, what: string) =>
      eventually(() => pattern.exec(output) ?? undefined, { timeoutMs: 120_000, intervalMs: 200, what: `${what}; output so far:\n${output}` });
    try {
      await printed(/Running\. Press Ctrl-C to stop\./, 'the demo running');
      assert.match(output, /OAuth server "Demo API": OK/);
      assert.match(output, /webServiceCall GET \S+\/whoami → \{"client_id":"demo-client"/);
      await printed(/Import source demo-import: completed, 1000 records imported/, 'the demo import completed');

      const external = Boolean(process.env.TEMPORAL_ADDRESS);
      if (!external) {
        assert.match(output, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:${ports.TEMPORAL_UI_PORT}`));
        assert.equal((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status, 200);
      }
      const issuer = `http://127.0.0.1:${ports.DEMO_AUTH_PORT}`;
      assert.match(output, new RegExp(`Authorization server +${issuer.replace(/\./g, '\\.')}`));
      assert.equal((await fetch(`${issuer}/.well-known/openid-configuration`)).status, 200);
      assert.match(output, new RegExp(`Resource API +http://127\\.0\\.0\\.1:${ports.DEMO_API_PORT}`));
      assert.equal((await fetch(`http://127.0.0.1:${ports.DEMO_API_PORT}/whoami`)).status, 401, 'the API answered without a token');
      assert.match(output, new RegExp(`decoded by http://127\\.0\\.0\\.1:${ports.DEMO_CODEC_PORT}`));
      assert.match(output, new RegExp(`OAuth servers page +http://127\\.0\\.0\\.1:${ports.DEMO_ADMIN_PORT} \\(log in with the password in ${join(stateDir, 'admin-password')}\\)`));
      assert.equal((await fetch(`http://127.0.0.1:${ports.DEMO_ADMIN_PORT}/`, { redirect: 'manual' })).headers.get('location'), '/login');

      // The demo's secret, codec key and codec credential are files of its state folder, never lines of its output.
      const kept = readdirSync(stateDir)
        .filter((file) => !file.startsWith('dev-server.db'))
        .map((file) => readFileSync(join(stateDir, file), 'utf8').trim());
      assert.ok(kept.length >= 3, `the state folder holds ${kept.length} secrets`);
      for (const secret of kept) assert.ok(!output.includes(secret), 'the demo printed one of its secrets');

      process.kill(-demo.pid!, 'SIGINT');
      assert.equal(await within(exited, 30_000, 'the demo stopping on Ctrl-C'), 0, `the demo failed to stop cleanly:\n${output}`);
      for (const [name, port] of Object.entries(ports)) {
        // An external Temporal server is not the demo's to stop.
        if (external && name.startsWith('TEMPORAL_')) continue;
        assert.ok(await refuses(port), `${name} ${port} still answers after the demo stopped`);
      }
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid!, 'SIGKILL');
      await exited;
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
