import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { capturedLogs } from './captured-logs';

/**
 * Everything the final scan reads for leaked secrets and tokens: raw histories and server logs,
 * collected from each Temporal server of the run before it is torn down, and every captured log line.
 */
const collected: { what: string; content: Buffer }[] = [];
const serverLogs: { what: string; path: string }[] = [];

/** Where a dev server of the run writes its log, so that the scan can read it. */
export function serverLogFile(label: string): string {
  const path = join(tmpdir(), `temporal-oauth-${label}-${process.pid}.log`);
  rmSync(path, { force: true });
  serverLogs.push({ what: `the ${label} server log`, path });
  return path;
}

function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(node)) {
    for (const item of node) payloadsIn(item, found);
  } else if (node && typeof node === 'object') {
    const candidate = node as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
    if (candidate.metadata?.encoding && candidate.data) found.push(candidate);
    else for (const value of Object.values(node)) payloadsIn(value, found);
  }
  return found;
}

/** Keeps every history of the client's namespace, fetched without the codec; returns their payloads. */
export async function collectRawHistories(rawClient: Client, label: string): Promise<Payload[]> {
  const payloads: Payload[] = [];
  for await (const execution of rawClient.workflow.list()) {
    const history = await rawClient.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    collected.push({ what: `${label} history ${execution.workflowId}`, content: Buffer.from(temporal.api.history.v1.History.encode(history).finish()) });
    payloadsIn(history.events, payloads);
  }
  return payloads;
}

/** The forms a value could take in a history or a log line. */
function forms(value: string): Buffer[] {
  return [Buffer.from(value), Buffer.from(Buffer.from(value).toString('base64'))];
}

/** What holds any of `needles`, named without the value; `scanned` says how much was read. */
export function leaksOf(needles: string[]): { leaks: string[]; scanned: string[] } {
  const haystacks = [
    ...collected,
    ...serverLogs.map(({ what, path }) => ({ what, content: readFileSync(path) })),
    { what: 'the captured worker and client logs', content: Buffer.from(capturedLogs.join('\n')) },
  ];
  const leaks: string[] = [];
  for (const needle of needles) {
    for (const form of forms(needle)) {
      for (const { what, content } of haystacks) if (content.includes(form)) leaks.push(`${what} holds a value of length ${needle.length}`);
    }
  }
  return { leaks, scanned: haystacks.map(({ what, content }) => `${what} (${content.length} bytes)`) };
}
