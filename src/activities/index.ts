import { Context } from '@temporalio/activity';
import { parseSecretReferences, SECRET_REFERENCES_ENV, type SecretReferences } from '../oauth/secret-references';
import { SecretResolver, envSecretProvider, fileSecretProvider, type SecretProvider } from '../oauth/secrets';
import { createAcquireToken, whenDue } from './acquire-token';
import { DependentRegistrations } from './dependent-registrations';
import { tokenCacheMetrics, withFanOutMetrics, withTokenRequestMetrics, withWebServiceCallMetrics } from './metrics';
import { perNamespace } from './per-namespace';
import { createRegisterOAuthDependent } from './register-dependent';
import { createTellOAuthDependents } from './tell-dependents';
import { WorkerTokenCache } from './token-cache';
import { workflowTokenSource } from './token-source';
import { tracedTokenRequest, tracedWebServiceCall } from './tracing';
import { createWebServiceCall } from './web-service-call';

export interface OAuthActivitiesOptions {
  /** Stores for `{ source: 'external', ref }` secrets beyond the built-in `env:` and `file:`. */
  secretProviders?: SecretProvider[];
  /**
   * The external secrets server configurations may name: env prefixes, file roots and provider
   * schemes. Left out, it is read from TEMPORAL_OAUTH_SECRET_REFERENCES
   * (`env:CRM_,file:/run/secrets,provider:vault`); with neither, every external reference is refused.
   */
  secretReferences?: SecretReferences;
  /** Bound on one token HTTP exchange. Default 30 s; the server's maxWait bounds all attempts together. */
  tokenRequestTimeoutMs?: number;
  /** Signals one fan-out activity keeps in flight when a server tells its dependents. Default: all of them at once. */
  fanOutSignalsInFlight?: number;
}

const DEFAULT_TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/** The plugin's activities. One set per process: its token cache and registrations are shared by every worker that uses it. */
export function createOAuthActivities(options: OAuthActivitiesOptions = {}) {
  const secrets = new SecretResolver([envSecretProvider, fileSecretProvider, ...(options.secretProviders ?? [])], {
    references: options.secretReferences ?? parseSecretReferences(process.env[SECRET_REFERENCES_ENV] ?? ''),
  });
  const tokens = perNamespace(() => new WorkerTokenCache(workflowTokenSource(() => Context.current().client), Date.now, tokenCacheMetrics));
  return {
    acquireOAuthToken: whenDue(
      withTokenRequestMetrics(tracedTokenRequest(createAcquireToken({ secrets, requestTimeoutMs: options.tokenRequestTimeoutMs ?? DEFAULT_TOKEN_REQUEST_TIMEOUT_MS }))),
    ),
    webServiceCall: withWebServiceCallMetrics(tracedWebServiceCall(createWebServiceCall(tokens))),
    registerOAuthDependent: createRegisterOAuthDependent(perNamespace(() => new DependentRegistrations())),
    tellOAuthDependents: withFanOutMetrics(createTellOAuthDependents(options.fanOutSignalsInFlight)),
  };
}

export type OAuthActivities = ReturnType<typeof createOAuthActivities>;

/**
 * What the server workflows schedule on their task queue of their own (served beside every worker of
 * the plugin, so that webServiceCalls waiting for a token can never take these slots).
 */
export type ServerWorkflowActivities = Pick<OAuthActivities, 'acquireOAuthToken' | 'tellOAuthDependents'>;
