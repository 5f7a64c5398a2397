import type { Payload } from '@temporalio/common';

/**
 * Metadata the plugin's codec puts on a payload it has just decrypted, and removes from every other
 * payload it lets through, so that a client sending clear payloads cannot claim it. Safe for the
 * workflow sandbox: the payload converter reads it there.
 */
export const DECRYPTED_METADATA = 'temporal-oauth-decrypted';

export function hasDecryptedMark(payload: Payload): boolean {
  return payload.metadata?.[DECRYPTED_METADATA] != null;
}

export function withDecryptedMark(payload: Payload): Payload {
  return { ...payload, metadata: { ...payload.metadata, [DECRYPTED_METADATA]: new Uint8Array([0x31]) } };
}

export function withoutDecryptedMark(payload: Payload): Payload {
  if (!payload.metadata || !(DECRYPTED_METADATA in payload.metadata)) return payload;
  const { [DECRYPTED_METADATA]: _mark, ...metadata } = payload.metadata;
  return { ...payload, metadata };
}
