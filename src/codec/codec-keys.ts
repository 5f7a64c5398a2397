import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const CODEC_KEYS_ENV = 'TEMPORAL_OAUTH_CODEC_KEYS';
export const CODEC_KEY_FILE_ENV = 'TEMPORAL_OAUTH_CODEC_KEY_FILE';

const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Standard or URL-safe alphabet, optional padding: what `openssl rand -base64 32` and most key tools print.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export type CodecKeyErrorCode =
  | 'CODEC_KEY_SOURCES_CONFLICT'
  | 'CODEC_KEY_RING_EMPTY'
  | 'CODEC_KEY_ENTRY_MALFORMED'
  | 'CODEC_KEY_ID_INVALID'
  | 'CODEC_KEY_ID_DUPLICATE'
  | 'CODEC_KEY_NOT_BASE64'
  | 'CODEC_KEY_WRONG_LENGTH'
  | 'CODEC_KEY_CURRENT_MISSING'
  | 'CODEC_KEY_FILE_UNREADABLE'
  | 'CODEC_KEY_FILE_MALFORMED'
  | 'CODEC_KEY_UNKNOWN';

/**
 * A key ring that cannot be built or a key that is not in it. The message names where the keys
 * came from and the key ID, never key bytes: it ends up in worker logs and workflow failures.
 */
export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';

  constructor(
    readonly code: CodecKeyErrorCode,
    message: string,
    /** The environment variable or file the keys came from, when there is one. */
    readonly source?: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/**
 * The keys a codec encrypts with (`currentKeyId`) and decrypts with (all of them, so that
 * histories written before a rotation stay readable). Keys are KeyObjects so that logging a
 * ring by mistake prints sizes, not bytes.
 */
export interface CodecKeyRing {
  readonly currentKeyId: string;
  readonly keys: ReadonlyMap<string, KeyObject>;
}

/** The key file format: `{ "current": "k2", "keys": { "k1": "<base64>", "k2": "<base64>" } }`. */
export interface CodecKeyFileContents {
  current: string;
  keys: Record<string, string>;
}

/**
 * Builds a ring from `keyId:base64key,...` (first entry current, the rest decrypt-only) or from
 * key-file contents. `source` is what error messages name.
 */
export function parseCodecKeyRing(input: string | CodecKeyFileContents, source: string = CODEC_KEYS_ENV): CodecKeyRing {
  if (typeof input === 'string') {
    const entries = input
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry, index): [string, string] => {
        const separator = entry.indexOf(':');
        if (separator < 0) {
          throw new CodecKeyError('CODEC_KEY_ENTRY_MALFORMED', `${source}: entry ${index + 1} is not keyId:base64key`, source);
        }
        return [entry.slice(0, separator).trim(), entry.slice(separator + 1)];
      });
    return buildRing(entries, entries[0]?.[0], source);
  }
  return buildRing(Object.entries(input.keys), input.current, source);
}

/**
 * Reads the ring from `TEMPORAL_OAUTH_CODEC_KEYS` or the file named by
 * `TEMPORAL_OAUTH_CODEC_KEY_FILE`; undefined when neither is set.
 */
export function loadCodecKeyRing(env: NodeJS.ProcessEnv = process.env): CodecKeyRing | undefined {
  const list = env[CODEC_KEYS_ENV];
  const file = env[CODEC_KEY_FILE_ENV];
  if (list !== undefined && file !== undefined) {
    // Two sources would leave it unclear which key encrypts; refuse rather than guess.
    throw new CodecKeyError('CODEC_KEY_SOURCES_CONFLICT', `set only one of ${CODEC_KEYS_ENV} and ${CODEC_KEY_FILE_ENV}`);
  }
  if (list !== undefined) return parseCodecKeyRing(list, CODEC_KEYS_ENV);
  if (file !== undefined) return parseCodecKeyRing(readKeyFile(file), `${CODEC_KEY_FILE_ENV} file ${file}`);
  return undefined;
}

/** A fresh key in the form the ring accepts, for demos and tests. */
export function generateCodecKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function readKeyFile(path: string): CodecKeyFileContents {
  const source = `${CODEC_KEY_FILE_ENV} file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'read failed';
    throw new CodecKeyError('CODEC_KEY_FILE_UNREADABLE', `${source} cannot be read (${reason})`, source);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the text around the error, which is key material here.
    throw new CodecKeyError('CODEC_KEY_FILE_MALFORMED', `${source} is not valid JSON`, source);
  }
  if (!isRecord(parsed) || typeof parsed.current !== 'string' || !isRecord(parsed.keys)) {
    throw new CodecKeyError('CODEC_KEY_FILE_MALFORMED', `${source} must be { "current": "<keyId>", "keys": { "<keyId>": "<base64>" } }`, source);
  }
  const keys: Record<string, string> = {};
  for (const [keyId, value] of Object.entries(parsed.keys)) {
    if (typeof value !== 'string') {
      throw new CodecKeyError('CODEC_KEY_FILE_MALFORMED', `${source}: keys.${describeKeyId(keyId)} must be a base64 string`, source);
    }
    keys[keyId] = value;
  }
  return { current: parsed.current, keys };
}

function buildRing(entries: [string, string][], currentKeyId: string | undefined, source: string): CodecKeyRing {
  if (entries.length === 0 || currentKeyId === undefined) {
    throw new CodecKeyError('CODEC_KEY_RING_EMPTY', `${source} holds no key`, source);
  }
  const keys = new Map<string, KeyObject>();
  for (const [keyId, encoded] of entries) {
    if (!KEY_ID.test(keyId)) {
      throw new CodecKeyError('CODEC_KEY_ID_INVALID', `${source}: key ID ${describeKeyId(keyId)} must match [A-Za-z0-9._-]{1,64}`, source);
    }
    if (keys.has(keyId)) {
      throw new CodecKeyError('CODEC_KEY_ID_DUPLICATE', `${source}: key ID "${keyId}" appears twice`, source, keyId);
    }
    keys.set(keyId, decodeKey(encoded.trim(), keyId, source));
  }
  if (!keys.has(currentKeyId)) {
    throw new CodecKeyError('CODEC_KEY_CURRENT_MISSING', `${source}: current key ID ${describeKeyId(currentKeyId)} has no key`, source);
  }
  return { currentKeyId, keys };
}

function decodeKey(encoded: string, keyId: string, source: string): KeyObject {
  if (!BASE64.test(encoded)) {
    throw new CodecKeyError('CODEC_KEY_NOT_BASE64', `${source}: key "${keyId}" is not base64`, source, keyId);
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new CodecKeyError(
      'CODEC_KEY_WRONG_LENGTH',
      `${source}: key "${keyId}" is ${bytes.length} bytes, AES-256 needs exactly ${KEY_BYTES}`,
      source,
      keyId,
    );
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/**
 * Quotes a key ID only when it is a valid one: a malformed "ID" is often a key pasted in the
 * wrong place (`base64:id` instead of `id:base64`), and must not be echoed.
 */
function describeKeyId(keyId: string): string {
  return KEY_ID.test(keyId) ? `"${keyId}"` : '(not shown: not a valid key ID)';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
