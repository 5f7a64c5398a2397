import assert from 'node:assert/strict';
import { FanOutOptionError, TemporalOAuthPlugin } from '../../src';

describe('the plugin option fanOutSignalsInFlight', () => {
  for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number, null as unknown as number]) {
    it(`refuses ${String(value)} (${typeof value}) when the plugin is built, naming the option`, () => {
      assert.throws(
        () => new TemporalOAuthPlugin({ codecKeys: false, fanOutSignalsInFlight: value }),
        (error: unknown) => error instanceof FanOutOptionError && error.field === 'fanOutSignalsInFlight' && /fanOutSignalsInFlight: must be a positive whole number/.test(error.message),
      );
    });
  }

  it('takes a positive whole number, and defaults when left out', () => {
    assert.doesNotThrow(() => new TemporalOAuthPlugin({ codecKeys: false, fanOutSignalsInFlight: 50 }));
    assert.doesNotThrow(() => new TemporalOAuthPlugin({ codecKeys: false }));
  });
});
