import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { AcquireTokenInput } from '../../src/activities/acquire-token';

/**
 * Loses the first attempt that stands for a scheduled refresh's wait, as a worker that died holding
 * it, or whose completion timed out, would: the attempt fails for another reason, and Temporal
 * retries it before the refresh is due. `lost()` says how many it lost (one at most).
 */
export function loseTheFirstWait(): { interceptor: ActivityInterceptorsFactory; lost: () => number } {
  let lost = 0;
  const interceptor: ActivityInterceptorsFactory = (context) => ({
    inbound: {
      execute(input, next) {
        const waiting = context.info.activityType === 'acquireOAuthToken' && (input.args[0] as AcquireTokenInput).notBefore !== undefined;
        if (waiting && lost === 0) {
          lost += 1;
          throw ApplicationFailure.retryable('the test lost the attempt that stood for the wait', 'LostWait');
        }
        return next(input);
      },
    },
  });
  return { interceptor, lost: () => lost };
}
