import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { REDACTED } from '../oauth/redact';

const REDACTED_BINARY = '[REDACTED binary]';

/** Field names whose value is a credential wherever they appear (compared case-insensitively). */
const SENSITIVE_KEYS = new Set(
  [
    'accessToken',
    'access_token',
    'refresh_token',
    'id_token',
    'client_assertion',
    'client_secret',
    'password',
    'privateJwk',
    'authorization',
    'proxy-authorization',
  ].map((key) => key.toLowerCase()),
);

/** JWK members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1), `oth` included for multi-prime RSA. */
const PRIVATE_JWK_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']);

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
// A whole header value copied into data, e.g. as an entry of a [name, value] header list.
const CREDENTIAL_HEADER_VALUE = /^\s*(?:Bearer|Basic|DPoP)\s+\S+\s*$/i;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Makes decoded payloads safe to show in the Web UI: credentials inside JSON payloads become
 * "[REDACTED]", and payloads that cannot be inspected (binary, unknown encodings) are withheld
 * entirely, since a secret in them could not be found.
 */
export function redactDecodedPayloads(payloads: Payload[]): Payload[] {
  return payloads.map(redactPayload);
}

function redactPayload(payload: Payload): Payload {
  const encodingBytes = payload.metadata?.[METADATA_ENCODING_KEY];
  const encoding = encodingBytes ? decode(encodingBytes) : undefined;
  if (encoding === 'binary/null') return payload;
  if (encoding === 'json/plain' || encoding === 'json/protobuf') {
    const tree = parseJson(payload.data);
    if (tree !== undefined) return { ...payload, data: encode(JSON.stringify(redactJson(tree, undefined))) };
  }
  return { metadata: { [METADATA_ENCODING_KEY]: encode('json/plain') }, data: encode(JSON.stringify(REDACTED_BINARY)) };
}

function parseJson(data: Uint8Array | null | undefined): Json | undefined {
  try {
    return JSON.parse(decode(data ?? new Uint8Array())) as Json;
  } catch {
    return undefined;
  }
}

/** `parentKey` is the key this value sits under, which decides whether `value` is a secret. */
function redactJson(value: Json, parentKey: string | undefined): Json {
  if (typeof value === 'string') return isSensitiveString(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const isJwk = 'kty' in value;
  const underClientSecret = parentKey?.toLowerCase() === 'clientsecret';
  // No prototype, so a "__proto__" key in the data stays a plain field instead of vanishing.
  const result = Object.create(null) as { [key: string]: Json };
  for (const [key, child] of Object.entries(value)) {
    const sensitive =
      SENSITIVE_KEYS.has(key.toLowerCase()) ||
      (key.toLowerCase() === 'clientsecret' && typeof child === 'string') ||
      (underClientSecret && key === 'value') ||
      (isJwk && PRIVATE_JWK_MEMBERS.has(key));
    result[key] = sensitive ? REDACTED : redactJson(child, key);
  }
  return result;
}

function isSensitiveString(value: string): boolean {
  return PEM_PRIVATE_KEY.test(value) || CREDENTIAL_HEADER_VALUE.test(value) || isPrivateJwkText(value);
}

/** A private JWK kept as JSON text (how private_key_jwt secrets are configured) is a private key too. */
function isPrivateJwkText(value: string): boolean {
  if (!value.trimStart().startsWith('{') || !value.includes('"kty"')) return false;
  const parsed = parseJson(encode(value));
  return (
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    'kty' in parsed &&
    Object.keys(parsed).some((key) => PRIVATE_JWK_MEMBERS.has(key))
  );
}
