import type { Payload, PayloadConverter, SerializationContext } from '@temporalio/common';
import type { ConverterHint } from '@temporalio/common/lib/type-info';
import { ARRIVED_ENCRYPTED } from '../workflows/encrypted-input';
import { hasDecryptedMark } from './decrypted-mark';
import { inPluginWorkflow, withPluginOwnedMark } from './plugin-owned-mark';

/**
 * Wraps a payload converter so that every object it converts from a payload the plugin's codec
 * decrypted carries the tag `arrivedEncrypted` reads, and every payload the plugin's own workflows
 * write is marked for encryption (an import source's continue-as-new input must arrive encrypted,
 * whatever its workflow ID). Runs in the workflow sandbox. A worker with a payload converter of its
 * own exports `payloadConverter = withEncryptedInputTags(itsConverter)`.
 */
export function withEncryptedInputTags(converter: PayloadConverter): PayloadConverter {
  return {
    toPayload(value, context, hint) {
      const payload = converter.toPayload(value, context, hint);
      return inPluginWorkflow() ? withPluginOwnedMark(payload) : payload;
    },
    fromPayload<T>(payload: Payload, context?: SerializationContext, hint?: ConverterHint<T>): T {
      const value = converter.fromPayload<T>(payload, context, hint);
      if (hasDecryptedMark(payload) && typeof value === 'object' && value !== null && Object.isExtensible(value)) {
        Object.defineProperty(value, ARRIVED_ENCRYPTED, { value: true, enumerable: false });
      }
      return value;
    },
    ...(converter.validateConverterHint ? { validateConverterHint: converter.validateConverterHint.bind(converter) } : {}),
  };
}
