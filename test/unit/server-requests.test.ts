import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { parseOAuthServerConfig } from '../../src/oauth/config';
import { ConfigValidationError } from '../../src/oauth/errors';
import { ServerFailure } from '../../src/contract/failures';
import {
  checkDeleteRequest,
  checkDependentsFit,
  checkDependentsRegistration,
  checkFreshTokenRequest,
  checkServerChanges,
  isDependentRegistration,
  startConfigProblem,
} from '../../src/workflows/server-requests';
import { DEPENDENTS_BUDGET_BYTES } from '../../src/workflows/fan-out-chunks';
import { assertProperty } from '../support/generated-cases';

const config = parseOAuthServerConfig({
  name: 'Payloads',
  clientId: 'client',
  clientSecret: { source: 'local', value: 'payload-secret' },
  accessTokenUrl: 'https://login.example.com/token',
});
const frozen = JSON.stringify(config);

/** A refusal is typed and names a field, or it is a configuration error listing the fields. */
function assertTypedRefusal(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      assert.ok(error.issues.length > 0 && error.issues.every((issue) => issue.field !== ''));
      return;
    }
    assert.ok(error instanceof ApplicationFailure, `untyped ${String(error)}`);
    assert.equal(error.type, ServerFailure.InvalidRequest);
    assert.equal(error.nonRetryable, true);
    const field = (error.details?.[0] as { field?: unknown } | undefined)?.field;
    assert.ok(typeof field === 'string' && field !== '', 'the refusal names its field');
    assert.ok(error.message.startsWith(`${field}: `), 'the message starts with the field');
    return;
  }
}

const anything = fc.anything({ withBigInt: false, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true });
const objectWith = (key: string) => fc.record({ [key]: anything });

describe('payloads of the server workflow', () => {
  it('take only typed refusals naming the field, for thousands of generated payloads of every update and signal', () => {
    assertProperty(
      fc.property(
        fc.oneof(anything, objectWith('rejectedSerial'), objectWith('workflowIds'), objectWith('force'), objectWith('workflowId')),
        fc.oneof(anything, fc.dictionary(fc.constantFrom('name', 'category', 'maxWait', 'scope', 'allowedOrigins', 'clientSecret', 'maxRetryAttempts', 'unknown'), anything)),
        (payload, changes) => {
          assertTypedRefusal(() => checkFreshTokenRequest(payload));
          assertTypedRefusal(() => checkDependentsRegistration(payload));
          assertTypedRefusal(() => checkDeleteRequest(payload));
          assertTypedRefusal(() => checkServerChanges(config, changes));
          assertTypedRefusal(() => checkServerChanges(config, payload));
          assert.equal(typeof isDependentRegistration(payload), 'boolean');
          const problem = startConfigProblem(payload);
          assert.ok(problem === undefined || (problem instanceof ApplicationFailure && problem.type === ServerFailure.InvalidRequest));
          // Checking never changes the stored configuration.
          assert.equal(JSON.stringify(config), frozen);
        },
      ),
      { numRuns: 4_000 },
    );
  });

  it('accept the payloads the plugin itself sends', () => {
    assert.deepEqual(checkFreshTokenRequest({ rejectedSerial: 3 }), { rejectedSerial: 3 });
    assert.deepEqual(checkFreshTokenRequest({}), { rejectedSerial: undefined });
    assert.deepEqual(checkDependentsRegistration({ workflowIds: ['a', 'b'] }), { workflowIds: ['a', 'b'] });
    assert.deepEqual(checkDeleteRequest({ force: true }), { force: true });
    assert.deepEqual(checkServerChanges(config, { category: 'Other', maxWait: 5_000 }), { category: 'Other', maxWait: 5_000 });
    assert.equal(startConfigProblem(config), undefined);
  });

  it('an edit in a form other than the stored one, or a rename, is refused naming the field', () => {
    assert.throws(() => checkServerChanges(config, { maxWait: 'PT5S' }), /^ApplicationFailure: maxWait: /);
    assert.throws(() => checkServerChanges(config, { name: 'Other' }), /^ApplicationFailure: name: /);
    assert.throws(() => checkServerChanges(config, { maxRetryAttempts: 0 }), ConfigValidationError);
    assert.throws(() => checkServerChanges(config, { audience: 'x' }), /^ApplicationFailure: "audience": /);
  });

  it('a start that createServer would refuse is refused naming the field', () => {
    const problem = startConfigProblem({ ...config, allowedOrigins: ['http://example.com'] });
    assert.ok(problem instanceof ApplicationFailure);
    assert.match(problem.message, /allowedOrigins/);
    assert.match(startConfigProblem({ ...config, maxWait: 'PT1M' })?.message ?? '', /^config\.maxWait: /);
  });

  it('a registration is refused whole, typed and with the counts, when the dependents’ IDs would pass what one payload carries; known IDs cost nothing', () => {
    // IDs of 1,000 characters (Temporal's longest) take 1,003 bytes each in a JSON list.
    const id = (index: number) => String(index).padStart(1_000, 'x');
    const fitting = Math.floor(DEPENDENTS_BUDGET_BYTES / 1_003);
    const dependents = Array.from({ length: fitting - 1 }, (_, index) => id(index));
    const full = [...dependents, id(fitting - 1)];
    assert.doesNotThrow(() => checkDependentsFit('Payloads', [], [id(0)]));
    assert.doesNotThrow(() => checkDependentsFit('Payloads', dependents, [id(fitting - 1)]));
    // The same newcomer twice in one registration is counted once.
    assert.doesNotThrow(() => checkDependentsFit('Payloads', dependents, [id(fitting - 1), id(fitting - 1)]));
    assert.doesNotThrow(() => checkDependentsFit('Payloads', full, [id(0), id(5)]));
    assert.throws(
      () => checkDependentsFit('Payloads', full, [id(0), id(fitting)]),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        error.type === ServerFailure.TooManyDependents &&
        error.message.includes(`OAuth server Payloads has ${fitting} dependents, whose workflow IDs take ${fitting * 1_003} of the ${DEPENDENTS_BUDGET_BYTES} bytes`) &&
        error.message.includes('the 1 registering would need 1003 more.'),
    );
  });
});
