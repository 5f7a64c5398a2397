import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';
import { CodecKeyError, type CodecKeyRing } from './codec-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export type PayloadDecryptionErrorCode = 'CODEC_PAYLOAD_MALFORMED' | 'CODEC_PAYLOAD_NOT_AUTHENTIC';

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

/**
 * Encrypts whole payloads (metadata included, so not even the payload's type is in clear) with
 * AES-256-GCM. A random 96-bit nonce per payload is safe for about 2^32 payloads per key, which
 * is one more reason to rotate keys. Data layout: nonce ‖ ciphertext ‖ tag.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: CodecKeyRing) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((payload) => this.encrypt(payload)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads.map((payload) => this.decrypt(payload)));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.ring.currentKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key(keyId), nonce, { authTagLength: TAG_BYTES });
    // The key ID travels in clear metadata; binding it as AAD makes a swapped ID fail authentication.
    cipher.setAAD(encode(keyId));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encode(keyId) },
      data: Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!keyIdBytes) {
      throw new PayloadDecryptionError('CODEC_PAYLOAD_MALFORMED', `encrypted payload has no ${KEY_ID_METADATA} metadata`);
    }
    const keyId = decode(keyIdBytes);
    const key = this.key(keyId);
    const data = payload.data ?? new Uint8Array();
    if (data.length < NONCE_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError('CODEC_PAYLOAD_MALFORMED', `payload encrypted with key "${keyId}" is truncated`, keyId);
    }
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(keyIdBytes);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        'CODEC_PAYLOAD_NOT_AUTHENTIC',
        `payload encrypted with key "${keyId}" failed authentication: it was altered or the key is not the one it was encrypted with`,
        keyId,
      );
    }
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
