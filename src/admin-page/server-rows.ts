import type { Client } from '@temporalio/client';
import { listServers, showServer, type ServerListEntry } from '../admin/servers';
import { ServerNotFoundError, ServerUnreachableError } from '../admin/errors';
import type { DisabledReason, ServerStatus } from '../contract/definitions';

/** One line of the OAuth servers list. */
export interface ServerRow {
  name: string;
  category: string;
  status: ServerStatus;
  acquiring: boolean;
  disabledReason?: DisabledReason;
  tokenExpiresAt?: string;
  dependents: number;
  /** When a disabled server with autoRecover tries again on its own. */
  nextProbeAt?: string;
  /** No worker answered for it in time: the row holds only what visibility knows. */
  unreachable?: boolean;
}

export interface ServerRowFilter {
  category?: string;
  status?: ServerStatus;
  /** Part of the name, in any case. */
  name?: string;
}

/** The list shows at most this many servers; a filter narrows it. */
export const MAX_LISTED_SERVERS = 500;
const VIEWS_IN_FLIGHT = 20;
/** One server whose workers are all down must not hold up the whole list. */
const VIEW_TIMEOUT_MS = 3_000;

/**
 * listServers has name, category and status only; the rest of a row comes from each server's view.
 * The status shown is the view's (visibility can lag a moment behind the workflow), and the status
 * filter applies to it, so a row never contradicts its filter.
 */
export async function serverRows(client: Client, filter: ServerRowFilter): Promise<{ rows: ServerRow[]; truncated: boolean }> {
  const entries: ServerListEntry[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await listServers(client, { category: filter.category, nextPageToken });
    const needle = filter.name?.toLowerCase();
    entries.push(...page.servers.filter((server) => !needle || server.name.toLowerCase().includes(needle)));
    nextPageToken = page.nextPageToken;
  } while (nextPageToken && entries.length <= MAX_LISTED_SERVERS);

  const rows: ServerRow[] = [];
  const listed = entries.slice(0, MAX_LISTED_SERVERS);
  for (let start = 0; start < listed.length; start += VIEWS_IN_FLIGHT) {
    for (const row of await Promise.all(listed.slice(start, start + VIEWS_IN_FLIGHT).map((entry) => rowOf(client, entry)))) {
      if (row && (filter.status === undefined || row.status === filter.status)) rows.push(row);
    }
  }
  rows.sort((a, b) => a.name.localeCompare(b.name));
  return { rows, truncated: entries.length > MAX_LISTED_SERVERS };
}

/** A server deleted between the listing and its view is simply not listed. */
async function rowOf(client: Client, entry: ServerListEntry): Promise<ServerRow | undefined> {
  try {
    const view = await showServer(client, entry.name, { timeoutMs: VIEW_TIMEOUT_MS });
    return {
      name: view.config.name,
      category: view.config.category,
      status: view.status,
      acquiring: view.acquiring,
      disabledReason: view.disabledReason,
      tokenExpiresAt: view.tokenExpiresAt,
      dependents: view.dependents,
      nextProbeAt: view.nextProbeAt,
    };
  } catch (error) {
    if (error instanceof ServerNotFoundError) return undefined;
    if (error instanceof ServerUnreachableError) return { ...entry, acquiring: false, dependents: 0, unreachable: true };
    throw error;
  }
}
