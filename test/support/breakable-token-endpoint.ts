import { forwardTokenRequest, startScriptedEndpoint, type TokenEndpoint } from './token-endpoints';

export interface BreakableTokenEndpoint extends TokenEndpoint {
  /** From now on answer 503, as a token endpoint that is down would. */
  break(): void;
  repair(): void;
}

/** A real token endpoint that a test can take down and bring back, to disable and re-enable a server on cue. */
export async function startBreakableTokenEndpoint(target: string): Promise<BreakableTokenEndpoint> {
  let healthy = true;
  const endpoint = await startScriptedEndpoint(async (request, body) => {
    if (!healthy) return { status: 503, headers: { 'content-type': 'text/plain' }, body: 'down for the test' };
    return forwardTokenRequest(target, request, body);
  });
  return {
    ...endpoint,
    break: () => {
      healthy = false;
    },
    repair: () => {
      healthy = true;
    },
  };
}
