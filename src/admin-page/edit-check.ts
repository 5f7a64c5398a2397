import { parseOAuthServerConfig } from '../oauth/config';
import { withChanges } from '../contract/server-changes';
import type { PublicServerConfig, ServerChanges } from '../contract/definitions';

/**
 * Stands in for a kept local secret, which the page never sees: an external reference passes the
 * schema without the checks that only the real value could pass.
 */
const KEPT_SECRET = { source: 'external', ref: 'kept:stored-secret' } as const;

/**
 * Checks an edit against the server's current settings before it is sent, so that a refusal comes
 * back as ConfigValidationError with one issue per field. The server workflow checks it again.
 */
export function checkChanges(current: PublicServerConfig, changes: ServerChanges): void {
  const kept = current.clientSecret.source === 'external' ? current.clientSecret : KEPT_SECRET;
  parseOAuthServerConfig(withChanges({ ...current, clientSecret: kept }, changes));
}
