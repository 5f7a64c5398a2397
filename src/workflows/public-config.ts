import type { OAuthServerConfig } from '../oauth/config';
import type { PublicServerConfig } from '../contract/definitions';

/** The write-only secret never leaves the workflow: readers learn only where it comes from. */
export function publicConfig(config: OAuthServerConfig): PublicServerConfig {
  const { clientSecret, ...rest } = config;
  return {
    ...rest,
    clientSecret: clientSecret.source === 'local' ? { source: 'local', isSet: true } : { source: 'external', ref: clientSecret.ref },
  };
}
