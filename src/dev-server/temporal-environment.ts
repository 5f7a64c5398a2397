import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType, type SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { locateTemporalCli } from '../temporal-cli/binary';
import { devServerLauncher } from './dev-server-launcher';

export interface TemporalEnvironmentOptions {
  /** Registered on whichever server is used. */
  searchAttributes: readonly SearchAttributeKey<'KEYWORD'>[];
  /** The dev server's options below are ignored when TEMPORAL_ADDRESS points at an existing server. */
  ui?: boolean;
  /** The frontend (gRPC) port; a free one when left out. */
  port?: number;
  uiPort?: number;
  /** Keeps the dev server's state across restarts; its folder is created when missing. */
  dbFilename?: string;
  /**
   * The codec endpoint the Web UI decodes payloads with (`--ui-codec-endpoint`). It shows in the dev
   * server's argv and the UI's settings, so it must carry no credential: see `trustAllowedOrigin` of
   * the codec server for how the UI gets in without one.
   */
  uiCodecEndpoint?: string;
  extraArgs?: string[];
  /** The dev server's own log goes to this file (appended) instead of this process's stdout and stderr. */
  outputFile?: string;
  /**
   * Keeps the terminal's Ctrl-C from the dev server (a session of its own), so that it stops only at
   * teardown, after the workers that poll it: for a job run in a terminal.
   */
  ownSession?: boolean;
  log?: (line: string) => void;
}

export interface TemporalEnvironment {
  address: string;
  namespace: string;
  uiUrl?: string;
  connection: Connection;
  nativeConnection: NativeConnection;
  client: Client;
  /** True when TEMPORAL_ADDRESS was used instead of starting a dev server. */
  external: boolean;
  teardown(): Promise<void>;
}

const SEARCH_ATTRIBUTES_VISIBLE_TIMEOUT_MS = 30_000;
const DEV_SERVER_EXIT_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 100;

/**
 * Connects to the server named by TEMPORAL_ADDRESS (with the rest of the TEMPORAL_* settings), or else starts a dev
 * server with the pinned Temporal CLI. Either way the search attributes are registered before this resolves.
 */
export async function startTemporalEnvironment(options: TemporalEnvironmentOptions): Promise<TemporalEnvironment> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return process.env.TEMPORAL_ADDRESS ? connectToExistingServer(options, log) : startDevServer(options, log);
}

async function connectToExistingServer(options: TemporalEnvironmentOptions, log: (line: string) => void): Promise<TemporalEnvironment> {
  // envconfig reads the config file's profile and lets TEMPORAL_NAMESPACE, TEMPORAL_TLS*, TEMPORAL_API_KEY override it.
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
  const { address = 'localhost:7233', tls, apiKey, metadata } = connectionOptions;
  const nativeConnection = await NativeConnection.connect(connectionOptions);
  const connection = await Connection.connect({ address, tls, apiKey, metadata }).catch(async (error: unknown) => {
    await nativeConnection.close();
    throw error;
  });
  const teardown = async () => {
    await Promise.all([connection.close(), nativeConnection.close()]);
  };
  try {
    await ensureSearchAttributes(connection, namespace, options.searchAttributes, log);
  } catch (error) {
    await teardown();
    throw error;
  }
  log(`using the Temporal server at ${address}, namespace ${namespace}`);
  const client = new Client({ connection, namespace });
  return { address, namespace, connection, nativeConnection, client, external: true, teardown };
}

