import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { WebServiceCallFailure } from '../../src';
import { redirectedHop, type Hop } from '../../src/activities/redirect';
import { assertProperty } from '../support/generated-cases';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length'];

function hop(method: Hop['method']): Hop {
  return {
    url: new URL('https://api.example.com/orders?page=1'),
    method,
    headers: { 'Content-Type': 'application/merge-patch+json', 'Content-Language': 'en', 'x-kept': 'yes' },
    body: { json: { order: 'A-1' } },
  };
}

function redirect(status: number, location: string) {
  return { status, headers: { location }, body: Buffer.alloc(0) };
}

describe('webServiceCall: where a redirect leads (pure)', () => {
  it('303, and POST after 301 or 302, go on as GET without body or content headers; everything else keeps method, body and headers (Fetch standard)', () => {
    assertProperty(
      fc.property(fc.constantFrom(...METHODS), fc.constantFrom(301, 302, 303, 307, 308), fc.constantFrom('/next', 'https://api.example.com/abs', '?page=2', '//other.example.net/x'), (method, status, location) => {
        const from = hop(method);
        const next = redirectedHop(from, redirect(status, location));
        assert.ok(next);
        assert.equal(next.url.href, new URL(location, from.url).href);
        const becomesGet = (status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
        if (becomesGet) {
          assert.equal(next.method, 'GET');
          assert.equal(next.body, undefined);
          assert.deepEqual(next.headers, { 'x-kept': 'yes' });
          assert.ok(!Object.keys(next.headers).some((name) => BODY_HEADERS.includes(name.toLowerCase())));
        } else {
          assert.deepEqual({ ...next, url: next.url.href }, { ...from, url: next.url.href });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a response that is not a redirect, or one without Location, leads nowhere; a Location that is no URL is refused, typed', () => {
    assertProperty(
      fc.property(fc.integer({ min: 200, max: 599 }), fc.option(fc.string({ maxLength: 40 }), { nil: undefined }), (status, location) => {
        let next;
        try {
          next = redirectedHop(hop('POST'), { status, headers: location === undefined ? {} : { location }, body: Buffer.alloc(0) });
        } catch (error) {
          assert.ok(error instanceof ApplicationFailure, String(error));
          assert.equal(error.type, WebServiceCallFailure.RedirectRefused);
          assert.ok(!URL.canParse(location ?? '', 'https://api.example.com/orders'));
          return;
        }
        assert.equal(next !== undefined, [301, 302, 303, 307, 308].includes(status) && Boolean(location));
      }),
      { numRuns: 1_000 },
    );
    assert.throws(() => redirectedHop(hop('GET'), redirect(302, 'http://[broken')), (error: unknown) => error instanceof ApplicationFailure && error.type === WebServiceCallFailure.RedirectRefused);
  });
});
