import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { dependentProbe } from './workflows';
import { eventually } from './support/eventually';
import { runProcess, type Finished } from './support/run-process';
import { API_SCOPES, CODEC_KEYS_FIXTURE, testBed } from './support/test-bed';
import { uniqueName } from './support/unique';

const CLI = resolve(__dirname, '../src/cli/main.js');

/** The suite's Temporal server and codec keys, given as a user gives them: in the environment. */
function cliEnvironment(): NodeJS.ProcessEnv {
  const { temporal } = testBed();
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, TEMPORAL_OAUTH_CODEC_KEY_FILE: CODEC_KEYS_FIXTURE };
  delete env.TEMPORAL_OAUTH_CODEC_KEYS;
  delete env.TEMPORAL_OAUTH_TASK_QUEUE;
  return env;
}

/** Every run's output, for the final check that no secret was printed. */
const printed: string[] = [];

async function cli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  const run = await runProcess(process.execPath, [CLI, ...args], { env: options.env ?? cliEnvironment(), stdin: options.stdin });
  printed.push(run.stdout, run.stderr);
  return run;
}

function expectExit(run: Finished, code: number, what: string): void {
  assert.equal(run.code, code, `${what}: exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /^\s+at /m, `${what} printed a stack trace`);
}

interface ListedRow {
  name: string;
  category: string;
  status: string;
  disabledReason?: string;
  tokenExpiresAt?: string;
  dependents: number;
}

async function listed(args: string[], what: string, until: (rows: ListedRow[]) => boolean): Promise<ListedRow[]> {
  return eventually(
    async () => {
      const run = await cli(['servers', 'list', '--json', ...args]);
      expectExit(run, 0, 'servers list');
      const rows = JSON.parse(run.stdout) as ListedRow[];
      return until(rows) ? rows : undefined;
    },
    { what, timeoutMs: 15_000, intervalMs: 250 },
  );
}

describe('the temporal-oauth CLI', () => {
  const wrongSecret = `wrong-${randomUUID()}`;

  after(() => {
    const secrets = [wrongSecret, ...testBed().secretsUsed()];
    for (const output of printed) for (const secret of secrets) assert.ok(!output.includes(secret), 'the CLI printed a secret');
  });

  it('refuses a wrong command line with exit 2 and plain words, without a stack trace or the secret, before connecting', async () => {
    const base = ['servers', 'create', '--name', uniqueName('cli-usage'), '--client-id', 'x', '--access-token-url', 'https://login.example.com/token'];
    // Nothing listens there: a command that tried to connect would end with exit 1, not 2.
    const unreachable: NodeJS.ProcessEnv = { ...cliEnvironment(), TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const withoutKeys: NodeJS.ProcessEnv = { ...unreachable };
    delete withoutKeys.TEMPORAL_OAUTH_CODEC_KEY_FILE;
    const cases: [string, string[], RegExp, { stdin?: string; env?: NodeJS.ProcessEnv }?][] = [
      ['no command', [], /Usage: temporal-oauth/],
      ['an unknown command', ['servers', 'frobnicate'], /unknown command/],
      ['a secret as an option', [...base, '--client-secret', wrongSecret], /never taken from the command line/],
      ['a secret glued to an unknown option', [...base, `--secret-value=${wrongSecret}`], /unknown option '--secret-value=…'/],
      ['no secret', [...base, '--task-queue', 'q'], /--secret-stdin, --secret-file or --secret-ref/],
      ['two secret sources', [...base, '--secret-stdin', '--secret-ref', 'env:X', '--task-queue', 'q'], /cannot be used with/, { stdin: wrongSecret }],
      ['no task queue', [...base, '--secret-stdin'], /--task-queue or TEMPORAL_OAUTH_TASK_QUEUE/, { stdin: wrongSecret }],
      ['an unreadable settings file', [...base, '--secret-stdin', '--task-queue', 'q', '--file', '/nonexistent/server.yaml'], /--file \/nonexistent\/server\.yaml cannot be read \(ENOENT\)/, { stdin: wrongSecret }],
      ['a status that does not exist', ['servers', 'list', '--status', 'Sleeping'], /--status must be OK, Error or NotAuthorized/],
      ['a non-numeric retry count', [...base, '--max-retry-attempts', 'three'], /expected a whole number/],
      ['a missing name', ['servers', 'show'], /missing required argument 'name'/],
      ['an edit that changes nothing', ['servers', 'edit', 'crm'], /nothing to change/],
      ['an actor with a line break', ['servers', 'authorize', 'crm', '--actor', 'alice\nmallory'], /--actor must not contain control characters/],
      ['no codec keys', ['servers', 'list'], /TEMPORAL_OAUTH_CODEC_KEYS or TEMPORAL_OAUTH_CODEC_KEY_FILE/, { env: withoutKeys }],
    ];
    for (const [what, args, message, options] of cases) {
      const run = await cli(args, { env: unreachable, ...options });
      expectExit(run, 2, what);
      assert.match(run.stderr, message, what);
    }
  });

  it('creates a server with a wrong secret (exit 1, saved, Error and why), fixes it from stdin (Not authorized), authorizes it (OK), lists it by category and status, and deletes it only with --force while a dependent lives', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const name = uniqueName('cli');
      const category = uniqueName('cli-category');
      const { clientId, secret } = bed.clients.client_secret_basic;
      const created = await cli(
        ['servers', 'create', '--name', name, '--category', category, '--client-id', clientId, '--access-token-url', bed.authorizationServer.tokenEndpoint]
          .concat(['--scope', API_SCOPES, '--allowed-origin', bed.api.origin, '--max-retry-attempts', '1', '--secret-stdin', '--task-queue', taskQueue]),
        { stdin: `${wrongSecret}\n` },
      );
      expectExit(created, 1, 'create with a wrong secret');
      assert.match(created.stderr, new RegExp(`${name} was saved, but its first token request failed: .*invalid_client`));
      assert.match(created.stdout, /Status: +Error/);

      const shown = await cli(['servers', 'show', name, '--json']);
      expectExit(shown, 0, 'show');
      const view = JSON.parse(shown.stdout) as { status: string; config: { clientSecret: unknown; category: string } };
      assert.equal(view.status, 'Error');
      assert.deepEqual(view.config.clientSecret, { source: 'local', isSet: true });
      const [failing] = await listed(['--category', category, '--status', 'Error'], 'the server listed as Error', (rows) => rows.length === 1);
      assert.equal(failing?.name, name);
      assert.match(failing?.disabledReason ?? '', /invalid_client/);

      const edited = await cli(['servers', 'edit', name, '--secret-stdin'], { stdin: `${secret}\n` });
      expectExit(edited, 0, 'edit the secret');
      assert.match(edited.stdout, /Status: +Not authorized/);
      assert.match(edited.stderr, new RegExp(`Not authorized until \`temporal-oauth servers authorize ${name}\``));

      const authorized = await cli(['servers', 'authorize', name]);
      expectExit(authorized, 0, 'authorize');
      assert.match(authorized.stdout, new RegExp(`OAuth server ${name}: OK, token expires \\d{4}-`));

      const [ok] = await listed(['--category', category, '--status', 'not authorized'], 'nothing Not authorized', (rows) => rows.length === 0).then(() =>
        listed(['--category', category, '--status', 'OK'], 'the server listed as OK', (rows) => rows.length === 1),
      );
      assert.equal(ok?.disabledReason, undefined);
      assert.ok(ok?.tokenExpiresAt && Date.parse(ok.tokenExpiresAt) > Date.now(), 'the list shows when the token expires');
      const table = await cli(['servers', 'list', '--category', category]);
      expectExit(table, 0, 'list as a table');
      assert.match(table.stdout, /^NAME +CATEGORY +STATUS +TOKEN EXPIRES +DEPENDENTS +DISABLED REASON$/m);
      assert.match(table.stdout, new RegExp(`^${name} +${category} +OK +\\S+ +0$`, 'm'));

      const probe = await bed.client.workflow.start<typeof dependentProbe>('dependentProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [name] });
      await eventually(
        async () => {
          const run = await cli(['servers', 'dependents', name, '--json']);
          return run.code === 0 && (JSON.parse(run.stdout) as string[]).includes(probe.workflowId) ? true : undefined;
        },
        { what: 'the probe listed as a dependent', timeoutMs: 15_000, intervalMs: 250 },
      );
      const refused = await cli(['servers', 'delete', name]);
      expectExit(refused, 1, 'delete with a dependent');
      assert.match(refused.stderr, /dependents.*--force/);
      expectExit(await cli(['servers', 'show', name]), 0, 'show after the refused delete');

      expectExit(await cli(['servers', 'delete', name, '--force']), 0, 'delete --force');
      assert.equal(await probe.result(), 'Deleted');
      const gone = await cli(['servers', 'show', name]);
      expectExit(gone, 1, 'show a deleted server');
      assert.match(gone.stderr, new RegExp(`there is no OAuth server named ${name}`));
    });
  });

  it('creates from a YAML file with the secret in a file (exit 0, OK) or as an external reference, and refuses an invalid setting with exit 1 naming the field', async () => {
    const bed = testBed();
    const folder = mkdtempSync(join(tmpdir(), 'temporal-oauth-cli-'));
    try {
      await bed.withWorker(async (taskQueue) => {
        const { clientId, secret } = bed.clients.client_secret_post;
        const name = uniqueName('cli-yaml');
        const settings = join(folder, 'server.yaml');
        writeFileSync(settings, [`name: ${name}`, `clientId: ${clientId}`, 'authMethod: client_secret_post', `accessTokenUrl: ${bed.authorizationServer.tokenEndpoint}`, `scope: ${API_SCOPES}`, `allowedOrigins: [${bed.api.origin}]`, ''].join('\n'));
        const secretFile = join(folder, 'secret');
        writeFileSync(secretFile, `${secret}\n`);
        const env = { ...cliEnvironment(), TEMPORAL_OAUTH_TASK_QUEUE: taskQueue };

        const created = await cli(['servers', 'create', '--file', settings, '--secret-file', secretFile], { env });
        expectExit(created, 0, 'create from a file');
        assert.match(created.stdout, /Status: +OK/);
        assert.match(created.stdout, /Client secret: +local \(set, not shown\)/);

        const reference = `env:TEMPORAL_OAUTH_CLI_TEST_UNSET_${randomUUID().slice(0, 8)}`;
        const external = await cli(['servers', 'create', '--file', settings, '--name', `${name}-ref`, '--secret-ref', reference], { env });
        expectExit(external, 1, 'create with an external secret no worker can read');
        assert.match(external.stdout, new RegExp(`Client secret: +external \\(${reference}\\)`));

        const invalid = await cli(['servers', 'edit', name, '--max-retry-attempts', '99']);
        expectExit(invalid, 1, 'an edit outside the limits');
        assert.match(invalid.stderr, /maxRetryAttempts must be at most 20 \(nothing was changed\)/);
        expectExit(await cli(['servers', 'delete', name]), 0, 'delete');
        expectExit(await cli(['servers', 'delete', `${name}-ref`]), 0, 'delete');
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('edit --issuer adds the issuer and --no-access-token-url removes the token URL, so that the endpoint is discovered (authorize OK); --no-issuer then is refused with exit 1 naming the rule', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const { clientId, secret } = bed.clients.client_secret_basic;
      const name = uniqueName('cli-issuer');
      const env = { ...cliEnvironment(), TEMPORAL_OAUTH_TASK_QUEUE: taskQueue };
      const create = ['servers', 'create', '--name', name, '--client-id', clientId, '--access-token-url', bed.authorizationServer.tokenEndpoint, '--scope', API_SCOPES, '--secret-stdin'];
      expectExit(await cli(create, { env, stdin: secret }), 0, 'create with a token URL');

      const withIssuer = await cli(['servers', 'edit', name, '--issuer', bed.authorizationServer.issuer, '--json']);
      expectExit(withIssuer, 0, 'edit --issuer');
      assert.equal((JSON.parse(withIssuer.stdout) as { config: { issuer?: string } }).config.issuer, bed.authorizationServer.issuer);
      const withoutUrl = await cli(['servers', 'edit', name, '--no-access-token-url', '--json']);
      expectExit(withoutUrl, 0, 'edit --no-access-token-url');
      const { config } = JSON.parse(withoutUrl.stdout) as { config: { accessTokenUrl?: string; issuer?: string } };
      assert.deepEqual([config.accessTokenUrl, config.issuer], [undefined, bed.authorizationServer.issuer]);
      const authorized = await cli(['servers', 'authorize', name]);
      expectExit(authorized, 0, 'authorize through the discovered endpoint');
      assert.match(authorized.stdout, /: OK, token expires/);

      const neither = await cli(['servers', 'edit', name, '--no-issuer']);
      expectExit(neither, 1, 'edit --no-issuer without a token URL');
      assert.match(neither.stderr, /accessTokenUrl or issuer must be set/);
      expectExit(await cli(['servers', 'delete', name]), 0, 'delete');
    });
  });

  it('history: who created, edited (the settings changed), authorized and deleted a server, --actor or the OS user; --auto-recover turns probing on and --no-auto-recover off', async () => {
    const bed = testBed();
    await bed.withWorker(async (taskQueue) => {
      const name = uniqueName('cli-history');
      const { clientId, secret } = bed.clients.client_secret_basic;
      const created = await cli(
        ['--actor', 'alice', 'servers', 'create', '--name', name, '--client-id', clientId, '--access-token-url', bed.authorizationServer.tokenEndpoint]
          .concat(['--scope', API_SCOPES, '--secret-stdin', '--task-queue', taskQueue, '--auto-recover']),
        { stdin: secret },
      );
      expectExit(created, 0, 'create with --actor and --auto-recover');
      assert.match(created.stdout, /Auto recover: +after 60000 ms, doubling up to 3600000 ms/);
      const edited = await cli(['servers', 'edit', name, '--no-auto-recover', '--max-retry-attempts', '2', '--secret-stdin'], { stdin: secret });
      expectExit(edited, 0, 'edit as the OS user');
      assert.match(edited.stdout, /Auto recover: +no/);
      expectExit(await cli(['servers', 'authorize', name, '--actor', 'carol']), 0, 'authorize with --actor after the command');
      expectExit(await cli(['servers', 'delete', name, '--actor', 'dave']), 0, 'delete');

      const json = await cli(['servers', 'history', name, '--json']);
      expectExit(json, 0, 'history --json');
      const history = JSON.parse(json.stdout) as { entries: { action: string; actor?: string; fields?: string[]; at: string }[]; total: number };
      assert.deepEqual(
        history.entries.map(({ action, actor, fields }) => [action, actor, fields]),
        [
          ['create', 'alice', undefined],
          // The same secret again is no change; the history never holds its value.
          ['edit', userInfo().username, ['autoRecover', 'maxRetryAttempts']],
          ['authorize', 'carol', undefined],
          ['delete', 'dave', undefined],
        ],
      );
      assert.equal(history.total, 4);
      const text = await cli(['servers', 'history', name]);
      expectExit(text, 0, 'history');
      assert.match(text.stdout, /^TIME +ACTOR +ACTION +SETTINGS CHANGED$/m);
      assert.match(text.stdout, new RegExp(`^\\S+ +${userInfo().username} +edit +autoRecover, maxRetryAttempts$`, 'm'));
      const unknown = await cli(['servers', 'history', uniqueName('never-created')]);
      expectExit(unknown, 1, 'history of a server that never existed');
      assert.match(unknown.stderr, /there is no OAuth server named/);
    });
  });
});
