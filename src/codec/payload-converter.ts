import { defaultPayloadConverter } from '@temporalio/common';
import { withEncryptedInputTags } from './encrypted-input-converter';

/** Loaded by path (workers and the workflow sandbox accept a payload converter no other way). */
export const payloadConverter = withEncryptedInputTags(defaultPayloadConverter);
