import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The newest CLI that `go install pkg@version` accepts: later tags carry a `replace` directive in go.mod.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const PROGRESS_INTERVAL_MS = 5_000;
const ERROR_TAIL_LINES = 30;
// A build takes minutes; a temporary folder this old belongs to a build that was killed, never to a live one.
const STALE_BUILD_MS = 6 * 60 * 60_000;
const BUILD_DIR_PREFIX = '.build-';

export interface LocateTemporalCliOptions {
  log?: (line: string) => void;
  /** How often a build logs its progress; tests shorten it to see a summary without a build that lasts seconds. */
  progressIntervalMs?: number;
}

/**
 * An absolute path to a `temporal` binary: `TEMPORAL_CLI_PATH`, else `temporal` on PATH, else the per-user cache,
 * else a fresh build into that cache.
 */
export async function locateTemporalCli(options: LocateTemporalCliOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) return checkExplicitPath(explicit);
  const onPath = await findOnPath(BINARY_NAME);
  if (onPath) return onPath;
  const cached = join(cacheDir(), BINARY_NAME);
  if (await isExecutableFile(cached)) return cached;
  return buildInto(cacheDir(), log, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
}

async function checkExplicitPath(configured: string): Promise<string> {
  const path = resolve(configured);
  if (!(await isExecutableFile(path))) {
    throw new Error(`TEMPORAL_CLI_PATH is set to ${configured}, which is not an executable file.`);
  }
  return path;
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    // An empty or relative PATH entry would make the answer depend on the current directory.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Keyed by the version we ask for: a binary built by `go install` reports itself as `0.0.0-DEV`. */
function cacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'temporal-oauth', 'temporal-cli', TEMPORAL_CLI_VERSION);
}

/**
 * Concurrent builds need no lock: each builds in its own folder on the cache's filesystem and renames its binary
 * into place, so the cached path is always either absent or complete, and the last rename wins with an equal binary.
 */
async function buildInto(dir: string, log: (line: string) => void, progressIntervalMs: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await removeStaleBuilds(dir);
  const buildDir = await mkdtemp(join(dir, BUILD_DIR_PREFIX));
  try {
    await goInstall(buildDir, log, progressIntervalMs);
    const target = join(dir, BINARY_NAME);
    await rename(join(buildDir, BINARY_NAME), target);
    log(`built Temporal CLI ${TEMPORAL_CLI_VERSION}: ${target}`);
    return target;
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
}

async function removeStaleBuilds(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith(BUILD_DIR_PREFIX)) continue;
    const path = join(dir, entry);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > STALE_BUILD_MS) await rm(path, { recursive: true, force: true });
  }
}

function goInstall(gobin: string, log: (line: string) => void, progressIntervalMs: number): Promise<void> {
  const progress = new BuildProgress();
  const child = spawn('go', ['install', '-v', `${CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}`], {
    // Outside any module, so a go.mod in the caller's working directory cannot interfere.
    cwd: gobin,
    env: { ...process.env, GOBIN: gobin },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.once('spawn', () => {
    log(`building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install: this takes ~5-6 minutes the first time, then it is cached`);
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => progress.add(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => progress.add(chunk));
  const timer = setInterval(() => log(progress.summary()), progressIntervalMs);
  return new Promise<void>((resolvePromise, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? goMissingError() : error);
    });
    child.once('close', (code, signal) => {
      if (code === 0) return resolvePromise();
      const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      reject(new Error(`go install ${CLI_PACKAGE}@${TEMPORAL_CLI_VERSION} ${how}; its last output:\n${progress.tail()}`));
    });
  }).finally(() => clearInterval(timer));
}

function goMissingError(): Error {
  return new Error(
    `The Temporal CLI ${TEMPORAL_CLI_VERSION} must be built, but \`go\` is not on PATH: install Go 1.22 or newer, ` +
      'or set TEMPORAL_CLI_PATH to a temporal binary, or put `temporal` on PATH.',
  );
}

/** `go install -v` names each package on its own line as it compiles it, and `go: downloading ...` for modules. */
class BuildProgress {
  private readonly startedAt = Date.now();
  private readonly lastLines: string[] = [];
  private partialLine = '';
  private packages = 0;
  private downloads = 0;

  add(chunk: string): void {
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) this.addLine(line.trimEnd());
  }

  summary(): string {
    const downloaded = this.downloads > 0 ? `${this.downloads} modules downloaded, ` : '';
    return `building Temporal CLI ${TEMPORAL_CLI_VERSION}: ${downloaded}${this.packages} packages compiled (${formatElapsed(Date.now() - this.startedAt)})`;
  }

  tail(): string {
    return [...this.lastLines, this.partialLine].filter(Boolean).join('\n');
  }

  private addLine(line: string): void {
    if (!line) return;
    if (line.startsWith('go: downloading ')) this.downloads++;
    else if (!line.startsWith('go: ') && !line.startsWith('#') && !/^\s/.test(line)) this.packages++;
    this.lastLines.push(line);
    if (this.lastLines.length > ERROR_TAIL_LINES) this.lastLines.shift();
  }
}

function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}
