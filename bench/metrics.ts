import { readFile } from 'node:fs/promises';

const REFUSED_UPDATE_LABELS = ['operation="UpdateWorkflowExecution"', 'resource_exhausted_cause="ConcurrentLimit"', 'service_name="frontend"'];

/**
 * Updates the server refused for the per-workflow in-flight limit, as the dev server's frontend
 * counts them in its Prometheus metrics: the clients retry such refusals on their own (each retry
 * refused again counts again), so neither the workers nor the history show them. Undefined without
 * a metrics endpoint.
 */
export async function refusedUpdates(metricsUrl: string | undefined): Promise<number | undefined> {
  if (!metricsUrl) return undefined;
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^service_errors_resource_exhausted\{([^}]*)\}\s+(\S+)$/.exec(line);
    const labels = match?.[1] ?? '';
    if (REFUSED_UPDATE_LABELS.every((label) => labels.includes(label))) sum += Number(match?.[2]);
  }
  return sum;
}

/** A process's resident memory in MiB, from /proc (Linux). */
export async function residentMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status && /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib ? Math.round(Number(kib) / 1024) : undefined;
}
