import type { AdminAction, ServerHistory, ServerStatus, ServerView } from '../contract/definitions';

/** The words the admin page uses for each status. */
const STATUS_WORDS: Record<ServerStatus, string> = { OK: 'OK', Error: 'Error', NotAuthorized: 'Not authorized' };

export function statusInWords(status: ServerStatus): string {
  return STATUS_WORDS[status] ?? status;
}

/** `--status` accepts the words of the list as well as the stored value: OK, Error, "Not authorized", NotAuthorized, not-authorized. */
export function parseStatus(text: string): ServerStatus | undefined {
  const wanted = text.replace(/[\s_-]/g, '').toLowerCase();
  return (Object.keys(STATUS_WORDS) as ServerStatus[]).find((status) => status.toLowerCase() === wanted);
}

/** One row of `servers list`, also its JSON form. */
export interface ServerRow {
  name: string;
  category: string;
  status: ServerStatus;
  disabledReason?: string;
  tokenExpiresAt?: string;
  dependents: number;
}

export function rowOf(view: ServerView): ServerRow {
  return {
    name: view.config.name,
    category: view.config.category,
    status: view.status,
    disabledReason: view.disabledReason && `${view.disabledReason.message}${nextTry(view)}`,
    tokenExpiresAt: view.tokenExpiresAt,
    dependents: view.dependents,
  };
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function serverTable(rows: ServerRow[]): string {
  return table(
    ['NAME', 'CATEGORY', 'STATUS', 'TOKEN EXPIRES', 'DEPENDENTS', 'DISABLED REASON'],
    rows.map((row) => [row.name, row.category, statusInWords(row.status), row.tokenExpiresAt ?? '-', String(row.dependents), row.disabledReason ?? '']),
  );
}

function nextTry(view: ServerView): string {
  return view.nextProbeAt ? `; tries again at ${view.nextProbeAt}` : '';
}

function autoRecoverInWords(autoRecover: ServerView['config']['autoRecover']): string {
  return autoRecover ? `after ${autoRecover.initialDelay} ms, doubling up to ${autoRecover.maxDelay} ms` : 'no';
}

/** Every setting and the state, the secret shown only as where it comes from. */
export function serverDetails(view: ServerView): string {
  const { config } = view;
  const secret = config.clientSecret.source === 'external' ? `external (${config.clientSecret.ref})` : 'local (set, not shown)';
  const parameters = (list: { name: string; value: string }[]) => (list.length === 0 ? '-' : list.map(({ name, value }) => `${name}=${value}`).join(', '));
  const fields: [string, string][] = [
    ['Name', config.name],
    ['Category', config.category],
    ['Status', statusInWords(view.status) + (view.acquiring ? ' (requesting a token)' : '')],
    ['Disabled reason', view.disabledReason ? `${view.disabledReason.message}${nextTry(view)}` : '-'],
    ['Token expires', view.tokenExpiresAt ?? '-'],
    ['Granted scope', view.grantedScope ?? '-'],
    ['Dependents', String(view.dependents)],
    ['Grant type', config.grantType],
    ['Auth method', config.authMethod],
    ['Client ID', config.clientId],
    ['Client secret', secret],
    ['Access token URL', config.accessTokenUrl ?? "- (read from the issuer's metadata)"],
    ['Issuer', config.issuer ?? '-'],
    ['Scope', config.scope === '' ? '-' : config.scope],
    ['Include scope', config.includeScope ? 'yes' : 'no'],
    ['Max retry attempts', String(config.maxRetryAttempts)],
    ['Max wait', `${config.maxWait} ms`],
    ['Query parameters', parameters(config.queryParams)],
    ['Post parameters', parameters(config.postParams)],
    ['Allowed origins', config.allowedOrigins.length === 0 ? '-' : config.allowedOrigins.join(', ')],
    ['Auto recover', autoRecoverInWords(config.autoRecover)],
    ['Invalid token statuses', (config.invalidTokenStatuses ?? []).length === 0 ? '-' : config.invalidTokenStatuses.join(', ')],
  ];
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n');
}

const ACTION_WORDS: Record<AdminAction, string> = {
  create: 'create',
  edit: 'edit',
  authorize: 'authorize',
  delete: 'delete',
  forceDelete: 'force delete',
  requestCancellation: 'Request Cancellation',
};

/** `servers history`: oldest first, with how many older actions are no longer kept. */
export function historyTable(history: ServerHistory): string {
  const rows = history.entries.map((entry) => [entry.at, entry.actor ?? '(unknown)', ACTION_WORDS[entry.action] ?? entry.action, entry.fields?.join(', ') ?? '']);
  const older = history.total - history.entries.length;
  return [table(['TIME', 'ACTOR', 'ACTION', 'SETTINGS CHANGED'], rows), ...(older > 0 ? [`(${older} older action${older === 1 ? '' : 's'} not kept)`] : [])].join('\n');
}
