import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { ServerFailure } from '../../src/contract/failures';
import { checkAdminRequest, checkAuthorizeRequest, checkDeleteRequest } from '../../src/workflows/server-requests';
import { assertProperty } from '../support/generated-cases';

/** The three payloads that carry an actor, each checked the same way. */
const checks: [string, (payload: unknown) => unknown][] = [
  ['authorize', checkAuthorizeRequest],
  ['delete', checkDeleteRequest],
  ['edit', (payload) => checkAdminRequest(payload, 'edit request')],
];

/** C0 and C1 controls and DEL, written out rather than as the checker's own expression. */
const isControl = (code: number) => code <= 0x1f || (code >= 0x7f && code <= 0x9f);

function refusedField(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `untyped ${String(error)}`);
    assert.equal(error.type, ServerFailure.InvalidRequest);
    return (error.details?.[0] as { field: string }).field;
  }
}

describe('the actor of an admin action', () => {
  it('is text of 1 to 200 characters without control characters, or left out; anything else is refused naming actor', () => {
    for (const [what, check] of checks) {
      for (const actor of ['admin', 'alice@example.com', 'Zoë Ünïcode', 'x'.repeat(200)]) assert.equal(refusedField(() => check({ actor })), undefined, `${what} ${actor}`);
      assert.equal(refusedField(() => check({})), undefined);
      assert.equal(refusedField(() => check(undefined)), undefined);
      for (const actor of ['', 'x'.repeat(201), 'alice\nbob', 'tab\there', '\u0085', 42, null, ['alice'], { name: 'alice' }, true]) {
        assert.equal(refusedField(() => check({ actor })), 'actor', `${what} ${JSON.stringify(actor)}`);
      }
    }
  });

  it('takes only typed refusals naming actor, for thousands of generated actors', () => {
    assertProperty(
      fc.property(fc.oneof(fc.string({ maxLength: 250, unit: 'binary' }), fc.anything()), (actor) => {
        const valid = typeof actor === 'string' && actor.length >= 1 && actor.length <= 200 && [...actor].every((char) => !isControl(char.codePointAt(0)!));
        for (const [, check] of checks) assert.equal(refusedField(() => check({ actor })), actor === undefined || valid ? undefined : 'actor');
      }),
      { numRuns: 3_000 },
    );
  });
});
