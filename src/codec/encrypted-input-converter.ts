import type { Payload, PayloadConverter, SerializationContext } from '@temporalio/common';
import type { ConverterHint } from '@temporalio/common/lib/type-info';
import { ARRIVED_ENCRYPTED } from '../workflows/encrypted-input';
import { hasDecryptedMark } from './decrypted-mark';

/**
 * Wraps a payload converter so that every object it converts from a payload the plugin's codec
 * decrypted carries the tag `arrivedEncrypted` reads. Runs in the workflow sandbox. A worker with a
 * payload converter of its own exports `payloadConverter = withEncryptedInputTags(itsConverter)`.
 */
export function withEncryptedInputTags(converter: PayloadConverter): PayloadConverter {
  return {
    toPayload: (value, context, hint) => converter.toPayload(value, context, hint),
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
