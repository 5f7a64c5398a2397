import { installCapturingRuntime } from './support/captured-logs';
import { startTestBed, type TestBed } from './support/test-bed';

let bed: TestBed | undefined;

/** Mocha root hooks: one dev server and one authorization server for the whole run. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    // The first run on a machine may build the Temporal CLI (minutes); later runs reuse it.
    this.timeout(20 * 60_000);
    installCapturingRuntime();
    bed = await startTestBed();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await bed?.close();
  },
};
