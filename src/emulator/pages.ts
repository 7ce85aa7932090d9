// Connections as Shopify pages them: opaque cursors, `first` checked against the page size, a binary search for `after`.
import { GraphQLError } from 'graphql';

export const MAX_PAGE_SIZE = 250;

/** Opaque cursors, like Shopify's: base64 of a small JSON object. */
export function encodeCursor(key: number): string {
  return Buffer.from(JSON.stringify({ last_id: key })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { last_id?: unknown };
    if (typeof value.last_id === 'number' && Number.isInteger(value.last_id)) return value.last_id;
  } catch {
    // fall through
  }
  throw new GraphQLError(`Invalid cursor: ${JSON.stringify(cursor)}.`, { extensions: { code: 'BAD_REQUEST' } });
}

/** An ordered list of node keys: keys grow along the list (or shrink, when reversed). */
export interface KeyList {
  length: number;
  at(position: number): number;
}

export function rangeKeys(length: number): KeyList {
  return { length, at: (position) => position };
}

export function arrayKeys(keys: ArrayLike<number>): KeyList {
  return { length: keys.length, at: (position) => keys[position]! };
}

function reversedKeys(keys: KeyList): KeyList {
  return { length: keys.length, at: (position) => keys.at(keys.length - 1 - position) };
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  reverse?: boolean | null;
}

export function checkFirst(args: PageArgs): number {
  if (args.first === undefined || args.first === null) {
    throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  }
  if (args.first < 0) throw new GraphQLError(`The value of 'first' must be a positive integer, got ${args.first}.`, { extensions: { code: 'BAD_REQUEST' } });
  if (args.first > MAX_PAGE_SIZE) {
    throw new GraphQLError(`The value of 'first' (${args.first}) exceeds the maximum page size of ${MAX_PAGE_SIZE}.`, { extensions: { code: 'BAD_REQUEST' } });
  }
  return args.first;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** One page of a keyed list after the `after` cursor (binary search: keys are monotonic). */
export function paginate<T>(allKeys: KeyList, args: PageArgs, toNode: (key: number) => T): Connection<T> {
  const first = checkFirst(args);
  const keys = args.reverse ? reversedKeys(allKeys) : allKeys;
  let start = 0;
  if (args.after) {
    const after = decodeCursor(args.after);
    const beyond = (key: number) => (args.reverse ? key < after : key > after);
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (beyond(keys.at(mid))) high = mid;
      else low = mid + 1;
    }
    start = low;
  }
  const end = Math.min(keys.length, start + first);
  const edges: { cursor: string; node: T }[] = [];
  for (let position = start; position < end; position++) {
    const key = keys.at(position);
    edges.push({ cursor: encodeCursor(key), node: toNode(key) });
  }
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: end < keys.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
