import assert from 'node:assert/strict';
import { withChanges } from '../../src/contract/server-changes';

describe('applying an edit to a configuration', () => {
  const config = { name: 'crm', accessTokenUrl: 'https://login.example/token', issuer: 'https://login.example', scope: 'a b', maxRetryAttempts: 3 };

  it('null removes a clearable setting; a left-out or undefined field keeps its value', () => {
    assert.deepEqual(withChanges(config, { accessTokenUrl: null, scope: undefined, maxRetryAttempts: 5 }), {
      name: 'crm',
      issuer: 'https://login.example',
      scope: 'a b',
      maxRetryAttempts: 5,
    });
    assert.deepEqual(withChanges(config, { issuer: null }), { name: 'crm', accessTokenUrl: 'https://login.example/token', scope: 'a b', maxRetryAttempts: 3 });
  });

  it('keeps null for a setting that cannot be removed, for the schema to refuse by name, and never renames', () => {
    assert.deepEqual(withChanges(config, { scope: null, name: 'other' }), { ...config, scope: null });
  });

  it('leaves the configuration it was given as it was', () => {
    const before = structuredClone(config);
    withChanges(config, { accessTokenUrl: null, scope: 'c' });
    assert.deepEqual(config, before);
  });
});
