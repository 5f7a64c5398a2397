import { status } from '@grpc/grpc-js';
import { isGrpcServiceError, ServiceError, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { oauthServerConfigSchema, parseOAuthServerConfig, type OAuthServerConfigInput } from '../oauth/config';
import { ConfigValidationError, type ConfigIssue } from '../oauth/errors';
import {
  authorizeUpdate,
  deleteUpdate,
  dependentsQuery,
  editUpdate,
  OAUTH_SERVER_WORKFLOW_TYPE,
  serverHistoryQuery,
  serverViewQuery,
  serverWorkflowId,
  type ServerHistory,
  type NormalisedServerChanges,
  type ServerChanges,
  type ServerStatus,
  type ServerView,
  unregisterDependentSignal,
} from '../contract/definitions';
import type { oauthServerWorkflow } from '../workflows/oauth-server';
import { OAUTH_SERVER_CATEGORY, OAUTH_SERVER_NAME, OAUTH_SERVER_STATUS } from '../contract/search-attributes';
import { actorProblem } from '../contract/actor';
import { ServerFailure } from '../contract/failures';
import { isClearable } from '../contract/server-changes';
import { ServerAlreadyExistsError, ServerChangeRejectedError, ServerNotFoundError, ServerUnreachableError } from './errors';

/** Every change is kept in the server's history with who made it (see serverHistory). */
export interface ActorOption {
  /** Who does it: a user name of 1 to 200 characters without control characters. */
  actor?: string;
}

export interface AdminOptions extends ActorOption {
  /** The task queue of the workers that run the plugin. */
  taskQueue: string;
}

/**
 * Saves a new OAuth server and waits for its first token request. The server is saved even when
 * that request fails: the returned view then shows status Error and the reason.
 */
export async function createServer(client: Client, input: OAuthServerConfigInput, { taskQueue, actor }: AdminOptions): Promise<ServerView> {
  const config = parseOAuthServerConfig(input);
  // The workflow would refuse a bad actor only after it had started: the server would be half-saved.
  const problem = actor === undefined ? undefined : actorProblem(actor);
  if (problem !== undefined) throw new ServerChangeRejectedError(config.name, ServerFailure.InvalidRequest, `actor: ${problem}`);
  const start = new WithStartWorkflowOperation<typeof oauthServerWorkflow>(OAUTH_SERVER_WORKFLOW_TYPE, {
    workflowId: serverWorkflowId(config.name),
    taskQueue,
    args: [{ config }],
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: OAUTH_SERVER_NAME, value: config.name },
      { key: OAUTH_SERVER_CATEGORY, value: config.category },
      { key: OAUTH_SERVER_STATUS, value: 'NotAuthorized' },
    ],
  });
  try {
    return await client.workflow.executeUpdateWithStart(authorizeUpdate, { args: [{ actor, create: true }], startWorkflowOperation: start });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ServerAlreadyExistsError(config.name);
    throw changeRejection(config.name, error) ?? error;
  }
}

/** The workflow's own refusal of a request (deleted meanwhile, has dependents, …), in the admin API's terms. */
function changeRejection(name: string, error: unknown): ServerChangeRejectedError | undefined {
  if (!(error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)) return undefined;
  return new ServerChangeRejectedError(name, error.cause.type ?? 'Error', error.cause.message);
}

/** Asked again, a server that has just closed answers NOT_FOUND; one that is still running takes the request. */
const ATTEMPTS_AROUND_CLOSING_WORKFLOW = 3;

/** How the server answers an update that met the workflow's final task. */
function metClosingWorkflow(error: unknown): boolean {
  return error instanceof ServiceError && isGrpcServiceError(error.cause) && error.cause.code === status.FAILED_PRECONDITION;
}

/** Runs one request against a server's workflow, turning Temporal's errors into the admin API's own. */
async function onServer<T>(name: string, request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new ServerNotFoundError(name);
      const rejection = changeRejection(name, error);
      if (rejection) throw rejection;
      if (metClosingWorkflow(error) && attempt < ATTEMPTS_AROUND_CLOSING_WORKFLOW) continue;
      throw error;
    }
  }
}

const handle = (client: Client, name: string) => client.workflow.getHandle(serverWorkflowId(name));

/** A deleted server's workflow has ended but would still answer queries: only a running one is a server. */
async function runningServer(client: Client, name: string): Promise<ReturnType<typeof handle>> {
  const server = handle(client, name);
  if ((await server.describe()).status.name !== 'RUNNING') throw new WorkflowNotFoundError(`OAuth server ${name} was deleted`, server.workflowId, undefined);
  return server;
}

export interface ShowServerOptions {
  /** Fails with ServerUnreachableError when no worker answers within this long (a query needs one). */
  timeoutMs?: number;
}

/** Fails with ServerUnreachableError when no worker of the server's task queue answers. */
export function showServer(client: Client, name: string, { timeoutMs }: ShowServerOptions = {}): Promise<ServerView> {
  const show = () => onServer(name, async () => (await runningServer(client, name)).query(serverViewQuery));
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  return (deadline === undefined ? show() : client.withDeadline(deadline, show)).catch((error: unknown) => {
    // At its deadline a query may also end as CANCELLED rather than DEADLINE_EXCEEDED.
    const pastDeadline = deadline !== undefined && Date.now() >= deadline;
    throw noWorkerAnswered(error) || pastDeadline ? new ServerUnreachableError(name) : error;
  });
}

/** A query times out, or the server answers at once that no worker has polled the task queue lately. */
function noWorkerAnswered(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && (cause.code === status.DEADLINE_EXCEEDED || cause.code === status.FAILED_PRECONDITION);
}