export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey<'KEYWORD'>[],
  log: (line: string) => void,
): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace, keys);
  if (missing.length === 0) return;
  const names = missing.map((key) => key.name).join(', ');
  log(`registering search attributes ${names} in namespace ${namespace}`);
  const searchAttributes = Object.fromEntries(missing.map((key) => [key.name, indexedValueType(key)]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (error) {
    // Another process may have registered them since we listed them.
    if (!isAlreadyExists(error)) {
      throw new Error(`could not register search attributes ${names} in namespace ${namespace}; register them with your server's tools`, {
        cause: error,
      });
    }
  }
  // Registration is eventually consistent on servers with Elasticsearch visibility.
  const visible = await waitUntil(async () => (await missingSearchAttributes(connection, namespace, keys)).length === 0, SEARCH_ATTRIBUTES_VISIBLE_TIMEOUT_MS);
  if (!visible) {
    throw new Error(`search attributes ${names} were not visible in namespace ${namespace} ${SEARCH_ATTRIBUTES_VISIBLE_TIMEOUT_MS} ms after registering them`);
  }
}

function isAlreadyExists(error: unknown): boolean {
  return isGrpcServiceError(error) && error.code === status.ALREADY_EXISTS;
}

async function missingSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey<'KEYWORD'>[],
): Promise<SearchAttributeKey<'KEYWORD'>[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return keys.filter((key) => {
    const registered = customAttributes[key.name];
    if (registered === undefined) return true;
    if (registered !== indexedValueType(key)) {
      throw new Error(`search attribute ${key.name} is registered in namespace ${namespace} with a type other than ${key.type}`);
    }
    return false;
  });
}

function indexedValueType(key: SearchAttributeKey<'KEYWORD'>) {
  const type = encodeSearchAttributeIndexedValueType(key.type);
  if (type === undefined) throw new Error(`search attribute ${key.name} has an unknown type ${key.type}`);
  return type;
}

async function startDevServer(options: TemporalEnvironmentOptions, log: (line: string) => void): Promise<TemporalEnvironment> {
  const executable = await locateTemporalCli({ log });
  const { ui, port: requestedPort, uiPort, dbFilename, uiCodecEndpoint, extraArgs = [], outputFile, ownSession } = options;
  const codecArgs = uiCodecEndpoint === undefined ? [] : ['--ui-codec-endpoint', credentialFreeUrl(uiCodecEndpoint)];
  if (dbFilename) await mkdir(dirname(dbFilename), { recursive: true });
  const launcher = outputFile || ownSession ? await devServerLauncher(executable, { outputFile, ownSession }) : undefined;
  let env: TestWorkflowEnvironment;
  let pid: number;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: launcher?.path ?? executable },
        searchAttributes: [...options.searchAttributes],
        ui,
        port: requestedPort,
        uiPort,
        dbFilename,
        extraArgs: [...codecArgs, ...extraArgs],
      },
    });
  } catch (error) {
    await launcher?.remove();
    throw error;
  }
  const port = Number(env.address.slice(env.address.lastIndexOf(':') + 1));
  try {
    pid = await findDevServerPid(executable, port);
  } catch (error) {
    await env.teardown();
    await launcher?.remove();
    throw error;
  }
  trackDevServer(pid);
  const uiHost = env.address.slice(0, env.address.lastIndexOf(':'));
  // The SDK enables the UI whenever uiPort is given, and puts it 1000 above the gRPC port when only ui is.
  const uiUrl = uiPort !== undefined ? `http://${uiHost}:${uiPort}` : ui ? `http://${uiHost}:${port + 1000}` : undefined;
  return {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    client: env.client,
    external: false,
    async teardown() {
      try {
        await env.teardown();
      } finally {
        await ensureExited(pid, log);
        untrackDevServer(pid);
        await launcher?.remove();
      }
    },
  };
}

/** A URL the dev server may show to anyone: no user info, no query, which is where credentials hide. */
function credentialFreeUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.username !== '' || parsed.password !== '' || parsed.search !== '') {
    throw new TypeError('uiCodecEndpoint must be an http(s) URL without user info or query: the dev server shows it in its argv and Web UI settings');
  }
  return url;
}

/** The SDK spawns the dev server as our direct child and does not tell us its pid. */
async function findDevServerPid(executable: string, port: number): Promise<number> {
  const matches = (await listOwnChildren()).filter(
    (child) => !child.zombie && child.commandLine.startsWith(`${executable} server start-dev `) && child.commandLine.includes(` --port ${port} `),
  );
  const [match] = matches;
  if (!match || matches.length > 1) {
    throw new Error(`expected one Temporal dev server child process on port ${port}, found ${matches.length}`);
  }
  return match.pid;
}

