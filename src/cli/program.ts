import { userInfo } from 'node:os';
import type { Client } from '@temporalio/client';
import { Command, CommanderError, Option } from 'commander';
import { authorizeServer, createServer, deleteServer, editServer, listDependents, listServers, serverHistory, showServer, type ServerListEntry } from '../admin/servers';
import { ServerNotFoundError, ServerUnreachableError } from '../admin/errors';
import { actorProblem } from '../contract/actor';
import type { ServerStatus, ServerView } from '../contract/definitions';
import { AUTH_METHODS } from '../oauth/config';
import { connect, type ConnectionFlags, type Session } from './connect';
import { describeFailure } from './describe-failure';
import { ExitCode, UsageError } from './exit-codes';
import { historyTable, parseStatus, rowOf, serverDetails, serverTable, statusInWords, type ServerRow } from './format';
import { collectParameter, collectText, collectWholeNumber, newServerInput, serverChanges, wholeNumber, type ServerFlags } from './server-input';

export const TASK_QUEUE_ENV = 'TEMPORAL_OAUTH_TASK_QUEUE';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
};

/** `--client-secret=abc` is refused as an unknown option, and the refusal must not print the value. */
function withoutOptionValues(message: string): string {
  return message.replace(/'(--?[^'=\s]+)=[^']*'/g, "'$1=…'");
}

function statusFilter(text: string): ServerStatus {
  const status = parseStatus(text);
  if (status === undefined) throw new UsageError(`--status must be OK, Error or NotAuthorized, not "${text}"`);
  return status;
}

/** The settings shared by create and edit. */
function addServerOptions(command: Command): Command {
  return command
    .option('--file <path>', 'settings as JSON or YAML (the fields of the configuration reference); flags override them')
    .option('--category <category>', 'category (default Default)')
    .addOption(new Option('--auth-method <method>', 'how the client authenticates').choices(AUTH_METHODS))
    .option('--client-id <id>', 'client ID')
    .option('--access-token-url <url>', "the authorization server's token endpoint")
    .option('--issuer <url>', "the authorization server's issuer: its metadata names the token endpoint when --access-token-url is left out")
    .option('--scope <scope>', 'space-separated scopes to request')
    .option('--include-scope', 'send the scope in token requests (default)')
    .option('--no-include-scope', 'do not send the scope')
    .option('--max-retry-attempts <n>', 'token request attempts (1-20)', wholeNumber)
    .option('--max-wait <duration>', 'longest time for all attempts: milliseconds or ISO-8601 such as PT1M')
    .option('--query-param <name=value>', 'token request query parameter (repeat; replaces the list)', collectParameter)
    .option('--post-param <name=value>', 'token request body parameter (repeat; replaces the list)', collectParameter)
    .option('--allowed-origin <origin>', 'origin the token may be sent to (repeat; replaces the list)', collectText)
    .option('--invalid-token-status <status>', 'status besides 401 that means the token was rejected (repeat)', collectWholeNumber)
    .option('--auto-recover', 'when disabled, try again on its own: after 1 minute, doubling up to 1 hour (other delays: autoRecover in --file)')
    .option('--no-auto-recover', 'stay disabled until an admin authorizes it (default)')
    .addOption(new Option('--secret-stdin', 'read the client secret (or private key) from standard input').conflicts(['secretFile', 'secretRef']))
    .addOption(new Option('--secret-file <path>', 'read the client secret (or private key) from a file').conflicts(['secretRef']))
    .option('--secret-ref <ref>', "an external secret the workers read, e.g. env:CRM_SECRET (the worker's allowlist must permit it)")
    .addOption(new Option('--secret <value>').hideHelp().argParser(refuseSecretOnCommandLine))
    .addOption(new Option('--client-secret <value>').hideHelp().argParser(refuseSecretOnCommandLine))
    .option('--json', 'print the server as JSON');
}

/** Anything on a command line is visible to other users of the machine and stays in shell history. */
function refuseSecretOnCommandLine(): never {
  throw new UsageError('a secret is never taken from the command line: use --secret-stdin, --secret-file or --secret-ref');
}

