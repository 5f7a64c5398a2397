import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { withDecryptedMark, withoutDecryptedMark } from './decrypted-mark';
import { isEncryptedPayload, type EncryptionCodec } from './encryption-codec';
import { isPluginOwned } from './encryption-scope';
import { hasPluginOwnedMark, withoutPluginOwnedMark } from './plugin-owned-mark';

/**
 * The plugin's codec chain: the user's codecs inside the encryption (encoded first, decoded last), and
 * the decrypted mark decided once the whole chain has decoded, so that a user's codec (compression,
 * say) can neither lose the mark of a payload that arrived encrypted nor give one to a payload that
 * arrived in clear.
 *
 * It encrypts what the plugin owns (see isPluginOwned, and payloads its workflows marked as theirs);
 * the user's own workflows' and activities' payloads only when `encryptUserPayloads` says so. It
 * decrypts whatever arrives encrypted, so payloads written under either choice stay readable.
 */
export class MarkingCodec implements PayloadCodec {
  constructor(
    private readonly encryption: EncryptionCodec,
    private readonly inner: readonly PayloadCodec[] = [],
    private readonly encryptUserPayloads = true,
  ) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const ownedByMark = payloads.map(hasPluginOwnedMark);
    let result = payloads.map((payload) => withoutPluginOwnedMark(withoutDecryptedMark(payload)));
    for (const codec of this.inner) result = await codec.encode(result, context);
    const encryptsAll = this.encryptUserPayloads || isPluginOwned(context);
    // A codec that changed the number of payloads leaves no way to tell which one was marked: encrypt them all.
    const aligned = result.length === payloads.length;
    return result.map((payload, index) =>
      encryptsAll || (aligned ? ownedByMark[index] === true : ownedByMark.includes(true)) ? this.encryption.encrypt(payload) : payload,
    );
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const arrivedEncrypted = payloads.map(isEncryptedPayload);
    let result = await this.encryption.decode(payloads);
    for (const codec of [...this.inner].reverse()) result = await codec.decode(result, context);
    // A codec that changed the number of payloads leaves no way to tell which is which: mark none.
    const aligned = result.length === payloads.length;
    return result.map((payload, index) => (aligned && arrivedEncrypted[index] === true ? withDecryptedMark(payload) : withoutDecryptedMark(payload)));
  }
}
