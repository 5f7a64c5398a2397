import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { eventually, within } from './support/eventually';
import { runProcess } from './support/run-process';
import { freePort } from './support/free-port';

const REPOSITORY = resolve(__dirname, '../..');


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

/** The main job as a terminal runs it: a process group of its own, so that Ctrl-C reaches every process in it. */
class Job {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd: REPOSITORY, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  printed(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    return eventually(() => pattern.exec(this.output) ?? undefined, { timeoutMs: 150_000, intervalMs: 100, what: `${what}; output so far:\n${this.output}` });
  }

  /**
   * Ctrl-C, and what the job printed from then on: split at its "Stopping…", since lines it wrote
   * before the signal reached it may still be in the pipe when the signal is sent.
   */
  async interrupt(): Promise<{ code: number | null; beforeStopping: string; fromStopping: string }> {
    const before = this.output.length;
    process.kill(-this.child.pid!, 'SIGINT');
    const code = await within(this.exited, 30_000, 'the job stopping on Ctrl-C');
    const after = this.output.slice(before);
    const stoppingAt = Math.max(after.indexOf('Stopping…'), 0);
    return { code, beforeStopping: after.slice(0, stoppingAt), fromStopping: after.slice(stoppingAt) };
  }

  /**
   * After a failed test: Ctrl-C first, since the dev server runs in a session of its own, out of the
   * group's reach, and only the job itself stops it; SIGKILL if the job has not stopped by then.
   */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(-this.child.pid!, 'SIGINT');
    if (await within(this.exited, 30_000, 'the job stopping').then(() => true, () => false)) return;
    process.kill(-this.child.pid!, 'SIGKILL');
    await this.exited;
  }
}

const IMPORT_PROGRESS = /Import source demo-import[^:]*: running, (\d+) records so far/;
const IMPORT_PROGRESS_LINE = new RegExp(`^${IMPORT_PROGRESS.source}$`);

/** "Stopping…" is the last line; before it, only progress lines the job may have written as the signal was sent. */
function assertStoppedQuietly(stopped: { beforeStopping: string; fromStopping: string }): void {
  assert.equal(stopped.fromStopping.trim(), 'Stopping…', 'the demo printed more than that it is stopping');
  const earlier = stopped.beforeStopping.split('\n').filter((line) => line.trim() !== '');
  assert.deepEqual(earlier.filter((line) => !IMPORT_PROGRESS_LINE.test(line)), [], 'the demo printed more than its progress before it said it is stopping');
}

/** The records the job's import reports so far, from its newest progress line. */
function importedSoFar(output: string): number {
  const counts = [...output.matchAll(new RegExp(IMPORT_PROGRESS.source, 'g'))].map((match) => Number(match[1]));
  return counts.at(-1) ?? 0;
}