/** Asks the server for a token now; after a disable this is the admin's re-authorization. */
export function authorizeServer(client: Client, name: string, { actor }: ActorOption = {}): Promise<ServerView> {
  return onServer(name, () => handle(client, name).executeUpdate(authorizeUpdate, { args: [{ actor }] }));
}

/**
 * Saves new settings (a left-out clientSecret keeps the stored one). The server then holds no
 * token and is Not authorized until it is authorized again; an invalid change writes nothing.
 */
export async function editServer(client: Client, name: string, changes: ServerChanges, { actor }: ActorOption = {}): Promise<ServerView> {
  const normalised = normalisedChanges(name, changes);
  return onServer(name, () => handle(client, name).executeUpdate(editUpdate, { args: [normalised, { actor }] }));
}

/**
 * The workflow stores an edit as it receives it (so that replaying it never depends on today's
 * rules): each field goes in its stored form, checked here on its own; the server's validator then
 * checks the whole configuration it makes.
 */
function normalisedChanges(name: string, changes: ServerChanges): NormalisedServerChanges {
  const fields: Record<string, { safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }> =
    oauthServerConfigSchema.shape;
  const issues: ConfigIssue[] = [];
  const normalised: Record<string, unknown> = {};
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    issues.push({ field: '(changes)', message: 'changes must be an object of settings' });
  }
  for (const [field, value] of Object.entries(issues.length ? {} : changes)) {
    const schema = Object.hasOwn(fields, field) ? fields[field] : undefined;
    if (value === undefined || field === 'name') {
      if (value !== undefined) normalised[field] = value;
    } else if (value === null && isClearable(field)) {
      normalised[field] = null;
    } else if (!schema) {
      issues.push({ field, message: `${field} is not a setting of an OAuth server` });
    } else {
      const result = schema.safeParse(value);
      if (result.success) normalised[field] = result.data;
      else issues.push(...result.error.issues.map((issue) => ({ field: [field, ...issue.path.map(String)].join('.'), message: issue.message })));
    }
  }
  if (issues.length) {
    const error = new ConfigValidationError(issues);
    throw new ServerChangeRejectedError(name, error.name, error.message);
  }
  return normalised;
}

/** Describes at most this many dependents at once while looking for ended ones. */
const DEPENDENT_CHECKS_IN_FLIGHT = 50;

/**
 * Deletes a server; refused while live dependents are registered unless `force`, which tells them
 * to stop. Dependents that ended without unregistering (terminated, timed out) do not count: they
 * are forgotten first.
 */
export async function deleteServer(client: Client, name: string, { force = false, actor }: { force?: boolean } & ActorOption = {}): Promise<void> {
  await onServer(name, async () => {
    const server = handle(client, name);
    if (!force) await forgetEndedDependents(client, server);
    await server.executeUpdate(deleteUpdate, { args: [{ force, actor }] });
    await server.result();
  });
}

async function forgetEndedDependents(client: Client, server: ReturnType<typeof handle>): Promise<void> {
  const dependents = await server.query(dependentsQuery);
  for (let start = 0; start < dependents.length; start += DEPENDENT_CHECKS_IN_FLIGHT) {
    await Promise.all(
      dependents.slice(start, start + DEPENDENT_CHECKS_IN_FLIGHT).map(async (workflowId) => {
        if (await isLive(client, workflowId)) return;
        await server.signal(unregisterDependentSignal, { workflowId });
      }),
    );
  }
}

async function isLive(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * The admin actions on a server, latest last: create, edit (the settings changed, never their
 * values), authorize, delete, force delete and Request Cancellation, each with who and when. A
 * deleted server still answers, until a new server of its name is created.
 */
export function serverHistory(client: Client, name: string): Promise<ServerHistory> {
  return onServer(name, () => handle(client, name).query(serverHistoryQuery));
}

export function listDependents(client: Client, name: string): Promise<string[]> {
  return onServer(name, async () => (await runningServer(client, name)).query(dependentsQuery));
}

export interface ServerListFilter {
  category?: string;
  status?: ServerStatus;
  pageSize?: number;
  /** From the previous page's answer. */
  nextPageToken?: Uint8Array;
}

export interface ServerListEntry {
  name: string;
  category: string;
  status: ServerStatus;
}

export interface ServerListPage {
  servers: ServerListEntry[];
  nextPageToken?: Uint8Array;
}

/** Visibility query strings quote values in single quotes. */
function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Lists servers through Temporal visibility (their search attributes), a page at a time. */
export async function listServers(client: Client, filter: ServerListFilter = {}): Promise<ServerListPage> {
  const conditions = [`WorkflowType = ${quoted(OAUTH_SERVER_WORKFLOW_TYPE)}`, `ExecutionStatus = 'Running'`];
  if (filter.category !== undefined) conditions.push(`${OAUTH_SERVER_CATEGORY.name} = ${quoted(filter.category)}`);
  if (filter.status !== undefined) conditions.push(`${OAUTH_SERVER_STATUS.name} = ${quoted(filter.status)}`);
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: conditions.join(' AND '),
    pageSize: filter.pageSize ?? 100,
    nextPageToken: filter.nextPageToken,
  });
  const keyword = (fields: Record<string, unknown> | null | undefined, name: string): string => {
    const payload = fields?.[name];
    return payload ? String(defaultPayloadConverter.fromPayload(payload)) : '';
  };
  return {
    servers: response.executions.map((execution) => {
      const fields = execution.searchAttributes?.indexedFields;
      return {
        name: keyword(fields, OAUTH_SERVER_NAME.name),
        category: keyword(fields, OAUTH_SERVER_CATEGORY.name),
        status: keyword(fields, OAUTH_SERVER_STATUS.name) as ServerStatus,
      };
    }),
    nextPageToken: response.nextPageToken?.length ? response.nextPageToken : undefined,
  };
}
