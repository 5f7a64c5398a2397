import { ApplicationFailure } from '@temporalio/workflow';
import { ImportFailure, nonRetryable } from '../contract/failures';
import type { WebServiceCallInput, WebServiceCallResult } from '../activities/web-service-call-types';

/**
 * How a page endpoint pages. Every option has today's shape as its default: GET
 * `url?cursor=C&limit=N` answering `{ records: [...], nextCursor: C' | null }`.
 */
export interface ImportPageShape {
  /** Dotted path of the records array in the body, e.g. `data.items`; `''` when the body is the array itself. Default `records`. */
  recordsPath?: string;
  /**
   * Where the next page is named; at most one of these, `nextCursorPath: 'nextCursor'` when none:
   * - `nextCursorPath`: dotted path of the next cursor in the body, sent back as `cursorParam`;
   * - `nextUrlPath`: dotted path of the next page's URL in the body, followed as it is;
   * - `nextLinkHeader: true`: the URL of the `Link` header's `rel="next"` (RFC 8288), followed as it is.
   * A missing, null or empty value ends the import.
   */
  nextCursorPath?: string;
  nextUrlPath?: string;
  nextLinkHeader?: boolean;
  /** The query parameter the cursor goes in. Default `cursor`; `page` for numbered pages. */
  cursorParam?: string;
  /** The query parameter the page size goes in (on the first page only when next URLs are followed). Default `limit`. */
  pageSizeParam?: string;
  /** The cursor of the first page. Default 0; 1 for numbered pages. */
  firstCursor?: string | number;
}

export type Cursor = string | number;

export interface Page {
  records: unknown[];
  next: Cursor | null;
}

/** The page shape with its defaults filled in, checked once at the start of each run. */
export interface PageReader {
  firstCursor: Cursor;
  /** The call that reads the page at `cursor`; `first` is the import's very first page. */
  request(server: string, cursor: Cursor, first: boolean): WebServiceCallInput;
  read(response: WebServiceCallResult, cursor: Cursor): Page;
}

const MAX_PAGE_SIZE = 10_000;
const MAX_NAME_LENGTH = 200;
const PATH = /^[^.]+(\.[^.]+)*$/;

function invalid(field: string, rule: string): ApplicationFailure {
  return nonRetryable(ImportFailure.InvalidSource, `${field}: ${rule}`, { field });
}

function checkPath(field: string, value: unknown, allowEmpty: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH || !(PATH.test(value) || (allowEmpty && value === ''))) {
    throw invalid(field, `must be a dotted path such as data.items${allowEmpty ? ", or '' for the body itself" : ''}`);
  }
  return value;
}

function checkParam(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) throw invalid(field, 'must be a query parameter name');
  return value;
}

