import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextLink, pageReader } from '../../src/workflows/import-pages';
import { assertProperty } from '../support/generated-cases';

const target = fc.webUrl({ withQueryParameters: true }).filter((url) => !/[<>,;"]/.test(url));
const otherRelation = fc.constantFrom('prev', 'last', 'first', 'help', 'self', 'nextish', 'preconnect');

describe('import sources: reading pages (pure)', () => {
  it('finds rel="next" among other links in any order, quoted or not, with other parameters, and nothing when there is none', () => {
    assertProperty(
      fc.property(
        fc.array(fc.tuple(target, otherRelation), { maxLength: 4 }),
        fc.option(target, { nil: undefined }),
        fc.nat(4),
        fc.boolean(),
        fc.constantFrom('', '; title="x"', '; type=application/json'),
        (others, next, position, quoted, extra) => {
          const links = others.map(([url, relation]) => `<${url}>; rel="${relation}"`);
          if (next !== undefined) links.splice(position, 0, `<${next}>${extra}; rel=${quoted ? '"next"' : 'next'}`);
          assert.equal(nextLink(links.join(', ')), next);
        },
      ),
      { numRuns: 1000 },
    );
    assert.equal(nextLink('<https://a.example/2>; rel="prev next"'), 'https://a.example/2');
    assert.equal(nextLink(undefined), undefined);
  });

  it("today's shape is the default: cursor and limit in the query, records and nextCursor in the body", () => {
    const reader = pageReader({ url: 'http://127.0.0.1:1/records' });
    assert.equal(reader.firstCursor, 0);
    assert.deepEqual(reader.request('crm', 0, true), { server: 'crm', url: 'http://127.0.0.1:1/records', query: { cursor: 0, limit: 50 } });
    const response = (body: unknown) => ({ status: 200, headers: {}, body, bodyType: 'json' as const });
    assert.deepEqual(reader.read(response({ records: [1, 2], nextCursor: 2 }), 0), { records: [1, 2], next: 2 });
    assert.deepEqual(reader.read(response({ records: [3], nextCursor: null }), 2), { records: [3], next: null });
    assert.throws(() => reader.read(response({ items: [] }), 0), /no records array at records/);
  });

  it('a relative next URL is resolved against the page it came with, and one that is not http(s) fails the page', () => {
    const reader = pageReader({ url: 'http://127.0.0.1:1/v1/items', pageShape: { recordsPath: '', nextLinkHeader: true } });
    const page = (link: string) => ({ status: 200, headers: { link }, body: [], bodyType: 'json' as const });
    assert.equal(reader.read(page('<items?after=9>; rel="next"'), 'http://127.0.0.1:1/v1/items').next, 'http://127.0.0.1:1/v1/items?after=9');
    assert.throws(() => reader.read(page('<javascript:alert(1)>; rel="next"'), 'http://127.0.0.1:1/v1/items'), /not an http\(s\) URL/);
  });
});
