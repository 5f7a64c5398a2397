/** Workflows that stand for a workflow author's code in the tests. */
import { OAuthServerDependency, webServiceCall, type WebServiceCallInput, type WebServiceCallResult } from '../../src/workflow';
import { condition, defineQuery, defineSignal, setHandler, sleep } from '@temporalio/workflow';

export async function callOnce(input: WebServiceCallInput): Promise<WebServiceCallResult> {
  return webServiceCall(input, { retry: { maximumAttempts: 1 } });
}

export interface RepeatedCallsInput {
  call: WebServiceCallInput;
  count: number;
  intervalMs: number;
}

/** Calls at a steady pace and reports each status, so a test can see that no call failed over time. */
export async function callRepeatedly({ call, count, intervalMs }: RepeatedCallsInput): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) {
    statuses.push((await webServiceCall(call, { retry: { maximumAttempts: 1 } })).status);
    await sleep(intervalMs);
  }
  return statuses;
}

export { importSourceWorkflow } from '../../src/workflow';

export const probeStatusQuery = defineQuery<string>('probeStatus');
export const finishSignal = defineSignal('finish');

/** A minimal dependent: registers with its server, reports what it last heard, and leaves when told. */
export async function dependentProbe(server: string): Promise<string> {
  let finished = false;
  setHandler(finishSignal, () => {
    finished = true;
  });
  const dependency = await OAuthServerDependency.register(server);
  setHandler(probeStatusQuery, () => dependency.availability.status);
  await condition(() => finished || dependency.availability.status === 'Deleted');
  await dependency.release();
  return dependency.availability.status;
}
export * from './token-economy';

/** A dependent that ends once it has heard its server disabled and then enabled again. */
export async function disableAndResumeWatcher(server: string): Promise<void> {
  const dependency = await OAuthServerDependency.register(server);
  await condition(() => dependency.availability.status === 'Error');
  await condition(() => dependency.availability.status === 'OK');
  await dependency.release();
}
export * from './encrypted-input';
export * from './several-servers';
