import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { arrivedEncrypted } from '../../src/workflows/encrypted-input';

export const reportArrivalUpdate = defineUpdate<boolean, [unknown]>('reportArrival');
export const stopReportingSignal = defineSignal('stopReporting');

/** Tells whether its start input, and each update's argument, arrived encrypted. */
export async function arrivalReporter(input: unknown): Promise<boolean> {
  let stopped = false;
  setHandler(reportArrivalUpdate, (argument) => arrivedEncrypted(argument));
  setHandler(stopReportingSignal, () => {
    stopped = true;
  });
  await condition(() => stopped);
  return arrivedEncrypted(input);
}
