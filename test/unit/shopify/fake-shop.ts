// A scripted stand-in for Shopify's GraphQL endpoint, answering the documents of
// src/sources/shopify/documents.ts by operation name, for unit tests of the pull.
import { operationNameOf } from '../../../src/sources/shopify/client.js';
import { BULK_INVENTORY_QUERY } from '../../../src/sources/shopify/documents.js';
import { requestUrl } from './scripted-fetch.js';

export interface FakeLevel {
  locationId: string;
  available: number;
  on_hand: number;
  committed?: number;
}
export interface FakeItem {
  id: string;
  sku: string | null;
  levels: FakeLevel[];
}
export interface FakeShopData {
  locations: { id: string; name: string }[];
  items: FakeItem[];
}

export interface FakeShopOptions {
  /** Largest query cost accepted (MAX_COST_EXCEEDED above it). */
  maxCost?: number;
  /** Orders the bulk JSONL: 'children-first' writes every level line before the items. */
  bulkOrder?: 'parent-first' | 'children-first';
  /** Fails the n-th GraphQL call (1-based) with a GraphQL error. */
  failCall?: number;
  bulkUrl?: string;
  /** A bulk query is already running when the pull starts one: the pull's own (a lost answer) or another. */
  bulkAlreadyRunning?: 'same-query' | 'other-query';
  /** Answer productVariantsCount (otherwise it is an unknown field, as without read_products). */
  countVariants?: boolean;
}

const quantities = (level: FakeLevel) => [
  { name: 'available', quantity: level.available },
  { name: 'on_hand', quantity: level.on_hand },
  { name: 'committed', quantity: level.committed ?? 0 },
  { name: 'reserved', quantity: 0 },
  { name: 'incoming', quantity: 0 },
];

function page<T>(all: T[], first: number, after: string | null | undefined) {
  const start = after ? Number(after) : 0;
  const slice = all.slice(start, start + first);
  return { slice, pageInfo: { hasNextPage: start + first < all.length, endCursor: String(start + slice.length) } };
}

