import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client } from '@temporalio/client';
import { authorizeServer, createServer, deleteServer, editServer, serverHistory, showServer } from '../admin/servers';
import { ServerAlreadyExistsError, ServerChangeRejectedError, ServerNotFoundError } from '../admin/errors';
import { ConfigValidationError } from '../oauth/errors';
import { parseOAuthServerConfig } from '../oauth/config';
import { ServerFailure } from '../contract/failures';
import type { ServerChanges, ServerStatus } from '../contract/definitions';
import { checkChanges } from './edit-check';
import { dependentDetails } from './dependent-details';
import { HttpError, readJsonObject, sendJson } from './http-json';
import { serverRows } from './server-rows';

const STATUSES: readonly ServerStatus[] = ['OK', 'Error', 'NotAuthorized'];

export interface PageApiOptions {
  client: Client;
  taskQueue: string;
  /** Who the servers' history records for the page's changes: the one admin its password lets in. */
  actor: string;
}

/**
 * The page's JSON API, /api/servers…, over the admin API. Every answer carries views, never the
 * secret or the token (the admin API has no read path that returns them).
 */
export async function answerApi(req: IncomingMessage, res: ServerResponse, url: URL, { client, taskQueue, actor }: PageApiOptions): Promise<void> {
  const [collection, encodedName, action, ...rest] = url.pathname.split('/').slice(2);
  if (collection !== 'servers' || rest.length > 0) throw new HttpError(404, 'not found');
  const name = encodedName === undefined || encodedName === '' ? undefined : decodeURIComponent(encodedName);
  const route = `${req.method ?? ''} ${name === undefined ? '' : ':name'}${action === undefined ? '' : `/${action}`}`;
  try {
    switch (route) {
      case 'GET ':
        return sendJson(res, 200, await serverRows(client, listFilter(url.searchParams)));
      case 'POST ':
        return sendJson(res, 201, await createServer(client, parseOAuthServerConfig(await readJsonObject(req)), { taskQueue, actor }));
      case 'GET :name':
        return sendJson(res, 200, await showServer(client, name!));
      case 'PUT :name': {
        const changes = (await readJsonObject(req)) as ServerChanges;
        checkChanges((await showServer(client, name!)).config, changes);
        return sendJson(res, 200, await editServer(client, name!, changes, { actor }));
      }
      case 'POST :name/authorize':
        return sendJson(res, 200, await authorizeServer(client, name!, { actor }));
      case 'DELETE :name':
        await deleteServer(client, name!, { force: url.searchParams.get('force') === 'true', actor });
        return sendJson(res, 200, { deleted: name });
      case 'GET :name/history':
        return sendJson(res, 200, await serverHistory(client, name!));
      case 'GET :name/dependents':
        return sendJson(res, 200, await dependentDetails(client, name!));
      default:
        throw new HttpError(404, 'not found');
    }
  } catch (error) {
    throw asHttpError(error);
  }
}

function listFilter(query: URLSearchParams) {
  const status = query.get('status') || undefined;
  if (status !== undefined && !STATUSES.includes(status as ServerStatus)) throw new HttpError(400, `status must be one of ${STATUSES.join(', ')}`);
  return { category: query.get('category') || undefined, status: status as ServerStatus | undefined, name: query.get('name') || undefined };
}

/** The admin API's typed errors, as the page shows them: beside a field where they name one. */
function asHttpError(error: unknown): unknown {
  if (error instanceof ConfigValidationError) return new HttpError(422, error.message, { issues: error.issues });
  if (error instanceof ServerAlreadyExistsError) return new HttpError(409, error.message, { issues: [{ field: 'name', message: error.message }] });
  if (error instanceof ServerNotFoundError) return new HttpError(404, error.message);
  if (error instanceof ServerChangeRejectedError) {
    return new HttpError(409, error.message, { type: error.type, hasDependents: error.type === ServerFailure.HasDependents });
  }
  return error;
}
