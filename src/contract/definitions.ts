import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AuthMethod, OAuthServerConfig, OAuthServerConfigInput } from '../oauth/config';
import { normaliseServerName } from '../oauth/server-name';

/** The workflow type of the one long-lived workflow per OAuth server. */
export const OAUTH_SERVER_WORKFLOW_TYPE = 'oauthServerWorkflow';

const SERVER_WORKFLOW_ID_PREFIX = 'oauth-server:';

/** The workflow ID is what makes a name unique, so it is derived from the normalised name. */
export function serverWorkflowId(name: string): string {
  return `${SERVER_WORKFLOW_ID_PREFIX}${normaliseServerName(name)}`;
}

export function isServerWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith(SERVER_WORKFLOW_ID_PREFIX);
}

const TOKEN_REQUEST_QUEUE_SUFFIX = '/oauth-token-requests';

/** Where a server workflow on `taskQueue` sends its token requests; the plugin serves it beside every worker. */
export function tokenRequestTaskQueue(taskQueue: string): string {
  return `${taskQueue}${TOKEN_REQUEST_QUEUE_SUFFIX}`;
}

export function isTokenRequestTaskQueue(taskQueue: string): boolean {
  return taskQueue.endsWith(TOKEN_REQUEST_QUEUE_SUFFIX);
}

export type ServerStatus = 'NotAuthorized' | 'OK' | 'Error';

/** Why a server was disabled: everything an admin needs to act, nothing secret. */
export interface DisabledReason {
  /** The OAuth error code, or the transport failure (`timeout`, `connection_failed`, …). */
  code: string;
  description?: string;
  httpStatus?: number;
  /** Unknown only when the acquisition's timeout struck before its last attempt could report. */
  attempts?: number;
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
  /** `Deleted` once the server is deleted: its closed workflow still answers, and hands out nothing. */
  status: ServerStatus | 'Deleted';
  allowedOrigins: string[];
  /** Statuses besides 401 that mean the token was rejected; absent from servers saved before the field existed. */
  invalidTokenStatuses?: number[];
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
  /** Workflow IDs of the live import sources (and other dependents) registered with this server. */
  dependents: number;
  /** ISO-8601 time of the next automatic token request of a disabled server with `autoRecover`. */
  nextProbeAt?: string;
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
/** Who asks for an admin action; kept in the server's history. */
export interface AdminRequest {
  /** 1 to 200 characters, no control characters; absent when the caller did not say. */
  actor?: string;
}

export interface AuthorizeRequest extends AdminRequest {
  /** Sent only with the start of a new server (createServer): the history records a create, not an authorize. */
  create?: boolean;
}
/**
 * An admin asks the server to get a token now: re-authorization after a disable, or a first
 * authorization. Older clients sent no request at all, which the workflow still takes.
 */
export const authorizeUpdate = defineUpdate<ServerView, [AuthorizeRequest]>('authorize');

/**
 * What dependents are told whenever the server's availability changes. `sequence` grows with every
 * change, so a dependent can tell a late message from a newer one, whatever order they reach it in.
 */
export interface ServerAvailability {
  server: string;
  status: ServerStatus | 'Deleted';
  sequence: number;
  disabledReason?: DisabledReason;
}

export interface DependentRegistration {
  workflowId: string;
}

/** Workflow IDs are at most 1,000 bytes: this many stay well inside a payload's size limit. */
export const MAX_DEPENDENTS_PER_REGISTRATION = 500;

export interface DependentsRegistration {
  /** One to MAX_DEPENDENTS_PER_REGISTRATION workflow IDs. */
  workflowIds: string[];
}

/**
 * Dependents register and learn the current availability in the same step, so one that registers
 * while disabled starts paused. A worker gathers the registrations made at the same time into one
 * update, as a workflow takes only a few updates at once.
 */
export const registerDependentsUpdate = defineUpdate<ServerAvailability, [DependentsRegistration]>('registerDependents');
/** A dependent that has finished asks to be forgotten. */
export const unregisterDependentSignal = defineSignal<[DependentRegistration]>('unregisterDependent');
/** Sent by the server to each dependent: pause on Error or Not authorized, resume on OK, stop on Deleted. */
export const serverAvailabilitySignal = defineSignal<[ServerAvailability]>('oauthServerAvailability');
export const dependentsQuery = defineQuery<string[]>('dependents');

/**
 * The optional settings an edit can remove by giving null: without the token URL, the token
 * endpoint is discovered from the issuer's metadata; without the issuer, the token URL is the
 * client assertion's audience.
 */
export const CLEARABLE_FIELDS = ['accessTokenUrl', 'issuer'] as const;
export type ClearableField = (typeof CLEARABLE_FIELDS)[number];
type Clearing<Config> = { [Field in ClearableField & keyof Config]?: Config[Field] | null };

/**
 * Every field but the name may change; a left-out clientSecret keeps the stored one; null removes
 * accessTokenUrl or issuer (one of them must remain).
 */
export type ServerChanges = Partial<Omit<OAuthServerConfigInput, 'name' | ClearableField>> & { name?: string } & Clearing<OAuthServerConfigInput>;
/**
 * What the edit update carries: changes in the form they are stored in (defaults filled in,
 * durations in milliseconds), which editServer makes of ServerChanges. The workflow checks them in
 * its validator and stores them as they are, so replaying an edit never depends on today's rules.
 */
export type NormalisedServerChanges = Partial<Omit<OAuthServerConfig, 'name' | ClearableField>> & { name?: string } & Clearing<OAuthServerConfig>;
/**
 * Saves new settings. A server that was authorized loses its token and must be authorized again.
 * The request beside the changes names who made them (older clients sent the changes only).
 */
export const editUpdate = defineUpdate<ServerView, [NormalisedServerChanges, AdminRequest?]>('edit');

export interface DeleteRequest extends AdminRequest {
  /** Delete even though dependents are registered; they are told and stop waiting. */
  force?: boolean;
}
export const deleteUpdate = defineUpdate<void, [DeleteRequest]>('delete');

/** `requestCancellation`: the Web UI's Request Cancellation (the client's `handle.cancel()`), a forced delete. */
export type AdminAction = 'create' | 'edit' | 'authorize' | 'delete' | 'forceDelete' | 'requestCancellation';

/** One admin action as the server's history keeps it: never a value of a setting, so never a secret. */
export interface AuditEntry {
  action: AdminAction;
  /** ISO-8601 workflow time of the action. */
  at: string;
  /** Absent when the caller did not say (Request Cancellation never does). */
  actor?: string;
  /** For an edit: the names of the settings it changed. */
  fields?: string[];
}

export interface ServerHistory {
  /** The latest actions, oldest first. */
  entries: AuditEntry[];
  /** Every action since the server was created, including those no longer kept. */
  total: number;
}
export const serverHistoryQuery = defineQuery<ServerHistory>('serverHistory');