export function fakeShop(shop: FakeShopData, options: FakeShopOptions = {}) {
  const calls: { operation: string; variables: Record<string, unknown> }[] = [];
  let polls = 0;
  const bulkUrl = options.bulkUrl ?? 'http://127.0.0.1:9/bulk/1.jsonl';
  const maxCost = options.maxCost ?? 1000;
  const status = (requested: number) => ({
    requestedQueryCost: requested,
    actualQueryCost: requested,
    throttleStatus: { maximumAvailable: maxCost, currentlyAvailable: maxCost, restoreRate: 100 },
  });
  const answer = (data: unknown, requested: number) => Response.json({ data, extensions: { cost: status(requested) } });
  const levelsConnection = (levels: FakeLevel[], first: number, after?: string | null) => {
    const { slice, pageInfo } = page(levels, first, after);
    return { pageInfo, edges: slice.map((level) => ({ node: { location: { id: level.locationId }, quantities: quantities(level) } })) };
  };

  function bulkJsonl(): string {
    const items = shop.items.map((item) => JSON.stringify({ id: item.id, sku: item.sku }));
    const levels = shop.items.flatMap((item) =>
      item.levels.map((level, i) =>
        JSON.stringify({
          id: `gid://shopify/InventoryLevel/${item.id.split('/').pop()}-${i}`,
          location: { id: level.locationId },
          quantities: quantities(level),
          __parentId: item.id,
        }),
      ),
    );
    return (options.bulkOrder === 'children-first' ? [...levels, ...items] : [...items, ...levels]).join('\n') + '\n';
  }

  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    if (requestUrl(input) === bulkUrl) return new Response(bulkJsonl());
    const body = JSON.parse(typeof init?.body === 'string' ? init.body : '') as { query: string; variables?: Record<string, unknown> };
    const operation = operationNameOf(body.query);
    const v = body.variables ?? {};
    calls.push({ operation, variables: v });
    if (options.failCall === calls.length)
      return Response.json({
        errors: [{ message: 'Internal error. Looks like something went wrong on our end.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    const first = Number(v.first ?? 0);
    switch (operation) {
      case 'LocationsPage': {
        const cost = 2 + first;
        if (cost > maxCost) return tooCostly(cost, maxCost);
        const { slice, pageInfo } = page(shop.locations, first, v.after as string | null);
        return answer({ locations: { pageInfo, edges: slice.map((node) => ({ node })) } }, cost);
      }
      case 'ProductVariantsCount': {
        if (!options.countVariants)
          return Response.json({
            errors: [
              {
                message: 'Access denied for productVariantsCount field. Required access: `read_products` access scope.',
                extensions: { code: 'ACCESS_DENIED' },
              },
            ],
          });
        const limit = v.limit as number | null;
        const count = limit === null ? shop.items.length : Math.min(limit, shop.items.length);
        return answer({ productVariantsCount: { count, precision: limit !== null && shop.items.length > limit ? 'AT_LEAST' : 'EXACT' } }, 1);
      }
      case 'InventoryItemIdsPage': {
        const cost = 2 + first;
        if (cost > maxCost) return tooCostly(cost, maxCost);
        const { slice, pageInfo } = page(shop.items, first, v.after as string | null);
        return answer({ inventoryItems: { pageInfo, edges: slice.map((item) => ({ node: { id: item.id } })) } }, cost);
      }
      case 'InventoryItemsPage': {
        const levelsFirst = Number(v.levelsFirst);
        const cost = 2 + first * (3 + 3 * levelsFirst);
        if (cost > maxCost) return tooCostly(cost, maxCost);
        const { slice, pageInfo } = page(shop.items, first, v.after as string | null);
        return answer(
          {
            inventoryItems: {
              pageInfo,
              edges: slice.map((item) => ({ node: { id: item.id, sku: item.sku, inventoryLevels: levelsConnection(item.levels, levelsFirst) } })),
            },
          },
          cost,
        );
      }
      case 'InventoryItemLevelsPage': {
        const item = shop.items.find((i) => i.id === v.id);
        return answer(
          { inventoryItem: item ? { id: item.id, inventoryLevels: levelsConnection(item.levels, first, v.after as string) } : null },
          2 + 3 * first,
        );
      }
      case 'BulkOperationRunQuery':
        if (options.bulkAlreadyRunning) {
          return answer(
            {
              bulkOperationRunQuery: {
                bulkOperation: null,
                userErrors: [
                  {
                    code: 'OPERATION_IN_PROGRESS',
                    field: null,
                    message: 'A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/1.',
                  },
                ],
              },
            },
            10,
          );
        }
        return answer({ bulkOperationRunQuery: { bulkOperation: { id: 'gid://shopify/BulkOperation/1', status: 'CREATED' }, userErrors: [] } }, 10);
      case 'CurrentBulkOperation':
        return answer(
          {
            currentBulkOperation: {
              id: 'gid://shopify/BulkOperation/1',
              status: 'RUNNING',
              query:
                options.bulkAlreadyRunning === 'same-query' ? `  ${BULK_INVENTORY_QUERY.replace(/\n/g, '\n  ')}` : '{ products { edges { node { id } } } }',
            },
          },
          1,
        );
      case 'BulkOperationStatus': {
        polls++;
        const done = polls >= 2;
        const objects = shop.items.length + shop.items.reduce((n, i) => n + i.levels.length, 0);
        return answer(
          {
            bulkOperation: {
              id: v.id,
              status: done ? 'COMPLETED' : 'RUNNING',
              errorCode: null,
              objectCount: String(done ? objects : 1),
              rootObjectCount: String(shop.items.length),
              fileSize: null,
              url: done && objects > 0 ? bulkUrl : null,
              partialDataUrl: null,
            },
          },
          1,
        );
      }
      default:
        return Response.json({ errors: [{ message: `fake shop: unknown operation ${operation}` }] });
    }
  }) as typeof globalThis.fetch;

  return { fetch, calls };
}

function tooCostly(cost: number, maxCost: number): Response {
  return Response.json({
    errors: [
      {
        message: `Query cost is ${cost}, which exceeds the single query max cost limit (${maxCost}).\n\nSee the docs.`,
        extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost },
      },
    ],
  });
}

/** A small shop: 3 locations, items with 1–3 levels, one without a SKU, one SKU shared by two items. */
export function sampleShop(itemCount = 7): FakeShopData {
  const locations = [1, 2, 3].map((n) => ({ id: `gid://shopify/Location/${n}`, name: `Location ${n}` }));
  const items: FakeItem[] = [];
  for (let n = 1; n <= itemCount; n++) {
    const sku = n === 3 ? null : n === 5 ? '' : n === 6 ? 'SKU-2' : `SKU-${n}`;
    const levels = locations
      .slice(0, 1 + (n % 3))
      .map((location, i) => ({ locationId: location.id, available: n * 10 + i, on_hand: n * 10 + i + 1, committed: i }));
    items.push({ id: `gid://shopify/InventoryItem/${100 + n}`, sku, levels });
  }
  return { locations, items };
}