async function allServers(client: Client, filter: { category?: string; status?: ServerStatus }): Promise<ServerListEntry[]> {
  const servers: ServerListEntry[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await listServers(client, { ...filter, nextPageToken });
    servers.push(...page.servers);
    nextPageToken = page.nextPageToken;
  } while (nextPageToken);
  return servers;
}

/** Who the servers' history says made a change: `--actor`, else the user running the command. */
function actorOf(flags: { actor?: string }): string | undefined {
  if (flags.actor !== undefined) {
    const problem = actorProblem(flags.actor);
    if (problem !== undefined) throw new UsageError(`--actor ${problem}`);
    return flags.actor;
  }
  try {
    return userInfo().username;
  } catch {
    // No user name (a container's UID without a passwd entry): the history says the actor is unknown.
    return undefined;
  }
}

/** One server whose workers are all down must not hold up the whole list. */
const VIEW_TIMEOUT_MS = 3_000;

/**
 * Visibility lags a little behind a delete: a server listed but gone by the time it is read is left
 * out. One whose workflow no worker answers for is reported on stderr and left out.
 */
async function viewsOf(client: Client, servers: ServerListEntry[], io: Io): Promise<ServerView[]> {
  const views = await Promise.all(
    servers.map((server) =>
      showServer(client, server.name, { timeoutMs: VIEW_TIMEOUT_MS }).catch((error: unknown) => {
        if (error instanceof ServerNotFoundError) return undefined;
        if (error instanceof ServerUnreachableError) {
          io.stderr(error.message);
          return undefined;
        }
        throw error;
      }),
    ),
  );
  return views.filter((view): view is ServerView => view !== undefined);
}

