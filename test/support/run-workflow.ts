import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { WebServiceCallInput, WebServiceCallResult } from '../../src';
import type { callOnce } from '../workflows';
import { testBed } from './test-bed';

/** Starts the test workflow that stands for a workflow author's single webServiceCall. */
export function startCallFromWorkflow(taskQueue: string, input: WebServiceCallInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof callOnce>> {
  return testBed().client.workflow.start<typeof callOnce>('callOnce', {
    taskQueue,
    workflowId: `call-${randomUUID()}`,
    args: [input],
    workflowExecutionTimeout: '2 minutes',
  });
}

/** Runs the test workflow that stands for a workflow author's single webServiceCall. */
export async function callFromWorkflow(taskQueue: string, input: WebServiceCallInput): Promise<WebServiceCallResult> {
  return (await startCallFromWorkflow(taskQueue, input)).result();
}

/** The failure type a call ended with (OAuthServerDisabled, …), or undefined when it succeeded. */
export async function failureTypeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (error) {
    if (error instanceof WorkflowFailedError) return (error.cause?.cause as { type?: string } | undefined)?.type;
    throw error;
  }
  return undefined;
}
