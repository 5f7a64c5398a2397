import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
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

/** A failure as it is stored in history. */
export type RawFailure = temporal.api.failure.v1.IFailure;

export interface RawParts {
  payloads: Payload[];
  failures: RawFailure[];
}

/** Every payload and failure anywhere under `node` (a failure's own payloads and causes included). */
function rawPartsIn(node: unknown, found: RawParts): RawParts {
  if (Array.isArray(node)) {
    for (const item of node) rawPartsIn(item, found);
  } else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    const candidate = node as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
    if (candidate.metadata?.encoding && candidate.data) {
      found.payloads.push(candidate);
      return found;
    }
    if ('stackTrace' in node && 'message' in node) found.failures.push(node as RawFailure);
    for (const value of Object.values(node)) rawPartsIn(value, found);
  }
  return found;
}

/** Every payload and failure of one history (or any part of one), as stored. */
export function rawPartsOf(node: unknown): RawParts {
  return rawPartsIn(node, { payloads: [], failures: [] });
}

/** Keeps every history of the client's namespace, fetched without the codec; returns their payloads and failures. */
export async function collectRawHistories(rawClient: Client, label: string): Promise<RawParts> {
  const found: RawParts = { payloads: [], failures: [] };
  // A page of history can pass gRPC's default 4 MiB when its events carry payloads near 2 MiB (a server with all the dependents it can carry).
  if (!(rawClient.connection instanceof Connection)) throw new Error('the leak scan needs a client on a gRPC Connection');
  const options = rawClient.connection.options;
  const connection = await Connection.connect({ ...options, channelArgs: { ...options.channelArgs, 'grpc.max_receive_message_length': MAX_HISTORY_PAGE_BYTES } });
  try {
    const client = new Client({ connection, namespace: rawClient.options.namespace });
    for await (const execution of client.workflow.list()) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      collected.push({ what: `${label} history ${execution.workflowId}`, content: Buffer.from(temporal.api.history.v1.History.encode(history).finish()) });
      rawPartsIn(history.events, found);
    }
  } finally {
    await connection.close();
  }
  return found;
}

const MAX_HISTORY_PAGE_BYTES = 256 * 1024 * 1024;

/**
 * The stretch of base64 (or base64url) text that encodes `bytes` wherever they start inside a longer
 * encoded blob: for each of the three alignments, the characters that depend on `bytes` alone.
 */
function base64Fragments(bytes: Buffer, encoding: 'base64' | 'base64url'): string[] {
  const fragments: string[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding);
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    fragments.push(encoded.slice(first, end));
  }
  return fragments;
}

/** The forms a value could take in a history or a log line: as is, URL-encoded, inside a JSON string, base64 of any alignment, hex. */
function forms(value: string): Buffer[] {
  const bytes = Buffer.from(value);
  const texts = new Set([
    value,
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    ...base64Fragments(bytes, 'base64'),
    ...base64Fragments(bytes, 'base64url'),
    bytes.toString('hex'),
  ]);
  return [...texts].filter((text) => text.length >= 8).map((text) => Buffer.from(text));
}

/** Which of `haystacks` hold any of `needles`, named without the value. */
export function leaksIn(haystacks: readonly { what: string; content: Buffer }[], needles: readonly string[]): string[] {
  const leaks: string[] = [];
  for (const needle of needles) {
    for (const form of forms(needle)) {
      for (const { what, content } of haystacks) if (content.includes(form)) leaks.push(`${what} holds a value of length ${needle.length}`);
    }
  }
  return leaks;
}

/** What of everything collected holds any of `needles`; `scanned` says how much was read. */
export function leaksOf(needles: readonly string[]): { leaks: string[]; scanned: string[] } {
  const haystacks = [
    ...collected,
    ...serverLogs.map(({ what, path }) => ({ what, content: readFileSync(path) })),
    { what: 'the captured worker and client logs', content: Buffer.from(capturedLogs.join('\n')) },
  ];
  return { leaks: leaksIn(haystacks, needles), scanned: haystacks.map(({ what, content }) => `${what} (${content.length} bytes)`) };
}
