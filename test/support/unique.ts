import { randomUUID } from 'node:crypto';

/** Every test gets its own names and task queue, so tests never see each other's state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
