/** A workflow author's workflow that depends on more than one OAuth server. */
import { defineQuery, defineSignal, setHandler, sleep } from '@temporalio/workflow';
import { OAuthServerDependency, webServiceCall, type WebServiceCallInput } from '../../src/workflow';

export interface CallsPerServerProgress {
  /** Calls that succeeded so far, per server, in the order of the input. */
  calls: number[];
  statuses: string[];
  paused: boolean[];
  /** Whether registering the first server again under another spelling gave back the same dependency. */
  sharedUnderAnotherSpelling?: boolean;
}

export const callsPerServerQuery = defineQuery<CallsPerServerProgress>('callsPerServer');
export const stopCallingSignal = defineSignal('stopCalling');

/**
 * Calls every server of `calls` over and over, each under its own dependency, until told to stop
 * (a server that is disabled then holds the stop until it is enabled again), and returns the counts.
 */
export async function callEachServer(calls: WebServiceCallInput[], intervalMs: number): Promise<number[]> {
  let stopping = false;
  setHandler(stopCallingSignal, () => {
    stopping = true;
  });
  const counts = calls.map(() => 0);
  const dependencies: OAuthServerDependency[] = [];
  let sharedUnderAnotherSpelling: boolean | undefined;
  setHandler(callsPerServerQuery, () => ({
    calls: [...counts],
    statuses: dependencies.map((dependency) => dependency.availability.status),
    paused: dependencies.map((dependency) => dependency.paused),
    sharedUnderAnotherSpelling,
  }));
  for (const call of calls) dependencies.push(await OAuthServerDependency.register(call.server));
  const [first] = dependencies;
  if (first) {
    const again = await OAuthServerDependency.register(first.server.toUpperCase());
    sharedUnderAnotherSpelling = again === first;
    // One of its two registrations: the server must keep this workflow.
    await again.release();
  }
  await Promise.all(
    calls.map(async (call, index) => {
      const dependency = dependencies[index];
      while (dependency && !stopping) {
        await dependency.run(() => webServiceCall(call, { retry: { maximumAttempts: 1 } }));
        counts[index] = (counts[index] ?? 0) + 1;
        await sleep(intervalMs);
      }
    }),
  );
  for (const dependency of dependencies) await dependency.release();
  return counts;
}
