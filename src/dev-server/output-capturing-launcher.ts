import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Launcher {
  path: string;
  remove(): Promise<void>;
}

function shellQuoted(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A script that runs `executable` with its output appended to `outputFile`. The SDK hands the dev
 * server this process's own stdout and stderr; through this, its log can be kept apart and read,
 * e.g. scanned for leaked secrets. `exec` keeps the pid and command line the dev server's own.
 */
export async function outputCapturingLauncher(executable: string, outputFile: string): Promise<Launcher> {
  const folder = await mkdtemp(join(tmpdir(), 'temporal-launcher-'));
  const path = join(folder, 'temporal');
  await writeFile(path, `#!/bin/sh\nexec ${shellQuoted(executable)} "$@" >>${shellQuoted(outputFile)} 2>&1\n`);
  await chmod(path, 0o755);
  return { path, remove: () => rm(folder, { recursive: true, force: true }) };
}
