import { readFile } from 'node:fs/promises';

/**
 * Updates the server refused as RESOURCE_EXHAUSTED (the per-workflow in-flight limit among them), as
 * the dev server counts them in its Prometheus metrics: the clients retry such refusals on their
 * own, so neither the workers nor the history show them. Undefined without a metrics endpoint.
 */
export async function refusedUpdates(metricsUrl: string | undefined): Promise<number | undefined> {
  if (!metricsUrl) return undefined;
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w*resource_exhausted\w*)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (match?.[2]?.includes('operation="UpdateWorkflowExecution"') && !match[1]?.endsWith('_bucket')) sum += Number(match[3]);
  }
  return sum;
}

/** A process's resident memory in MiB, from /proc (Linux). */
export async function residentMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status && /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib ? Math.round(Number(kib) / 1024) : undefined;
}
