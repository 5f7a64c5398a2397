import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The demo keeps what must outlive a restart (its dev server keeps its state) in files of its
 * state folder, made on the first run: the demo client's secret, the codec keys, the codec
 * endpoint's credential.
 */
export function readOrCreate(path: string, create: () => string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dirname(path), { recursive: true });
    const value = create();
    writeFileSync(path, value, { mode: 0o600 });
    return value;
  }
}
