import { startScriptedEndpoint, type TokenEndpoint } from './token-endpoints';

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
    const upstream = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': String(request.headers['content-type'] ?? 'application/x-www-form-urlencoded'),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      },
      body,
    });
    return {
      status: upstream.status,
      headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
      body: Buffer.from(await upstream.arrayBuffer()),
    };
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
