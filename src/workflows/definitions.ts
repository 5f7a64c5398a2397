import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuthMethod, OAuthServerConfig } from '../oauth/config';
import { normaliseServerName } from '../oauth/server-name';

/** The workflow type of the one long-lived workflow per OAuth server. */
export const OAUTH_SERVER_WORKFLOW_TYPE = 'oauthServerWorkflow';

/** The workflow ID is what makes a name unique, so it is derived from the normalised name. */
export function serverWorkflowId(name: string): string {
  return `oauth-server:${normaliseServerName(name)}`;
}

export type ServerStatus = 'NotAuthorized' | 'OK' | 'Error';

/** Why a server was disabled: everything an admin needs to act, nothing secret. */
export interface DisabledReason {
  /** The OAuth error code, or the transport failure (`timeout`, `connection_failed`, …). */
  code: string;
  description?: string;
  httpStatus?: number;
  attempts: number;
  elapsedMs: number;
  /** ISO-8601 time at which the server was disabled. */
  at: string;
  /** One line for a list column: the pieces above in words. */
  message: string;
}

/** The token as the workflow holds it; `serial` lets a caller say which token it saw rejected without sending it back. */
export interface HeldToken {
  accessToken: string;
  serial: number;
  obtainedAt: number;
  expiresAt: number;
  grantedScope?: string;
}

/** What a webServiceCall needs from the server workflow. */
export interface TokenGrant {
  status: ServerStatus;
  allowedOrigins: string[];
  token?: HeldToken;
  /** True while a token request is under way; a caller then waits for its outcome rather than failing. */
  acquiring: boolean;
  disabledReason?: DisabledReason;
}

/** The configuration as anyone may see it: the secret replaced by where it comes from. */
export interface PublicServerConfig extends Omit<OAuthServerConfig, 'clientSecret'> {
  clientSecret: { source: 'local'; isSet: true } | { source: 'external'; ref: string };
  authMethod: AuthMethod;
}

export interface ServerView {
  config: PublicServerConfig;
  status: ServerStatus;
  acquiring: boolean;
  disabledReason?: DisabledReason;
  tokenExpiresAt?: string;
  grantedScope?: string;
  tokenSerial: number;
}

/** Admin-facing state, never the secret or the token. */
export const serverViewQuery = defineQuery<ServerView>('serverView');
/** For the plugin's own activities only: carries the access token (encrypted by the payload codec). */
export const tokenGrantQuery = defineQuery<TokenGrant>('tokenGrant');

export interface FreshTokenRequest {
  /** The serial of a token a resource server rejected; the workflow replaces it once for all who saw it. */
  rejectedSerial?: number;
}
/** Waits until the server holds a usable token (refreshing a rejected one), then returns the grant. */
export const freshTokenUpdate = defineUpdate<TokenGrant, [FreshTokenRequest]>('freshToken');
/** An admin asks the server to get a token now: re-authorization after a disable, or a first authorization. */
export const authorizeUpdate = defineUpdate<ServerView, []>('authorize');
