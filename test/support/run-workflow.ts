import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { WebServiceCallInput, WebServiceCallResult } from '../../src';
import type { callOnce } from '../workflows';
import { testBed } from './test-bed';

/** Runs the test workflow that stands for a workflow author's single webServiceCall. */
export function callFromWorkflow(taskQueue: string, input: WebServiceCallInput): Promise<WebServiceCallResult> {
  return testBed().client.workflow.execute<typeof callOnce>('callOnce', {
    taskQueue,
    workflowId: `call-${randomUUID()}`,
    args: [input],
    workflowExecutionTimeout: '2 minutes',
  });
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