/** Checks the input's paging options and the URL: bad ones fail the import at once, naming the option, before any token is spent. */
export function pageReader(input: { url: unknown; pageSize?: unknown; pageShape?: unknown }): PageReader & { pageSize: number } {
  if (typeof input.url !== 'string' || !URL.canParse(input.url) || !/^https?:$/.test(new URL(input.url).protocol)) {
    throw invalid('url', 'must be an http(s) URL');
  }
  const pageSize = input.pageSize ?? 50;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalid('pageSize', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  const shape = input.pageShape ?? {};
  if (typeof shape !== 'object' || shape === null || Array.isArray(shape)) throw invalid('pageShape', 'must be an object');
  const known = ['recordsPath', 'nextCursorPath', 'nextUrlPath', 'nextLinkHeader', 'cursorParam', 'pageSizeParam', 'firstCursor'];
  const unknown = Object.keys(shape).find((key) => !known.includes(key));
  if (unknown !== undefined) throw invalid(`pageShape.${unknown}`, `is not an option (${known.join(', ')})`);
  const options = shape as Record<string, unknown>;
  const recordsPath = checkPath('pageShape.recordsPath', options.recordsPath, true) ?? 'records';
  const nextCursorPath = checkPath('pageShape.nextCursorPath', options.nextCursorPath, false);
  const nextUrlPath = checkPath('pageShape.nextUrlPath', options.nextUrlPath, false);
  if (options.nextLinkHeader !== undefined && typeof options.nextLinkHeader !== 'boolean') throw invalid('pageShape.nextLinkHeader', 'must be true or false');
  const nextLinkHeader = options.nextLinkHeader === true;
  if ([nextCursorPath, nextUrlPath, nextLinkHeader || undefined].filter((given) => given !== undefined).length > 1) {
    throw invalid('pageShape.nextCursorPath', 'give at most one of nextCursorPath, nextUrlPath and nextLinkHeader');
  }
  const followsUrls = nextUrlPath !== undefined || nextLinkHeader;
  for (const cursorOption of ['cursorParam', 'firstCursor']) {
    if (followsUrls && options[cursorOption] !== undefined) throw invalid(`pageShape.${cursorOption}`, 'goes with a cursor, not with next URLs');
  }
  const cursorParam = checkParam('pageShape.cursorParam', options.cursorParam, 'cursor');
  const pageSizeParam = checkParam('pageShape.pageSizeParam', options.pageSizeParam, 'limit');
  if (cursorParam === pageSizeParam) throw invalid('pageShape.pageSizeParam', 'must differ from cursorParam');
  // Following next URLs, the cursor is the URL of the page to read, the first one being the source's own.
  const firstCursor = followsUrls ? input.url : (options.firstCursor ?? 0);
  if (!(typeof firstCursor === 'string' || (typeof firstCursor === 'number' && Number.isFinite(firstCursor)))) {
    throw invalid('pageShape.firstCursor', 'must be a string or a number');
  }

  return {
    pageSize,
    firstCursor,
    request(server, cursor, first) {
      if (!followsUrls) return { server, url: input.url as string, query: { [cursorParam]: cursor, [pageSizeParam]: pageSize } };
      return first ? { server, url: String(cursor), query: { [pageSizeParam]: pageSize } } : { server, url: String(cursor) };
    },
    read(response, cursor) {
      const records = recordsPath === '' ? response.body : valueAt(response.body, recordsPath);
      if (!Array.isArray(records)) {
        throw ApplicationFailure.nonRetryable(
          `the page at ${String(cursor)} has no records array at ${recordsPath === '' ? 'its body' : recordsPath} (pageShape.recordsPath)`,
          ImportFailure.InvalidPage,
        );
      }
      let next: unknown;
      if (nextLinkHeader) next = nextLink(response.headers.link);
      else next = valueAt(response.body, nextUrlPath ?? nextCursorPath ?? 'nextCursor');
      if (next === undefined || next === null || next === '') return { records, next: null };
      if (followsUrls) return { records, next: absoluteUrl(next, String(cursor)) };
      if (typeof next !== 'string' && typeof next !== 'number') {
        throw ApplicationFailure.nonRetryable(`the page at ${String(cursor)} has a next cursor that is neither a string nor a number`, ImportFailure.InvalidPage);
      }
      return { records, next };
    },
  };
}

function valueAt(body: unknown, path: string): unknown {
  let value = body;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** A next URL may be relative to the page it came with (RFC 8288 §3.2); it is followed only over http(s). */
function absoluteUrl(next: unknown, base: string): string {
  if (typeof next !== 'string' || !URL.canParse(next, base) || !/^https?:$/.test(new URL(next, base).protocol)) {
    throw ApplicationFailure.nonRetryable(`the page at ${base} names a next page that is not an http(s) URL`, ImportFailure.InvalidPage);
  }
  return new URL(next, base).href;
}

/** The target of `rel="next"` in a Link header such as `<https://api/x?page=3>; rel="next", <…>; rel="last"`. */
export function nextLink(header: string | undefined): string | undefined {
  for (const match of (header ?? '').matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const relations = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? '');
    const names = (relations?.[1] ?? relations?.[2] ?? '').toLowerCase().split(/\s+/);
    if (names.includes('next')) return match[1];
  }
  return undefined;
}
