import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { capturedLogs } from './captured-logs';

/** The end of a child process's stdout and stderr, interleaved as printed. */
export interface ChildOutput {
  tail(): string;
}

/**
 * Keeps the last `keptChars` of what the child prints (where an uncaught error's stack is), and
 * passes all of it to the suite's log, which the last test scans for leaked secrets and tokens.
 */
export function keepChildOutput(child: ChildProcessByStdio<null, Readable, Readable>, keptChars = 4_000): ChildOutput {
  let output = '';
  const record = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-keptChars);
    capturedLogs.push(text);
  };
  child.stdout.on('data', record);
  child.stderr.on('data', record);
  return { tail: () => output };
}
