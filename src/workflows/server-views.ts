import type { ServerAvailability, ServerHistory, ServerView, TokenGrant } from '../contract/definitions';
import { publicConfig } from './public-config';
import { availabilityOf, isAcquiring, type ServerMachineState } from './server-machine';

/** What a worker's webServiceCall learns: a deleted server says so, and hands out no token. */
export function grantOf(state: ServerMachineState): TokenGrant {
  const deleted = state.deleted;
  return {
    status: availabilityOf(state),
    allowedOrigins: state.config.allowedOrigins,
    invalidTokenStatuses: state.config.invalidTokenStatuses,
    token: deleted ? undefined : state.token,
    acquiring: !deleted && isAcquiring(state),
    disabledReason: state.disabledReason,
  };
}

export function viewOf(state: ServerMachineState): ServerView {
  return {
    config: publicConfig(state.config),
    status: state.status,
    acquiring: isAcquiring(state),
    disabledReason: state.disabledReason,
    tokenExpiresAt: state.token ? new Date(state.token.expiresAt).toISOString() : undefined,
    grantedScope: state.token?.grantedScope,
    tokenSerial: state.tokenSerial,
    dependents: state.dependents.length,
    nextProbeAt: state.probe ? new Date(state.probe.dueAt).toISOString() : undefined,
  };
}

export function historyOf(state: ServerMachineState): ServerHistory {
  return { entries: [...state.audit.entries], total: state.audit.total };
}

export function availabilityMessageOf(state: ServerMachineState): ServerAvailability {
  return { server: state.config.name, status: availabilityOf(state), sequence: state.availabilitySequence, disabledReason: state.disabledReason };
}
