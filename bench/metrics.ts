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

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's CPU time (user and system, every thread), in seconds, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) may hold spaces: the fields counted from 3 follow its closing parenthesis.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [user, system] = [Number(fields?.[11]), Number(fields?.[12])];
  return Number.isFinite(user) && Number.isFinite(system) ? (user + system) / CLOCK_TICKS_PER_SECOND : undefined;
}

/** CPU seconds spent since the meter was started: the dev server's (NaN without one) and this process's (the bench, its in-process worker and their threads). */
export interface CpuSpent {
  devServer: number;
  bench: number;
}

export async function cpuMeter(devServerPid: number | undefined): Promise<() => Promise<CpuSpent>> {
  const devServerAt = devServerPid === undefined ? undefined : await cpuSeconds(devServerPid);
  const benchAt = process.cpuUsage();
  return async () => {
    const { user, system } = process.cpuUsage(benchAt);
    const devServerNow = devServerPid === undefined ? undefined : await cpuSeconds(devServerPid);
    const devServer = devServerAt === undefined || devServerNow === undefined ? Number.NaN : Math.round((devServerNow - devServerAt) * 100) / 100;
    return { devServer, bench: Math.round((user + system) / 10_000) / 100 };
  };
}
