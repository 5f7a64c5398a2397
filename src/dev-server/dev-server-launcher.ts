import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Launcher {
  path: string;
  remove(): Promise<void>;
}

export interface LauncherOptions {
  /** The dev server's output is appended here instead of going to this process's stdout and stderr. */
  outputFile?: string;
  /** Runs the dev server in a session of its own, out of reach of the terminal's Ctrl-C. */
  ownSession?: boolean;
}

function shellQuoted(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A script the SDK starts in place of `executable`, since it takes no spawn options of ours. The
 * SDK hands the dev server this process's own stdout and stderr; through this, its log can be kept
 * apart and read, e.g. scanned for leaked secrets. A Ctrl-C in a terminal goes to the whole
 * foreground process group: a dev server in it stops at once, under workers still polling it, and
 * fills the terminal with its own dial errors; in a session of its own it stops when its
 * environment's teardown says, after those workers. `exec` (and setsid, which does not fork a
 * process that leads no group) keeps the pid and command line the dev server's own.
 */
export async function devServerLauncher(executable: string, { outputFile, ownSession = false }: LauncherOptions): Promise<Launcher> {
  const folder = await mkdtemp(join(tmpdir(), 'temporal-launcher-'));
  const path = join(folder, 'temporal');
  const redirect = outputFile === undefined ? '' : ` >>${shellQuoted(outputFile)} 2>&1`;
  const run = `${shellQuoted(executable)} "$@"${redirect}`;
  // Systems without setsid(1) (macOS) keep the dev server in the caller's process group.
  const script = ownSession ? `if command -v setsid >/dev/null 2>&1; then exec setsid ${run}; fi\nexec ${run}\n` : `exec ${run}\n`;
  await writeFile(path, `#!/bin/sh\n${script}`);
  await chmod(path, 0o755);
  return { path, remove: () => rm(folder, { recursive: true, force: true }) };
}
