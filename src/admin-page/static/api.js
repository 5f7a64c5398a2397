/** The page's calls to its admin server; an answer other than 2xx becomes an ApiError. */

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error ?? `the admin server answered HTTP ${status}`);
    this.status = status;
    /** One { field, message } per rejected field, when the server names fields. */
    this.issues = body.issues ?? [];
    this.hasDependents = body.hasDependents === true;
  }
}

export async function api(method, path, body) {
  const response = await fetch(`/api${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // The session ended (idle, restart): back to the login.
  if (response.status === 401) {
    window.location.assign('/login');
    throw new ApiError(401, { error: 'log in first' });
  }
  const answer = await response.json();
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

export const serverPath = (name) => `/servers/${encodeURIComponent(name)}`;
