import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';
import { CodecKeyError, type CodecKeyRing } from './codec-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/** Absent on payloads written before per-payload keys (scheme 1); present on every payload written since. */
export const SCHEME_METADATA = 'encryption-scheme';
export const PER_PAYLOAD_KEY_SCHEME = 'hkdf-sha256-aes-256-gcm-2';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 32;
const HKDF_LABEL = 'temporal-oauth payload';

export type PayloadDecryptionErrorCode = 'CODEC_PAYLOAD_MALFORMED' | 'CODEC_PAYLOAD_NOT_AUTHENTIC' | 'CODEC_PAYLOAD_SCHEME_UNKNOWN';

/** An encrypted payload that cannot be opened; names the key ID only, never key or data bytes. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';

  constructor(
    readonly code: PayloadDecryptionErrorCode,
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/** Whether the codec would decrypt `payload`, judged by its clear metadata alone. */
export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && encoding !== null && decode(encoding) === ENCRYPTED_ENCODING;
}

/**
 * Encrypts whole payloads (metadata included, so not even the payload's type is in clear) with
 * AES-256-GCM under a key used for that payload alone: HKDF-SHA-256 derives the AES key and nonce
 * from the key ring's key and a random 256-bit salt stored with the payload. Random nonces under one
 * shared key would be safe for only about 2^32 payloads; fresh keys from 256-bit salts have no
 * practical bound. The clear metadata the codec writes (encoding, key ID, scheme) is the AAD, so none
 * of it can be swapped. Data layout: salt ‖ ciphertext ‖ tag. Payloads of the first scheme (no
 * scheme metadata; nonce ‖ ciphertext ‖ tag under the ring key itself, AAD the key ID) still decrypt.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: CodecKeyRing) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((payload) => this.encrypt(payload)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((payload) => this.decrypt(payload)));
  }

  encrypt(payload: Payload): Payload {
    const keyId = this.ring.currentKeyId;
    const salt = randomBytes(SALT_BYTES);
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const { ciphertext, tag } = withPayloadKey(this.key(keyId), salt, keyId, (key, nonce) => {
      const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(perPayloadKeyAad(keyId));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { ciphertext, tag: cipher.getAuthTag() };
    });
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: encode(keyId),
        [SCHEME_METADATA]: encode(PER_PAYLOAD_KEY_SCHEME),
      },
      data: Buffer.concat([salt, ciphertext, tag]),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!keyIdBytes) {
      throw new PayloadDecryptionError('CODEC_PAYLOAD_MALFORMED', `encrypted payload has no ${KEY_ID_METADATA} metadata`);
    }
    const keyId = decode(keyIdBytes);
    const schemeBytes = payload.metadata?.[SCHEME_METADATA];
    const scheme = schemeBytes ? decode(schemeBytes) : undefined;
    if (scheme !== undefined && scheme !== PER_PAYLOAD_KEY_SCHEME) {
      // Written by a newer release, or altered: either way this code cannot open it.
      throw new PayloadDecryptionError('CODEC_PAYLOAD_SCHEME_UNKNOWN', `payload encrypted with key "${keyId}" uses an unknown ${SCHEME_METADATA}`, keyId);
    }
    const key = this.key(keyId);
    const data = payload.data ?? new Uint8Array();
    const head = scheme === undefined ? NONCE_BYTES : SALT_BYTES;
    if (data.length < head + TAG_BYTES) {
      throw new PayloadDecryptionError('CODEC_PAYLOAD_MALFORMED', `payload encrypted with key "${keyId}" is truncated`, keyId);
    }
    const ciphertext = data.subarray(head, data.length - TAG_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const open = (aesKey: KeyObject | Buffer, nonce: Uint8Array, aad: Uint8Array): Buffer => {
      const decipher = createDecipheriv(ALGORITHM, aesKey, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(
          'CODEC_PAYLOAD_NOT_AUTHENTIC',
          `payload encrypted with key "${keyId}" failed authentication: it was altered or the key is not the one it was encrypted with`,
          keyId,
        );
      }
    };
    const plaintext =
      scheme === undefined
        ? open(key, data.subarray(0, NONCE_BYTES), keyIdBytes)
        : withPayloadKey(key, data.subarray(0, SALT_BYTES), keyId, (aesKey, nonce) => open(aesKey, nonce, perPayloadKeyAad(keyId)));
    return temporal.api.common.v1.Payload.decode(plaintext);
  }

  private key(keyId: string): KeyObject {
    const key = this.ring.keys.get(keyId);
    if (!key) {
      // The ID comes from stored data; bound what is echoed so a crafted payload cannot flood logs.
      const shown = keyId.slice(0, 64);
      throw new CodecKeyError('CODEC_KEY_UNKNOWN', `no codec key with ID ${JSON.stringify(shown)} in the key ring (was it removed at rotation?)`, undefined, shown);
    }
    return key;
  }
}

/**
 * Runs `use` with the payload's own AES key and nonce, HKDF-SHA-256(ring key, salt, info) with the
 * scheme and key ID in `info`, and wipes the derived bytes afterwards.
 */
function withPayloadKey<T>(ringKey: KeyObject, salt: Uint8Array, keyId: string, use: (key: Buffer, nonce: Buffer) => T): T {
  const info = Buffer.from(`${HKDF_LABEL}\0${PER_PAYLOAD_KEY_SCHEME}\0${keyId}`);
  const derived = Buffer.from(hkdfSync('sha256', ringKey, salt, info, KEY_BYTES + NONCE_BYTES));
  try {
    return use(derived.subarray(0, KEY_BYTES), derived.subarray(KEY_BYTES));
  } finally {
    derived.fill(0);
  }
}

/** The clear metadata of a per-payload-key payload, in one unambiguous form. */
function perPayloadKeyAad(keyId: string): Buffer {
  return Buffer.from(JSON.stringify([ENCRYPTED_ENCODING, PER_PAYLOAD_KEY_SCHEME, keyId]));
}
