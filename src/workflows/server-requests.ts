import type { OAuthServerConfig } from '../oauth/config';
import { normaliseServerName } from '../oauth/server-name';
import { actorProblem } from '../contract/actor';
import {
  MAX_DEPENDENTS_PER_REGISTRATION,
  type AdminRequest,
  type AuthorizeRequest,
  type DeleteRequest,
  type DependentRegistration,
  type DependentsRegistration,
  type FreshTokenRequest,
  type NormalisedServerChanges,
} from '../contract/definitions';
import { nonRetryable, ServerFailure } from '../contract/failures';
import { arrivedEncrypted } from './encrypted-input';
import { withChanges } from '../contract/server-changes';
import { canonicalJson } from './canonical-json';
import { configRules } from './config-rules';
import { DEPENDENTS_BUDGET_BYTES, dependentsBytes } from './fan-out-chunks';

/**
 * The checks of every payload the server workflow takes. They run in update validators, which never
 * run on replay, so a rule tightened in a later release cannot fail an old history; the handlers then
 * apply what passed here without checking it again.
 */

/** Workflow IDs are at most 1,000 bytes (Temporal's default limit). */
const MAX_WORKFLOW_ID_LENGTH = 1_000;

function invalid(field: string, message: string): Error {
  return nonRetryable(ServerFailure.InvalidRequest, `${field}: ${message}`, { field });
}

/** `what` names the payload in messages; a refusal of the payload as a whole names the field `payload`. */
function record(payload: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  const prototype: unknown = typeof payload === 'object' && payload !== null ? Object.getPrototypeOf(payload) : undefined;
  if (prototype !== Object.prototype && prototype !== null) throw invalid('payload', `the ${what} must be a plain object`);
  const unknownKey = Object.keys(payload as object).find((key) => !allowed.includes(key));
  if (unknownKey !== undefined) throw invalid(JSON.stringify(unknownKey.slice(0, 100)), `is not a field of the ${what}`);
  return payload as Record<string, unknown>;
}

/**
 * Every start and update must come from a holder of the codec keys (the plugin's clients and
 * activities always send objects, encrypted); `what` names the payload. Call it on the argument as the
 * SDK handed it over: a copy loses the mark.
 */
export function checkArrivedEncrypted(payload: unknown, what: string): void {
  if (!arrivedEncrypted(payload)) {
    throw nonRetryable(ServerFailure.NotEncrypted, `${what}: must be sent encrypted by a client with the plugin and its codec keys`, { field: what });
  }
}

function isWorkflowId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_WORKFLOW_ID_LENGTH;
}

export function checkFreshTokenRequest(payload: unknown): FreshTokenRequest {
  const { rejectedSerial } = record(payload ?? {}, 'freshToken request', ['rejectedSerial']);
  if (rejectedSerial !== undefined && !(Number.isSafeInteger(rejectedSerial) && (rejectedSerial as number) >= 1)) {
    throw invalid('rejectedSerial', 'must be a positive integer');
  }
  return { rejectedSerial: rejectedSerial as number | undefined };
}

export function checkDependentsRegistration(payload: unknown): DependentsRegistration {
  const { workflowIds } = record(payload, 'registration', ['workflowIds']);
  if (
    !Array.isArray(workflowIds) ||
    workflowIds.length === 0 ||
    workflowIds.length > MAX_DEPENDENTS_PER_REGISTRATION ||
    !workflowIds.every(isWorkflowId)
  ) {
    throw invalid('workflowIds', `must hold 1 to ${MAX_DEPENDENTS_PER_REGISTRATION} workflow IDs (non-empty strings of at most ${MAX_WORKFLOW_ID_LENGTH} characters)`);
  }
  return { workflowIds };
}

/**
 * Refuses, whole, a registration that would take the server's dependents past the budget: past it,
 * the server could neither tell them in one activity nor carry them over continue-as-new. Already
 * registered IDs cost nothing. Counted afresh each time: a registration is rare next to the calls.
 */
