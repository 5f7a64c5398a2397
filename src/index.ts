// First, so that an old Node.js is named before a dependency breaks on it.
import { requireSupportedNode } from './supported-node';
requireSupportedNode();

export { TemporalOAuthPlugin, type TemporalOAuthPluginOptions } from './plugin/plugin';
export type { OAuthActivitiesOptions } from './activities';
export { WebServiceCallFailure } from './contract/failures';
export type { WebServiceCallInput, WebServiceCallResult, WebServiceCallBody } from './activities/web-service-call-types';
export { parseOAuthServerConfig, type OAuthServerConfig, type OAuthServerConfigInput, type AuthMethod, AUTH_METHODS } from './oauth/config';
export { ConfigValidationError, TokenRequestError } from './oauth/errors';
export type { SecretProvider } from './oauth/secrets';
export { SecretReferencesError, type SecretReferences } from './oauth/secret-references';
export { DependentsAnswerError, FanOutOptionError } from './activities/tell-dependents';
export * from './admin/servers';
export { ServerAlreadyExistsError, ServerChangeRejectedError, ServerNotFoundError, ServerUnreachableError } from './admin/errors';
export { OAUTH_SEARCH_ATTRIBUTES } from './contract/search-attributes';
export type { ServerView, ServerStatus, DisabledReason, ServerChanges, ServerAvailability, ServerHistory, AuditEntry, AdminAction } from './contract/definitions';
export { parseCodecKeyRing, loadCodecKeyRing, generateCodecKey, CodecKeyError, type CodecKeyRing, type CodecKeyFileContents } from './codec/codec-keys';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './codec/codec-server';
export { EncryptionCodec } from './codec/encryption-codec';
export { startAdminServer, type AdminServer, type AdminServerOptions } from './admin-page/admin-server';
export { ServerFailure } from './contract/failures';
export { MINIMUM_NODE_VERSION } from './supported-node';
