import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { nonRetryable, ServerFailure } from './failures';

/**
 * The one mapping from what the Temporal client throws when an activity talks to a server's
 * workflow to the failure the activity reports: a missing server, or the workflow's own refusal
 * (disabled, not authorized, deleted…) passed on with its type. Anything else is left to retry.
 */
export function failureFromClientError(server: string, error: unknown): unknown {
  if (error instanceof WorkflowNotFoundError) return nonRetryable(ServerFailure.NotFound, `OAuth server ${server} does not exist`);
  const refusal = workflowRefusal(error);
  if (refusal) return nonRetryable(refusal.type ?? ServerFailure.RegistrationRefused, refusal.message);
  return error;
}

/** The failure a server's workflow refused an update with, when `error` is such a refusal. */
export function workflowRefusal(error: unknown): ApplicationFailure | undefined {
  return error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure ? error.cause : undefined;
}