export function checkDependentsFit(server: string, dependents: readonly string[], workflowIds: readonly string[]): void {
  const known = new Set(dependents);
  const added = new Set(workflowIds.filter((workflowId) => !known.has(workflowId)));
  const bytes = dependentsBytes(dependents);
  const adding = dependentsBytes(added);
  if (added.size > 0 && bytes + adding > DEPENDENTS_BUDGET_BYTES) {
    throw nonRetryable(
      ServerFailure.TooManyDependents,
      `OAuth server ${server} has ${dependents.length} dependents, whose workflow IDs take ${bytes} of the ${DEPENDENTS_BUDGET_BYTES} bytes it can carry; ` +
        `the ${added.size} registering would need ${adding} more. Spread the dependents over more OAuth servers, or give them shorter workflow IDs.`,
      { dependents: dependents.length, bytes, adding, budgetBytes: DEPENDENTS_BUDGET_BYTES },
    );
  }
}

/** Signals have no validator: a bad one is ignored, which is all a handler may do. */
export function isDependentRegistration(payload: unknown): payload is DependentRegistration {
  return typeof payload === 'object' && payload !== null && isWorkflowId((payload as { workflowId?: unknown }).workflowId);
}

function checkActor(actor: unknown): void {
  const problem = actor === undefined ? undefined : actorProblem(actor);
  if (problem !== undefined) throw invalid('actor', problem);
}

function checkFlag(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalid(field, 'must be true or false');
}

/** Who asks for an edit, sent beside the changes; `what` names the payload. */
export function checkAdminRequest(payload: unknown, what: string): AdminRequest {
  const request = record(payload ?? {}, what, ['actor']);
  checkActor(request.actor);
  return request;
}

export function checkAuthorizeRequest(payload: unknown): AuthorizeRequest {
  const request = record(payload ?? {}, 'authorize request', ['actor', 'create']);
  checkActor(request.actor);
  checkFlag(request.create, 'create');
  return request;
}

export function checkDeleteRequest(payload: unknown): DeleteRequest {
  const request = record(payload ?? {}, 'delete request', ['force', 'actor']);
  checkFlag(request.force, 'force');
  checkActor(request.actor);
  return request;
}

function configFields(): string[] {
  return Object.keys(configRules().oauthServerConfigSchema.shape);
}

/**
 * An edit must leave a valid configuration and be in the form it is stored in (what editServer
 * sends: defaults filled in, durations in milliseconds, origins and scope normalised), since the
 * handler stores it as it is.
 */
export function checkServerChanges(config: OAuthServerConfig, payload: unknown): NormalisedServerChanges {
  const fields = configFields();
  const changes = record(payload, 'changes', fields) as NormalisedServerChanges;
  if (changes.name !== undefined && (typeof changes.name !== 'string' || normaliseServerName(changes.name) !== normaliseServerName(config.name))) {
    throw invalid('name', 'an OAuth server cannot be renamed; create a new one and delete this one');
  }
  const merged = withChanges(config, changes);
  const parsed = configRules().parseOAuthServerConfig(merged);
  const unnormalised = fields.find((field) => canonicalJson(parsed[field as keyof OAuthServerConfig]) !== canonicalJson(merged[field as keyof OAuthServerConfig]));
  if (unnormalised !== undefined) throw invalid(unnormalised, 'must be sent in its stored form (editServer normalises it)');
  return changes;
}

/**
 * A new server's configuration must be one that createServer would have stored. Returns the reason
 * it is not, or undefined.
 */
export function startConfigProblem(config: unknown): Error | undefined {
  // Outside the try: a rules module that fails to load is the worker's fault, not a bad input.
  const rules = configRules();
  try {
    const parsed = rules.parseOAuthServerConfig(config);
    const field = configFields().find((key) => canonicalJson(parsed[key as keyof OAuthServerConfig]) !== canonicalJson((config as Record<string, unknown>)[key]));
    return field === undefined ? undefined : invalid(`config.${field}`, 'must be in its stored form (createServer normalises it)');
  } catch (error) {
    return nonRetryable(ServerFailure.InvalidRequest, error instanceof Error ? error.message : 'config: invalid', { field: 'config' });
  }
}
