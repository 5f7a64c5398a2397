import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (workers and the workflow sandbox accept a failure converter no other way): failure
 * messages and stack traces can quote inputs, so they travel as an encoded payload, through the codec.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
