import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { REDACTED } from '../oauth/redact';

const REDACTED_BINARY = '[REDACTED binary]';

/**
 * A key whose name (lower case, letters and digits only) contains one of these holds a credential:
 * its whole value goes, whatever its shape.
 */
const SECRET_NAME_PARTS = [
  'secret',
  'token',
  'password',
  'passwd',
  'passphrase',
  'assertion',
  'apikey',
  'authorization',
  'cookie',
  'credential',
  'privatekey',
  'privatejwk',
];
const SECRET_NAMES = new Set(['auth', 'pwd', 'pass']);
/** …unless the name ends in one of these: it then describes a credential (where, what kind, when) without holding one. */
const DESCRIPTIVE_SUFFIXES = ['url', 'uri', 'endpoint', 'type', 'serial', 'expiresat', 'expiresin', 'statuses', 'method', 'count'];

/** Header values shown as they are (still searched for token shapes); every other header's value is a credential until shown otherwise. */
const SHOWN_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'content-encoding',
  'content-language',
  'content-length',
  'content-type',
  'date',
  'etag',
  'expires',
  'last-modified',
  'location',
  'retry-after',
  'user-agent',
  'vary',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
]);

/** JWK members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1), `oth` included for multi-prime RSA. */
const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const JWT_LIKE = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*/g;
// An Authorization header value copied into text: the scheme stays, the credential goes.
const SCHEME_CREDENTIAL = /\b(Bearer|Basic|DPoP|Negotiate|NTLM)(\s+)[A-Za-z0-9._~+/-]+=*/gi;
// name=value, name: value, "name":"value" where the name says it is a credential: a query string, a form body, a log line.
const NAMED_CREDENTIAL = /([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|passphrase|assertion|api[-_]?key|authorization|cookie|credential|private[-_]?key)[A-Za-z0-9_.-]*)("?\s*[=:]\s*"?)(?!\[REDACTED\])[^\s"'&,;}\]]+/gi;
const WORD = /[A-Za-z0-9+_=-]{24,}/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const MIN_ENTROPY_BITS_PER_CHAR = 3.6;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Makes decoded payloads safe to show in the Web UI, by structure rather than by a list of known
 * keys: the value of every key named like a credential, every header value but a few harmless
 * ones, private JWK members, and anywhere in any string (keys included) an Authorization value,
 * a JWT, a PEM private key, a `name=value` credential or a long random-looking word (base64url or
 * hex alphabet, 24 characters or more) become "[REDACTED]". Payloads that cannot be inspected
 * (binary, unknown encodings) are withheld entirely, since a secret in them could not be found.
 */
export function redactDecodedPayloads(payloads: Payload[]): Payload[] {
  return payloads.map(redactPayload);
}

function redactPayload(payload: Payload): Payload {
  const encodingBytes = payload.metadata?.[METADATA_ENCODING_KEY];
  const encoding = encodingBytes ? decode(encodingBytes) : undefined;
  if (encoding === 'binary/null') return payload;
  if (encoding === 'json/plain' || encoding === 'json/protobuf') {
    const tree = parseJson(decode(payload.data ?? new Uint8Array()));
    if (tree !== undefined) return { ...payload, data: encode(JSON.stringify(redactJson(tree))) };
  }
  return { metadata: { [METADATA_ENCODING_KEY]: encode('json/plain') }, data: encode(JSON.stringify(REDACTED_BINARY)) };
}

/** Redacts a JSON value as it would appear anywhere in a payload. */
export function redactJson(value: Json): Json {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value === null || typeof value !== 'object') return value;
  const isJwk = 'kty' in value;
  return objectFrom(
    Object.entries(value).map(([key, child]): [string, Json] => {
      const hidden = child !== null && (isSecretName(key) || (isJwk && PRIVATE_JWK_MEMBERS.has(key)));
      if (hidden) return [key, REDACTED];
      return [key, isHeadersName(key) ? redactHeaders(child) : redactJson(child)];
    }),
  );
}

/** `{ name: value }`, `[[name, value], …]` or `[name, value, …]`: names stay, values go unless the header is a harmless one. */
function redactHeaders(headers: Json): Json {
  const value = (name: string, child: Json): Json => (SHOWN_HEADERS.has(name.toLowerCase()) ? redactJson(child) : child === null ? null : REDACTED);
  if (Array.isArray(headers)) {
    if (headers.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string')) {
      return headers.map((entry) => {
        const [name, child] = entry as [string, Json];
        return [redactText(name), value(name, child)];
      });
    }
    if (headers.length % 2 === 0 && headers.every((entry) => typeof entry === 'string')) {
      return headers.map((entry, index) => (index % 2 === 0 ? redactText(entry) : value(headers[index - 1] as string, entry)));
    }
  } else if (headers !== null && typeof headers === 'object') {
    return objectFrom(Object.entries(headers).map(([name, child]) => [name, value(name, child)]));
  }
  return headers === null ? null : REDACTED;
}

/** Keys go through the same search as values (a token can be a map's key); a key turned "[REDACTED]" twice is numbered so no entry is lost. */
function objectFrom(entries: [string, Json][]): { [key: string]: Json } {
  // No prototype, so a "__proto__" key in the data stays a plain field instead of vanishing.
  const result = Object.create(null) as { [key: string]: Json };
  for (const [key, child] of entries) {
    let shown = redactText(key);
    for (let n = 2; shown !== key && shown in result; n += 1) shown = `${redactText(key)} ${n}`;
    result[shown] = child;
  }
  return result;
}

function redactText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // JSON kept as text (a private JWK, a request body): redacted by structure like the rest.
    const parsed = parseJson(trimmed);
    if (parsed !== undefined && typeof parsed === 'object' && parsed !== null) return JSON.stringify(redactJson(parsed));
  }
  return text
    .replace(PEM_PRIVATE_KEY, REDACTED)
    .replace(JWT_LIKE, REDACTED)
    .replace(SCHEME_CREDENTIAL, `$1$2${REDACTED}`)
    .replace(NAMED_CREDENTIAL, `$1$2${REDACTED}`)
    .replace(WORD, (word) => (word.split(UUID).some(looksRandom) ? REDACTED : word));
}

/** Hex of 128 bits or more, or a long word that mixes letter cases or letters and digits with the spread of random text. */
function looksRandom(word: string): boolean {
  if (word.length < 24) return false;
  if (/[0-9a-f]{32,}|[0-9A-F]{32,}/.test(word)) return true;
  const kinds = [/[A-Z]/, /[a-z]/, /[0-9]/].filter((kind) => kind.test(word)).length;
  return kinds >= 2 && entropyBitsPerChar(word) >= MIN_ENTROPY_BITS_PER_CHAR;
}

function entropyBitsPerChar(word: string): number {
  const counts = new Map<string, number>();
  for (const char of word) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) bits -= (count / word.length) * Math.log2(count / word.length);
  return bits;
}

function isSecretName(key: string): boolean {
  const name = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (SECRET_NAMES.has(name)) return true;
  return SECRET_NAME_PARTS.some((part) => name.includes(part)) && !DESCRIPTIVE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function isHeadersName(key: string): boolean {
  const name = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return name === 'header' || name.endsWith('headers');
}

function parseJson(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}
