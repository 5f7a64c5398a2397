/** What scripts can rely on: 0 done, 1 the operation was tried and failed, 2 the command line was wrong. */
export const ExitCode = {
  Done: 0,
  Failed: 1,
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line (or the environment it needs) is wrong: nothing was sent to Temporal. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation ran and did not succeed; its message says what happened and what to do. */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}
