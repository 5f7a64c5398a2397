import * as wf from '@temporalio/workflow';
import type { ServerStatus } from '../contract/definitions';
import { normaliseServerName } from '../oauth/server-name';

export const ServerMetric = {
  Servers: { name: 'temporal_oauth_servers', help: 'By server and status: 1 for the status the server is in, 0 for the others' },
  Dependents: { name: 'temporal_oauth_server_dependents', help: 'Workflows registered as dependents of the server' },
} as const;

const STATUSES: readonly ServerStatus[] = ['NotAuthorized', 'OK', 'Error'];

interface ObservedServer {
  readonly config: { readonly name: string };
  readonly status: ServerStatus;
  readonly deleted: boolean;
  readonly dependents: readonly string[];
}

interface Reported {
  status: ServerStatus | undefined;
  dependents: number;
}

/**
 * The server's own status and number of dependents, as gauges through the workflow's meter.
 *
 * The SDK records nothing while a workflow replays, so "what this worker last reported" is kept
 * only from live code: a worker that takes a server over (after a restart, an eviction, a
 * continue-as-new) reports every status of it afresh at the server's first live step there, and a
 * status it leaves is set to 0, not left at 1. A deleted server sets all of its gauges to 0.
 */
export class ServerMetrics {
  private reported?: Reported;

  constructor(state: ObservedServer) {
    this.observe(state);
  }

  observe(state: ObservedServer): void {
    if (wf.workflowInfo().unsafe.isReplaying) return;
    const now: Reported = { status: state.deleted ? undefined : state.status, dependents: state.deleted ? 0 : state.dependents.length };
    const server = normaliseServerName(state.config.name);
    if (!this.reported || this.reported.status !== now.status) {
      const gauge = wf.metricMeter.createGauge(ServerMetric.Servers.name, 'int', undefined, ServerMetric.Servers.help);
      for (const status of STATUSES) gauge.set(status === now.status ? 1 : 0, { server, status });
    }
    if (!this.reported || this.reported.dependents !== now.dependents) {
      wf.metricMeter.createGauge(ServerMetric.Dependents.name, 'int', undefined, ServerMetric.Dependents.help).set(now.dependents, { server });
    }
    this.reported = now;
  }
}
