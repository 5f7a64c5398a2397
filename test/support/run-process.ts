import { spawn } from 'node:child_process';
import { within } from './eventually';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: string;
  timeoutMs?: number;
}

/** Runs a command to its end and returns what it printed; a command that hangs fails the test, named. */
export async function runProcess(command: string, args: string[], { env, cwd, stdin, timeoutMs = 60_000 }: RunOptions = {}): Promise<Finished> {
  const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done, failed) => {
    child.once('error', failed);
    child.once('close', (code) => done(code));
  });
  child.stdin.end(stdin ?? '');
  try {
    const code = await within(exited, timeoutMs, `${command} ${args.join(' ')}`);
    return { code, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
