import { erpColumnKeys, type ErpApiPagination, type ErpColumn } from '../../../config/schema.js';
import { SourceError } from '../../../errors.js';
import type { ErpRecord, ErpSource, ErpSourceProblem } from '../ingest.js';
import type { HttpJsonClient, JsonResponse } from './http.js';
import { checkFollowedUrl, displayUrl, getKeys, getPath, nextFromLinkHeader, PageIndex, splitPath } from './support.js';

export interface GenericApiSourceOptions {
  url: URL;
  query?: Record<string, string>;
  headers: Record<string, string>;
  /** Dot path to the records array in each body; undefined: the body is the array. */
  recordsPath?: string;
  /** ERP column -> dot path in a record; unlisted columns read the key of the same name. */
  fields?: Partial<Record<ErpColumn, string>>;
  pagination: ErpApiPagination;
  pageSize: number;
  stopAt?: 'short-page' | 'empty-page';
  http: HttpJsonClient;
  /** Shown in messages and stored as the snapshot's source; default: the URL without its query. */
  name?: string;
}

interface Page {
  number: number;
  url: URL;
  response: JsonResponse;
}

/** What page to ask for next, given the one just read; null when it was the last. */
type NextPage = (page: Page, records: number) => URL | null;

function withParams(url: URL, params: Record<string, string | number | undefined>): URL {
  const out = new URL(url);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out.searchParams.set(key, String(value));
  return out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`.slice(0, 80);
}

/** The first URL and the rule that walks from page to page, for each pagination style. */
function paginate(options: GenericApiSourceOptions, first: URL, where: (page: number) => string): { first: URL; next: NextPage } {
  const { pagination, pageSize } = options;
  const stopAtShort = (options.stopAt ?? 'short-page') === 'short-page';
  const isLast = (records: number) => records === 0 || (stopAtShort && records < pageSize);
  let previousToken: string | undefined;
  const notRepeated = (token: string, page: Page): string => {
    // A server that hands back the same cursor or link would loop forever.
    if (token === previousToken)
      throw new SourceError(`${where(page.number)}: the next page pointer ${JSON.stringify(token)} repeats the previous one; stopping instead of looping`);
    previousToken = token;
    return token;
  };
  switch (pagination.style) {
    case 'none':
      return { first, next: () => null };
    case 'offset': {
      let offset = 0;
      return {
        first: withParams(first, { [pagination.offsetParam]: 0, [pagination.limitParam]: pageSize }),
        next: (_page, records) => {
          if (isLast(records)) return null;
          // Advance by what came, not by what was asked: a server capping the page size loses nothing.
          offset += records;
          return withParams(first, { [pagination.offsetParam]: offset, [pagination.limitParam]: pageSize });
        },
      };
    }
    case 'page': {
      let page = pagination.firstPage;
      return {
        first: withParams(first, { [pagination.pageParam]: page, [pagination.sizeParam]: pageSize }),
        next: (_page, records) => {
          if (isLast(records)) return null;
          page++;
          return withParams(first, { [pagination.pageParam]: page, [pagination.sizeParam]: pageSize });
        },
      };
    }
    case 'cursor': {
      const start = withParams(first, { [pagination.sizeParam ?? '']: pagination.sizeParam ? pageSize : undefined });
      return {
        first: start,
        next: (page) => {
          const cursor = getPath(page.response.body, pagination.nextCursorPath);
          if (cursor === undefined || cursor === null || cursor === '' || cursor === false) return null;
          if (typeof cursor !== 'string' && typeof cursor !== 'number') {
            throw new SourceError(
              `${where(page.number)}: expected the next cursor at "${pagination.nextCursorPath}" to be a string or number, found ${describeValue(cursor)}`,
            );
          }
          return withParams(start, { [pagination.cursorParam]: notRepeated(String(cursor), page) });
        },
      };
    }
    case 'next-link':
      return {
        first: withParams(first, { [pagination.sizeParam ?? '']: pagination.sizeParam ? pageSize : undefined }),
        next: (page) => {
          const link = getPath(page.response.body, pagination.nextLinkPath);
          if (link === undefined || link === null || link === '' || link === false) return null;
          if (typeof link !== 'string')
            throw new SourceError(`${where(page.number)}: expected the next link at "${pagination.nextLinkPath}" to be a URL, found ${describeValue(link)}`);
          return checkFollowedUrl(new URL(notRepeated(link, page), page.url), options.url, where(page.number));
        },
      };
    case 'link-header':
      return {
        first: withParams(first, { [pagination.sizeParam ?? '']: pagination.sizeParam ? pageSize : undefined }),
        next: (page) => {
          const next = nextFromLinkHeader(page.response.headers.get('link'), page.url);
          if (!next) return null;
          notRepeated(next.href, page);
          return checkFollowedUrl(next, options.url, where(page.number));
        },
      };
  }
}

/**
 * A JSON-over-HTTP ERP source. Streams page by page: records of a page are yielded as soon as it
 * is parsed, while the next page is already being fetched, so at most two pages are in memory.
 */
export function genericApiSource(options: GenericApiSourceOptions): ErpSource {
  const name = options.name ?? displayUrl(options.url);
  const index = new PageIndex();
  const where = (page: number) => `${name} page ${page}`;
  const fields = erpColumnKeys.map((column) => [column, splitPath(options.fields?.[column] ?? column)] as const);
  const recordsLabel = options.recordsPath === undefined ? 'the top level' : `"${options.recordsPath}"`;

  return {
    name,
    describeOrdinal(ordinal) {
      const { page, index: at } = index.locate(ordinal);
      return `page ${page}, record ${at}`;
    },
    async *records(): AsyncGenerator<ErpRecord | ErpSourceProblem> {
      const { first, next } = paginate(options, withParams(options.url, options.query ?? {}), where);
      const cancel = new AbortController();
      const fetchPage = (url: URL, number: number): Promise<Page> => {
        const promise = options.http
          .request({ url, headers: options.headers }, where(number), [], cancel.signal)
          .then((response) => ({ number, url, response }));
        promise.catch(() => {}); // the loop awaits it; this only keeps an abandoned prefetch from being "unhandled"
        return promise;
      };
      let pending: Promise<Page> | null = fetchPage(first, 1);
      let ordinal = 0;
      try {
        while (pending) {
          const page: Page = await pending;
          const records = getPath(page.response.body, options.recordsPath ?? '');
          if (!Array.isArray(records)) {
            throw new SourceError(
              `${where(page.number)}: expected an array of records at ${recordsLabel}, found ${describeValue(records)}${options.recordsPath === undefined ? ' (set erp.api.recordsPath)' : ''}`,
            );
          }
          index.addPage(ordinal + 1);
          const nextUrl = next(page, records.length);
          pending = nextUrl ? fetchPage(nextUrl, page.number + 1) : null;
          for (let i = 0; i < records.length; i++) {
            ordinal++;
            const record: unknown = records[i];
            const at = `${where(page.number)}, record ${i + 1}`;
            if (record === null || typeof record !== 'object' || Array.isArray(record)) {
              yield { problem: `${at}: expected an object, found ${describeValue(record)}` };
              continue;
            }
            const picked: ErpRecord['fields'] = {};
            for (const [column, path] of fields) {
              const value = getKeys(record, path);
              if (value !== undefined) picked[column] = value;
            }
            yield { fields: picked, ordinal, locate: () => at };
          }
        }
      } finally {
        cancel.abort();
      }
    },
  };
}
