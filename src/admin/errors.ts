/** A server of that name (compared case-insensitively) already exists; nothing was changed. */
export class ServerAlreadyExistsError extends Error {
  readonly code = 'OAUTH_SERVER_EXISTS';
  override readonly name = 'ServerAlreadyExistsError';

  constructor(readonly serverName: string) {
    super(`an OAuth server named ${serverName} already exists (names are compared case-insensitively)`);
  }
}

export class ServerNotFoundError extends Error {
  readonly code = 'OAUTH_SERVER_NOT_FOUND';
  override readonly name = 'ServerNotFoundError';

  constructor(readonly serverName: string) {
    super(`there is no OAuth server named ${serverName}`);
  }
}

/**
 * The server workflow refused a change (its validator rejected it, so nothing was written). `type`
 * is the refusal's kind, e.g. ConfigValidationError or OAuthServerHasDependents.
 */
export class ServerChangeRejectedError extends Error {
  readonly code = 'OAUTH_SERVER_CHANGE_REJECTED';
  override readonly name = 'ServerChangeRejectedError';

  constructor(
    readonly serverName: string,
    readonly type: string,
    reason: string,
  ) {
    super(`OAuth server ${serverName}: ${reason}`);
  }
}

/**
 * The server's workflow did not answer in time: a query needs a worker of its task queue, and none
 * answered (all stopped, or too busy). The server's listing from visibility still holds.
 */
export class ServerUnreachableError extends Error {
  readonly code = 'OAUTH_SERVER_UNREACHABLE';
  override readonly name = 'ServerUnreachableError';

  constructor(readonly serverName: string) {
    super(`OAuth server ${serverName} did not answer: is a worker with the plugin running on its task queue?`);
  }
}
