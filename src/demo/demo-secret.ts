import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateClientSecret } from './authorization-server';

/**
 * The demo client's secret lives in a file that the OAuth server configuration references
 * (`file:` external secret), so that a restarted demo, whose dev server keeps its state, still
 * authenticates with the secret it was created with.
 */
export function demoClientSecret(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dirname(path), { recursive: true });
    const secret = generateClientSecret();
    writeFileSync(path, secret, { mode: 0o600 });
    return secret;
  }
}
