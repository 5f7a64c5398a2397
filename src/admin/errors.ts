/** A server of that name (compared case-insensitively) already exists; nothing was changed. */
export class ServerAlreadyExistsError extends Error {
  readonly code = 'OAUTH_SERVER_EXISTS';
  override readonly name = 'ServerAlreadyExistsError';

  constructor(readonly serverName: string) {
    super(`an OAuth server named ${serverName} already exists (names are compared case-insensitively)`);
  }
}