/** Builds the `temporal-oauth` program; `run` resolves to the exit code. */
export function cliProgram(io: Io = processIo): { run(argv: string[]): Promise<ExitCode> } {
  let session: Session | undefined;
  let exitCode: ExitCode = ExitCode.Done;
  const program = new Command('temporal-oauth')
    .description('Administer the OAuth servers of temporal-oauth. Connects like the Temporal CLI (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles) and needs the workers\' codec keys (TEMPORAL_OAUTH_CODEC_KEYS or TEMPORAL_OAUTH_CODEC_KEY_FILE).')
    .option('--profile <name>', "Temporal client configuration profile (default TEMPORAL_PROFILE or 'default')")
    .option('--address <host:port>', 'Temporal frontend address (default from the profile or TEMPORAL_ADDRESS)')
    .option('--namespace <namespace>', 'Temporal namespace (default from the profile or TEMPORAL_NAMESPACE)')
    .option('--actor <name>', "who the servers' history records for a change (default: your OS user name)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text.trimEnd()),
      writeErr: (text) => io.stderr(text.trimEnd()),
      outputError: (text, write) => write(withoutOptionValues(text)),
    })
    .showHelpAfterError('(add --help for usage)');

  const client = async () => {
    session ??= await connect(program.opts<ConnectionFlags>());
    return session.client;
  };
  /** Read before connecting, like every other flag: a wrong one is refused with exit 2. */
  const actor = () => ({ actor: actorOf(program.opts<{ actor?: string }>()) });
  const print = (json: boolean | undefined, value: unknown, text: () => string) => io.stdout(json ? JSON.stringify(value, null, 2) : text());

  const servers = program.command('servers').description('list, show, create, edit, authorize and delete OAuth servers');

  servers
    .command('list')
    .description('list the OAuth servers with their status, disabled reason, token expiry and dependents')
    .option('--category <category>', 'only this category')
    .option('--status <status>', 'only this status: OK, Error or NotAuthorized', statusFilter)
    .option('--json', 'print JSON')
    .action(async (options: { category?: string; status?: ServerStatus; json?: boolean }) => {
      const connected = await client();
      const entries = await allServers(connected, { category: options.category, status: options.status });
      const rows: ServerRow[] = (await viewsOf(connected, entries, io)).map(rowOf).sort((a, b) => a.name.localeCompare(b.name));
      print(options.json, rows, () => (rows.length === 0 ? 'No OAuth servers match.' : serverTable(rows)));
    });

  servers
    .command('show')
    .description("show a server's settings and state (never its secret)")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const view = await showServer(await client(), name);
      print(options.json, view, () => serverDetails(view));
    });

  addServerOptions(
    servers
      .command('create')
      .description('save a new server and request its first token; saved even when that request fails')
      .option('--name <name>', 'unique name (compared case-insensitively)')
      .option('--task-queue <queue>', `task queue of the workers that run the plugin (default ${TASK_QUEUE_ENV})`),
  ).action(async (options: ServerFlags & { taskQueue?: string; json?: boolean }) => {
    const taskQueue = options.taskQueue ?? process.env[TASK_QUEUE_ENV];
    if (!taskQueue) throw new UsageError(`give the workers' task queue with --task-queue or ${TASK_QUEUE_ENV}`);
    const input = await newServerInput(options);
    const by = actor();
    const view = await createServer(await client(), input, { taskQueue, ...by });
    print(options.json, view, () => serverDetails(view));
    if (view.status === 'Error') {
      exitCode = ExitCode.Failed;
      io.stderr(
        `OAuth server ${view.config.name} was saved, but its first token request failed: ${view.disabledReason?.message ?? 'no reason given'}. ` +
          `Fix it with \`temporal-oauth servers edit ${view.config.name}\`, then \`temporal-oauth servers authorize ${view.config.name}\`.`,
      );
    }
  });

  addServerOptions(
    servers
      .command('edit')
      .description('change settings (a left-out secret is kept); the server must then be authorized again')
      .argument('<name>'),
  )
    .option('--no-access-token-url', "remove the token endpoint: it is then discovered from the issuer's metadata")
    .option('--no-issuer', 'remove the issuer')
    .action(async (name: string, options: ServerFlags & { json?: boolean }) => {
      // Read first: a wrong command line is refused before connecting.
      const changes = await serverChanges(options);
      const by = actor();
      const view = await editServer(await client(), name, changes, by);
      print(options.json, view, () => serverDetails(view));
      if (view.status === 'NotAuthorized') io.stderr(`Saved. OAuth server ${view.config.name} is Not authorized until \`temporal-oauth servers authorize ${view.config.name}\`.`);
    });

  servers
    .command('authorize')
    .description('request a token now: the re-authorization of a disabled server')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const by = actor();
      const view = await authorizeServer(await client(), name, by);
      print(options.json, view, () => `OAuth server ${view.config.name}: ${statusInWords(view.status)}${view.tokenExpiresAt ? `, token expires ${view.tokenExpiresAt}` : ''}`);
      if (view.status !== 'OK') {
        exitCode = ExitCode.Failed;
        io.stderr(`OAuth server ${view.config.name} could not be authorized: ${view.disabledReason?.message ?? statusInWords(view.status)}`);
      }
    });

  servers
    .command('delete')
    .description('delete a server; refused while dependents are registered unless --force, which tells them to stop')
    .argument('<name>')
    .option('--force', 'delete even though dependents are registered')
    .action(async (name: string, options: { force?: boolean }) => {
      const by = actor();
      await deleteServer(await client(), name, { force: options.force === true, ...by });
      io.stdout(`Deleted OAuth server ${name}.`);
    });

  servers
    .command('history')
    .description("the admin actions on a server, who did them and when (a deleted server's too)")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const history = await serverHistory(await client(), name);
      print(options.json, history, () => historyTable(history));
    });

  servers
    .command('dependents')
    .description('list the workflow IDs of the workflows registered with a server (import sources and others)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const dependents = await listDependents(await client(), name);
      print(options.json, dependents, () => (dependents.length === 0 ? `OAuth server ${name} has no dependents.` : dependents.join('\n')));
    });

  return {
    async run(argv) {
      try {
        await program.parseAsync(argv);
        return exitCode;
      } catch (error) {
        if (error instanceof CommanderError) {
          return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.Done : ExitCode.Usage;
        }
        const failure = describeFailure(error);
        io.stderr(`temporal-oauth: ${failure.message}`);
        return failure.exitCode;
      } finally {
        await session?.close();
      }
    },
  };
}
