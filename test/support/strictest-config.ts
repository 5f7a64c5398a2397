/**
 * The configuration module as a later release might tighten it, to the extreme: every configuration
 * is refused. The replay test bundles the workflows with this module in place of the real one.
 */
import { ConfigValidationError } from '../../src/oauth/errors';

export * from '../../src/oauth/config';

export function parseOAuthServerConfig(): never {
  throw new ConfigValidationError([{ field: 'name', message: 'refused by a rule of a later release' }]);
}
