import { ServerAlreadyExistsError, ServerChangeRejectedError, ServerNotFoundError } from '../admin/errors';
import { ServerFailure } from '../contract/failures';
import { ConfigValidationError } from '../oauth/errors';
import { ExitCode, OperationFailed, UsageError } from './exit-codes';

export interface Failure {
  message: string;
  exitCode: ExitCode;
}

/**
 * The one line a failed command prints: what happened and, where there is one, what to do.
 * Never a stack trace; the errors it reads never carry a secret (the admin API's and the schema's
 * messages name fields and rules, not values).
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) return { message: error.message, exitCode: ExitCode.Usage };
  if (error instanceof OperationFailed) return { message: error.message, exitCode: ExitCode.Failed };
  if (error instanceof ConfigValidationError) {
    return { message: `nothing was saved: ${error.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`, exitCode: ExitCode.Failed };
  }
  if (error instanceof ServerChangeRejectedError && error.type === ServerFailure.HasDependents) {
    const name = error.serverName;
    return {
      message: `OAuth server ${name} still has live dependents (\`temporal-oauth servers dependents ${name}\` lists them): stop them first, or delete with --force, which tells them to stop`,
      exitCode: ExitCode.Failed,
    };
  }
  if (error instanceof ServerChangeRejectedError) return { message: `${error.message} (nothing was changed)`, exitCode: ExitCode.Failed };
  if (error instanceof ServerNotFoundError) return { message: `${error.message}; \`temporal-oauth servers list\` shows the servers there are`, exitCode: ExitCode.Failed };
  if (error instanceof ServerAlreadyExistsError) return { message: `${error.message}; change it with \`temporal-oauth servers edit\``, exitCode: ExitCode.Failed };
  return { message: error instanceof Error ? error.message : String(error), exitCode: ExitCode.Failed };
}
