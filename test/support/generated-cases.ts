import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import fc from 'fast-check';

/** Where every property and model-based test of a run adds the number of cases it generated. */
export const GENERATED_CASES_FILE = resolve(__dirname, '../../test-output/generated-cases.txt');

/** fast-check's assert, counting the cases it generated so that `npm test` can report them all. */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, parameters: fc.Parameters<Ts>): void {
  let ran = 0;
  try {
    fc.assert(property, {
      ...parameters,
      reporter: (details) => {
        ran = details.numRuns;
        if (details.failed) throw new Error(fc.defaultReportMessage(details));
      },
    });
  } finally {
    mkdirSync(dirname(GENERATED_CASES_FILE), { recursive: true });
    appendFileSync(GENERATED_CASES_FILE, `${ran}\n`);
  }
}

/** The same for asynchronous properties. */
export async function assertAsyncProperty<Ts>(property: fc.IAsyncProperty<Ts>, parameters: fc.Parameters<Ts>): Promise<void> {
  let ran = 0;
  try {
    await fc.assert(property, {
      ...parameters,
      asyncReporter: (details) => {
        ran = details.numRuns;
        if (details.failed) return Promise.reject(new Error(fc.defaultReportMessage(details)));
        return Promise.resolve();
      },
    });
  } finally {
    mkdirSync(dirname(GENERATED_CASES_FILE), { recursive: true });
    appendFileSync(GENERATED_CASES_FILE, `${ran}\n`);
  }
}
