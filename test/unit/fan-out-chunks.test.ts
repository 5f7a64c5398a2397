import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunksWithinBytes, DEPENDENTS_BUDGET_BYTES, dependentBytes, jsonUtf8Bytes } from '../../src/workflows/fan-out-chunks';
import { assertProperty } from '../support/generated-cases';

/** Any UTF-16 string, lone surrogates and control characters included: workflow IDs are not checked for either. */
const anyUtf16 = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
const anyText = fc.oneof(anyUtf16, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }));

describe('splitting a fan-out into activities by the bytes of its dependents’ IDs', () => {
  it('counts the UTF-8 bytes of an ID as JSON exactly as Node writes them', () => {
    assertProperty(
      fc.property(anyText, (value) => jsonUtf8Bytes(value) === Buffer.byteLength(JSON.stringify(value))),
      { numRuns: 2_000 },
    );
  });

  it('keeps every ID once, in order, in chunks whose JSON fits the budget and that each take all the next one could', () => {
    assertProperty(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }), { maxLength: 60 }), fc.integer({ min: 1, max: 400 }), (ids, budget) => {
        const chunks = chunksWithinBytes(ids, budget);
        assert.deepEqual(chunks.flat(), ids);
        chunks.forEach((chunk, index) => {
          assert.ok(chunk.length > 0, 'no empty chunk');
          // A JSON array is its items, a comma after each but the last, and two brackets.
          const bytes = Buffer.byteLength(JSON.stringify(chunk));
          if (chunk.length > 1) assert.ok(bytes <= budget + 1, `chunk ${index} takes ${bytes} bytes, over ${budget}`);
          const next = chunks[index + 1];
          if (next) assert.ok(Buffer.byteLength(JSON.stringify([...chunk, next[0]])) > budget + 1, `chunk ${index} could have taken one more`);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('gives an ID longer than the budget a chunk of its own rather than splitting or dropping it', () => {
    assert.deepEqual(chunksWithinBytes(['a', 'x'.repeat(50), 'b'], 10), [['a'], ['x'.repeat(50)], ['b']]);
  });

  it('sends as many dependents as a server can carry in one activity, however many: 32,768 IDs of 45 characters, and one more in a second', () => {
    const id = (index: number) => `import-source-${String(index).padStart(31, '0')}`;
    const most = DEPENDENTS_BUDGET_BYTES / dependentBytes(id(0));
    const ids = Array.from({ length: most }, (_, index) => id(index));
    assert.equal(most, 32_768);
    assert.deepEqual(chunksWithinBytes(ids), [ids]);
    assert.deepEqual(chunksWithinBytes([...ids, id(most)]), [ids, [id(most)]]);
  });
});
