import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-json';

const MAX_FORM_BYTES = 4 * 1024;

/** The login form's password field (application/x-www-form-urlencoded). */
export async function readPassword(req: IncomingMessage): Promise<string> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send the login form as a form');
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_FORM_BYTES) throw new HttpError(413, 'the login form is too large');
  }
  return new URLSearchParams(body).get('password') ?? '';
}