describe('the main job (npm start)', () => {
  it('starts everything, calls the API, prints every URL and a CLI line that works, shows the import as it goes, stops quietly on Ctrl-C, and a second start continues the same server and import', async function () {
    this.timeout(420_000);
    const stateDir = mkdtempSync(join(tmpdir(), 'temporal-oauth-demo-'));
    const ports = { TEMPORAL_PORT: 0, TEMPORAL_UI_PORT: 0, DEMO_AUTH_PORT: 0, DEMO_API_PORT: 0, DEMO_CODEC_PORT: 0, DEMO_ADMIN_PORT: 0, DEMO_METRICS_PORT: 0 };
    for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
    const records = 3000;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // npm and the job's `node` must be the suite's Node, as `npm start` from a shell with node_modules/.bin first.
      PATH: `${dirname(process.execPath)}:${resolve(REPOSITORY, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
      TEMPORAL_OAUTH_DEMO_STATE_DIR: stateDir,
      DEMO_IMPORT_RECORDS: String(records),
      DEMO_PROGRESS_INTERVAL_MS: '250',
    };
    for (const [name, port] of Object.entries(ports)) env[name] = String(port);
    const external = Boolean(process.env.TEMPORAL_ADDRESS);
    const first = new Job(process.execPath, [resolve(__dirname, '../src/demo/main.js')], env);
    let second: Job | undefined;
    try {
      await first.printed(/Running\. Press Ctrl-C to stop\./, 'the demo running');
      assert.match(first.output, /OAuth server "Demo API": OK/);
      assert.match(first.output, /webServiceCall GET \S+\/whoami → \{"client_id":"demo-client"/);
      // The suite's Temporal CLI is cached: nothing is built, so nothing may say so.
      assert.doesNotMatch(first.output, /build/i);
      if (!external) {
        assert.match(first.output, new RegExp(`Temporal Web UI +http://127\\.0\\.0\\.1:${ports.TEMPORAL_UI_PORT}`));
        assert.equal((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status, 200);
        // The dev server's own banner names localhost URLs and its shutdown is chatty: its log is a file of the state folder.
        assert.doesNotMatch(first.output, /localhost/);
      }
      const issuer = `http://127.0.0.1:${ports.DEMO_AUTH_PORT}`;
      assert.match(first.output, new RegExp(`Authorization server +${issuer.replace(/\./g, '\\.')}`));
      assert.equal((await fetch(`${issuer}/.well-known/openid-configuration`)).status, 200);
      assert.match(first.output, new RegExp(`Resource API +http://127\\.0\\.0\\.1:${ports.DEMO_API_PORT}`));
      assert.equal((await fetch(`http://127.0.0.1:${ports.DEMO_API_PORT}/whoami`)).status, 401, 'the API answered without a token');
      assert.match(first.output, new RegExp(`decoded by http://127\\.0\\.0\\.1:${ports.DEMO_CODEC_PORT}`));
      assert.match(first.output, new RegExp(`OAuth servers page +http://127\\.0\\.0\\.1:${ports.DEMO_ADMIN_PORT} \\(log in with the password in ${join(stateDir, 'admin-password')}\\)`));
      assert.equal((await fetch(`http://127.0.0.1:${ports.DEMO_ADMIN_PORT}/`, { redirect: 'manual' })).headers.get('location'), '/login');
      const metricsUrl = `http://127.0.0.1:${ports.DEMO_METRICS_PORT}/metrics`;
      assert.match(first.output, new RegExp(`Metrics \\(Prometheus\\) +${metricsUrl.replace(/\./g, '\\.')}`));
      // The whoami call, the server's token and its status are on it, once the exporter has caught up.
      const figures: [string, Record<string, string>, (value: number) => boolean][] = [
        ['temporal_oauth_web_service_calls', { server: 'demo api', status_class: '2xx' }, (value) => value >= 1],
        ['temporal_oauth_token_requests', { server: 'demo api', outcome: 'ok' }, (value) => value >= 1],
        ['temporal_oauth_servers', { server: 'demo api', status: 'OK' }, (value) => value === 1],
      ];
      await eventually(
        async () => {
          const lines = (await (await fetch(metricsUrl)).text()).split('\n');
          const shown = ([name, labels, holds]: (typeof figures)[number]) =>
            lines.some((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`)) && holds(Number(line.split(' ').at(-1))));
          return figures.every(shown) || undefined;
        },
        { timeoutMs: 30_000, what: 'the whoami call, the token request and the OK status on the metrics endpoint' },
      );

      // The CLI line works as printed, pasted into a shell in the repository.
      const [, cliLine] = await first.printed(/Admin CLI +(.+)\n/, 'the CLI example');
      assert.match(cliLine ?? '', /^TEMPORAL_ADDRESS=\S+ TEMPORAL_NAMESPACE=\S+ TEMPORAL_OAUTH_CODEC_KEY_FILE=\S+ npx temporal-oauth servers list$/);
      const cliEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TEMPORAL_') || name === 'TEMPORAL_OAUTH_DEMO_STATE_DIR'));
      const listed = await runProcess('sh', ['-c', cliLine ?? ''], { cwd: REPOSITORY, env: cliEnv, timeoutMs: 60_000 });
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /Demo API +Demo +OK/);

      // Progress while the import runs, not only its start and end.
      const midway = await eventually(
        () => {
          const imported = importedSoFar(first.output);
          return imported > 0 && imported < records ? imported : undefined;
        },
        { timeoutMs: 60_000, what: `a progress line part-way through the import; output so far:\n${first.output}` },
      );

      const stopped = await first.interrupt();
      assert.equal(stopped.code, 0, `the demo failed to stop cleanly:\n${first.output}`);
      assertStoppedQuietly(stopped);
      for (const [name, port] of Object.entries(ports)) {
        // An external Temporal server is not the demo's to stop.
        if (external && name.startsWith('TEMPORAL_')) continue;
        assert.ok(await refuses(port), `${name} ${port} still answers after the demo stopped`);
      }

      // The second start goes through npm, as the README says to run it (its prestart, which may install, is left out here).
      second = new Job('npm', ['start', '--ignore-scripts', '--silent'], env);
      await second.printed(/Running\. Press Ctrl-C to stop\./, 'the second start running');
      assert.match(second.output, /OAuth server "Demo API" \(already there, authorized again\): OK/);
      const [, resumedAt] = await second.printed(/Import source demo-import \(from an earlier start\): \w+, (\d+) records/, 'the earlier import taken up');
      assert.ok(Number(resumedAt) >= midway, `the import started again from ${resumedAt} records, below the ${midway} it had reached`);
      await second.printed(new RegExp(`Import source demo-import \\(from an earlier start\\): completed, ${records} records imported`), 'the import completed');
      assert.doesNotMatch(second.output, /Import source demo-import: /, 'a second import was started');

      // The demo's secret, codec keys, codec credential and admin password are files of its state folder, never lines of its output.
      const kept = readdirSync(stateDir)
        .filter((file) => !file.startsWith('dev-server.'))
        .map((file) => readFileSync(join(stateDir, file), 'utf8').trim());
      assert.ok(kept.length >= 4, `the state folder holds ${kept.length} secrets`);
      for (const secret of kept) assert.ok(!first.output.includes(secret) && !second.output.includes(secret), 'the demo printed one of its secrets');

      const stoppedAgain = await second.interrupt();
      assert.equal(stoppedAgain.code, 0, `npm start failed to stop cleanly:\n${second.output}`);
      assertStoppedQuietly(stoppedAgain);
      for (const [name, port] of Object.entries(ports)) {
        if (external && name.startsWith('TEMPORAL_')) continue;
        assert.ok(await refuses(port), `${name} ${port} still answers after the second start stopped`);
      }
    } finally {
      await first.kill();
      await second?.kill();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
