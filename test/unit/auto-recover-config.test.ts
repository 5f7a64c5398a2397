import assert from 'node:assert/strict';
import { parseOAuthServerConfig } from '../../src/oauth/config';
import { ConfigValidationError } from '../../src/oauth/errors';

const base = { name: 'Recovering', clientId: 'client', clientSecret: { source: 'local', value: 'recovering-secret' }, accessTokenUrl: 'https://login.example.com/token' } as const;

function issuesOf(autoRecover: unknown): { field: string; message: string }[] {
  try {
    parseOAuthServerConfig({ ...base, autoRecover });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError);
    return error.issues;
  }
}

describe('the autoRecover setting', () => {
  it('is off unless set; true takes 1 minute doubling to 1 hour; delays are stored in milliseconds; false is kept so that an edit can turn it off', () => {
    assert.equal(parseOAuthServerConfig(base).autoRecover, undefined);
    assert.deepEqual(parseOAuthServerConfig({ ...base, autoRecover: true }).autoRecover, { initialDelay: 60_000, maxDelay: 3_600_000 });
    assert.deepEqual(parseOAuthServerConfig({ ...base, autoRecover: { initialDelay: 'PT1S', maxDelay: 4_000 } }).autoRecover, { initialDelay: 1_000, maxDelay: 4_000 });
    assert.equal(parseOAuthServerConfig({ ...base, autoRecover: false }).autoRecover, false);
    const stored = parseOAuthServerConfig({ ...base, autoRecover: { initialDelay: 2_000 } });
    assert.deepEqual(parseOAuthServerConfig(stored).autoRecover, stored.autoRecover, 'the stored form parses to itself');
  });

  it('refuses bad delays naming the field', () => {
    assert.deepEqual(issuesOf({ initialDelay: 500 }), [{ field: 'autoRecover.initialDelay', message: 'autoRecover.initialDelay must be between 1 second and 24 hours' }]);
    assert.deepEqual(issuesOf({ maxDelay: 'P2D' }), [{ field: 'autoRecover.maxDelay', message: 'autoRecover.maxDelay must be between 1 second and 24 hours' }]);
    assert.deepEqual(issuesOf({ initialDelay: 5_000, maxDelay: 2_000 }), [{ field: 'autoRecover.maxDelay', message: 'autoRecover.maxDelay must not be shorter than autoRecover.initialDelay' }]);
    assert.deepEqual(issuesOf({ initialDelay: 'soon' }), [{ field: 'autoRecover.initialDelay', message: 'autoRecover.initialDelay must be milliseconds or an ISO-8601 duration such as PT1M' }]);
    assert.deepEqual(issuesOf('yes'), [{ field: 'autoRecover', message: 'autoRecover must be true, false or { initialDelay, maxDelay }' }]);
    assert.equal(issuesOf({ initialDelay: 1_000, every: 5 })[0]?.field, 'autoRecover');
  });
});
