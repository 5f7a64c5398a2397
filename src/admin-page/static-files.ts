import { readdirSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';

/** The page's HTML, scripts and styles sit beside this module's source; they are read once, at start. */
const STATIC_DIR = resolve(__dirname, '../../../src/admin-page/static');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface StaticFile {
  contentType: string;
  body: Buffer;
}

/** Every file of the static folder by name; nothing else can be asked for, so no path can escape it. */
export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(STATIC_DIR)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType) files.set(name, { contentType, body: readFileSync(resolve(STATIC_DIR, name)) });
  }
  return files;
}
