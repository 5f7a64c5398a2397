/** Workflows of the fan-out bench. */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { OAuthServerDependency } from '../src/workflow';

export const wakeSignal = defineSignal('wake');

/** A dependent that ends as soon as its server tells it that it is disabled. */
export async function disableWatcher(server: string): Promise<void> {
  const dependency = await OAuthServerDependency.register(server);
  await condition(() => dependency.availability.status === 'Error');
}

/** The baseline: a workflow that ends when a client signals it. */
export async function signalWaiter(): Promise<void> {
  let woken = false;
  setHandler(wakeSignal, () => {
    woken = true;
  });
  await condition(() => woken);
}
