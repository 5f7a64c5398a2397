const STATUS_LABELS = { OK: 'OK', Error: 'Error', NotAuthorized: 'Not authorized' };

export const statusLabel = (status) => STATUS_LABELS[status] ?? status;

/** "in 54 min" or "expired", the exact time in the tooltip. */
export function expiryText(iso) {
  if (!iso) return '—';
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60_000);
  if (minutes < 0) return 'expired';
  if (minutes < 1) return 'in under a minute';
  if (minutes < 120) return `in ${minutes} min`;
  return `in ${Math.round(minutes / 60)} h`;
}

export const localTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');

const ACTION_LABELS = {
  create: 'Created',
  edit: 'Edited',
  authorize: 'Authorized',
  delete: 'Deleted',
  forceDelete: 'Force deleted',
  requestCancellation: 'Request Cancellation',
};

export const actionLabel = (action) => ACTION_LABELS[action] ?? action;

/** After a disabled reason: when a server with autoRecover tries again on its own. */
export const nextProbeText = (iso) => (iso ? `Tries again on its own at ${localTime(iso)}.` : '');

/** For one dependent: what it is, and for an import source whether it is paused and on what. */
export function dependentText(dependent) {
  if (!dependent.executionStatus) return 'no longer exists';
  const progress = dependent.importProgress;
  if (!progress) return `${dependent.workflowType}, ${dependent.executionStatus.toLowerCase()}`;
  const imported = `${progress.imported} records imported`;
  if (progress.state === 'paused') {
    const why = progress.lastError ? `: ${progress.lastError}` : '';
    return `import source, paused: the server is ${statusLabel(progress.serverStatus)}${why} (${imported})`;
  }
  return `import source, ${progress.state} (${imported})`;
}
