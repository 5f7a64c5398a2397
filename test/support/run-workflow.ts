import { randomUUID } from 'node:crypto';
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
