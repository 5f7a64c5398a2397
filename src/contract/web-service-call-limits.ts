/**
 * The bounds of one webServiceCall, shared by the activity that enforces them and the workflow
 * helper that derives the activity's timeouts from them.
 */

/** Temporal's default limit on one payload (`limit.blobSize.error`): a larger activity result fails at completion, untyped. */
export const TEMPORAL_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;

/** What a result may take as JSON: the payload limit less room for the codec's envelope (encoding, key ID, nonce, tag). */
export const MAX_RESULT_JSON_BYTES = TEMPORAL_PAYLOAD_LIMIT_BYTES - 16 * 1024;

/** Binary bodies come back as base64 (4/3 larger): a body of this size always fits, headers included. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** A raw body larger than this could never fit; text that JSON escaping grows is checked once encoded. */
export const MAX_RESPONSE_BYTES = MAX_RESULT_JSON_BYTES;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 15 * 60_000;

/** The longest `Retry-After` a call waits for (through Temporal's retry); a longer one fails the call, saying how long. */
export const MAX_RETRY_AFTER_MS = 60_000;