/** The SDK's teardown kills the dev server, but a server that outlived it once is why this checks. */
async function ensureExited(pid: number, log: (line: string) => void): Promise<void> {
  if (await waitUntil(() => hasExited(pid), DEV_SERVER_EXIT_TIMEOUT_MS)) return;
  log(`the Temporal dev server (pid ${pid}) outlived teardown by ${DEV_SERVER_EXIT_TIMEOUT_MS} ms: killing it`);
  killQuietly(pid);
  if (!(await waitUntil(() => hasExited(pid), DEV_SERVER_EXIT_TIMEOUT_MS))) {
    throw new Error(`the Temporal dev server (pid ${pid}) is still running after SIGKILL`);
  }
}

async function hasExited(pid: number): Promise<boolean> {
  return !(await listOwnChildren()).some((child) => child.pid === pid && !child.zombie);
}

const liveDevServers = new Set<number>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The SDK's native side kills the dev server when Node exits normally, but not when a signal kills Node, which is what
 * a second Ctrl-C or SIGTERM does (the SDK Runtime swallows only the first), or a SIGHUP. The exit hook costs nothing
 * and covers whatever else skips the native cleanup. These hooks are installed only while a dev server runs.
 */
function trackDevServer(pid: number): void {
  if (liveDevServers.size === 0) {
    process.on('exit', killLiveDevServers);
    // First in line, to see the SDK Runtime's own listener, which removes itself on the first signal it gets.
    for (const signal of EXIT_SIGNALS) process.prependListener(signal, onExitSignal);
  }
  liveDevServers.add(pid);
}

function untrackDevServer(pid: number): void {
  liveDevServers.delete(pid);
  if (liveDevServers.size > 0) return;
  process.off('exit', killLiveDevServers);
  for (const signal of EXIT_SIGNALS) process.off(signal, onExitSignal);
}

function onExitSignal(signal: NodeJS.Signals): void {
  // Another listener (the SDK Runtime's, for a first signal) means a graceful shutdown that may still need the server
  // until the process exits, when the exit hook kills it. Alone, this listener has replaced Node's default of dying,
  // so it must die the same way.
  if (process.listenerCount(signal) > 1) return;
  killLiveDevServers();
  process.exit(128 + osConstants.signals[signal]);
}

function killLiveDevServers(): void {
  for (const pid of liveDevServers) killQuietly(pid);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // It exited meanwhile.
  }
}

interface ChildProcessInfo {
  pid: number;
  commandLine: string;
  zombie: boolean;
}

/** Linux containers often lack `ps`, and every other Unix lacks /proc. */
function listOwnChildren(): Promise<ChildProcessInfo[]> {
  return process.platform === 'linux' ? listOwnChildrenFromProc() : listOwnChildrenFromPs();
}

async function listOwnChildrenFromProc(): Promise<ChildProcessInfo[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const children = await Promise.all(pids.map(readProcIfOwnChild));
  return children.filter((child) => child !== undefined);
}

async function readProcIfOwnChild(pid: string): Promise<ChildProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name before them may hold spaces and parentheses, so the fields are counted from the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) !== process.pid) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return { pid: Number(pid), commandLine: cmdline.split('\0').join(' '), zombie: state === 'Z' };
  } catch {
    return undefined; // It exited while we looked.
  }
}

async function listOwnChildrenFromPs(): Promise<ChildProcessInfo[]> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-ww', '-o', 'pid=', '-o', 'ppid=', '-o', 'stat=', '-o', 'args=']);
  return stdout.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match || Number(match[2]) !== process.pid) return [];
    return [{ pid: Number(match[1]), commandLine: `${match[4]} `, zombie: match[3]?.startsWith('Z') ?? false }];
  });
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_INTERVAL_MS);
  }
}
