import type { Client } from '@temporalio/client';
import { listServers, showServer } from '../admin/servers';
import { ServerNotFoundError } from '../admin/errors';
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

/**
 * listServers has name, category and status only; the rest of a row comes from each server's view.
 * The status shown is the view's (visibility can lag a moment behind the workflow), and the status
 * filter applies to it, so a row never contradicts its filter.
 */
export async function serverRows(client: Client, filter: ServerRowFilter): Promise<{ rows: ServerRow[]; truncated: boolean }> {
  const names: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await listServers(client, { category: filter.category, nextPageToken });
    const needle = filter.name?.toLowerCase();
    names.push(...page.servers.map((server) => server.name).filter((name) => !needle || name.toLowerCase().includes(needle)));
    nextPageToken = page.nextPageToken;
  } while (nextPageToken && names.length <= MAX_LISTED_SERVERS);

  const rows: ServerRow[] = [];
  const listed = names.slice(0, MAX_LISTED_SERVERS);
  for (let start = 0; start < listed.length; start += VIEWS_IN_FLIGHT) {
    const views = await Promise.all(listed.slice(start, start + VIEWS_IN_FLIGHT).map((name) => viewOrGone(client, name)));
    for (const view of views) {
      if (!view || (filter.status !== undefined && view.status !== filter.status)) continue;
      rows.push({
        name: view.config.name,
        category: view.config.category,
        status: view.status,
        acquiring: view.acquiring,
        disabledReason: view.disabledReason,
        tokenExpiresAt: view.tokenExpiresAt,
        dependents: view.dependents,
        nextProbeAt: view.nextProbeAt,
      });
    }
  }
  rows.sort((a, b) => a.name.localeCompare(b.name));
  return { rows, truncated: names.length > MAX_LISTED_SERVERS };
}

/** A server deleted between the listing and its view is simply not listed. */
async function viewOrGone(client: Client, name: string) {
  try {
    return await showServer(client, name);
  } catch (error) {
    if (error instanceof ServerNotFoundError) return undefined;
    throw error;
  }
}
