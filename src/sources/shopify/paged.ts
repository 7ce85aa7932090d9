import type { ShopifySnapshotWriter } from '../../store/shopify-snapshots.js';
import { ShopifyGraphQLError, type ShopifyClient } from './client.js';
import {
  INVENTORY_ITEMS_PAGE,
  INVENTORY_ITEM_IDS_PAGE,
  INVENTORY_ITEM_LEVELS_PAGE,
  LOCATIONS_PAGE,
  PRODUCT_VARIANTS_COUNT,
  type InventoryItemIdsPageData,
  type ProductVariantsCountData,
  SNAPSHOT_QUANTITY_NAMES,
  type Connection,
  type InventoryItemLevelsPageData,
  type InventoryItemsPageData,
  type LevelNode,
  type LocationsPageData,
} from './documents.js';
import { toLevelQuantities } from './quantities.js';

/** Shopify refuses a single query above 1000 points; pages are sized to stay under this and the bucket. */
export const SINGLE_QUERY_MAX_COST = 1000;
const MAX_PAGE = 250;
const names = [...SNAPSHOT_QUANTITY_NAMES];

export interface PagedProgress {
  items: number;
  levels: number;
}

/**
 * Sizes pages by cost: starts from an estimate, then learns the points per node from each answer's
 * requestedQueryCost, keeping every page under the bucket's maximum and Shopify's single-query limit.
 */
export class PageSizer {
  private maxCost = SINGLE_QUERY_MAX_COST;
  private cap = MAX_PAGE;
  constructor(
    private readonly bucketMaximum: () => number | undefined,
    private perNode: number,
  ) {}
  private limit(): number {
    return Math.min(this.maxCost, this.bucketMaximum() ?? SINGLE_QUERY_MAX_COST);
  }
  next(): number {
    return Math.max(1, Math.min(this.cap, Math.floor((this.limit() * 0.9 - 2) / this.perNode)));
  }
  expectedCost(first: number): number {
    return Math.ceil(2 + first * this.perNode);
  }
  learn(first: number, requestedCost: number): void {
    if (first > 0 && requestedCost > 2) this.perNode = Math.max(0.01, (requestedCost - 2) / first);
  }
  /** A page of `first` cost too much (MAX_COST_EXCEEDED): size down. False when already at one node. */
  tooCostly(first: number, error: ShopifyGraphQLError): boolean {
    if (first <= 1) return false;
    const detail = error.extensions.find((e) => e.code === 'MAX_COST_EXCEEDED') ?? {};
    if (typeof detail.maxCost === 'number' && detail.maxCost > 0) this.maxCost = detail.maxCost;
    if (typeof detail.cost === 'number') this.learn(first, detail.cost);
    else this.perNode *= 2;
    this.cap = Math.min(this.cap, first - 1); // always progress towards a page that fits
    return true;
  }
}

function isTooCostly(error: unknown): error is ShopifyGraphQLError {
  return error instanceof ShopifyGraphQLError && error.codes.includes('MAX_COST_EXCEEDED');
}

interface PageQuery<T> {
  document: string;
  variables: (first: number, after: string | null) => Record<string, unknown>;
  pageInfo: (data: T) => { hasNextPage: boolean; endCursor: string | null };
  /** At most this many nodes in the next page. */
  limit?: () => number;
  /** A page of one node still costs too much: make the next page cheaper another way, or give up (false). */
  shrink?: () => boolean;
}

/**
 * The pages of one connection, each sized by cost: a page Shopify refuses as too costly
 * (MAX_COST_EXCEEDED) is asked again smaller, and each answer teaches the sizer the cost per node
 * (`nodeCost`, the first estimate).
 */
async function* costSizedPages<T>(client: ShopifyClient, nodeCost: number, query: PageQuery<T>): AsyncGenerator<T> {
  const sizer = new PageSizer(() => client.throttleStatus()?.maximumAvailable, nodeCost);
  let after: string | null = null;
  for (;;) {
    const first = Math.min(sizer.next(), query.limit?.() ?? MAX_PAGE);
    let page: { data: T; cost: { requested: number } };
    try {
      page = await client.request<T>(query.document, query.variables(first, after), { expectedCost: sizer.expectedCost(first) });
    } catch (error) {
      if (isTooCostly(error) && (sizer.tooCostly(first, error) || (query.shrink?.() ?? false))) continue;
      throw error;
    }
    sizer.learn(first, page.cost.requested);
    yield page.data;
    const info = query.pageInfo(page.data);
    if (!info.hasNextPage) return;
    after = info.endCursor;
  }
}

export async function readLocations(client: ShopifyClient, writer: ShopifySnapshotWriter): Promise<number> {
  let count = 0;
  const pages = costSizedPages<LocationsPageData>(client, 1, {
    document: LOCATIONS_PAGE,
    variables: (first, after) => ({ first, after }),
    pageInfo: (data) => data.locations.pageInfo,
  });
  for await (const data of pages) {
    for (const { node } of data.locations.edges) {
      writer.addLocation(node.id, node.name, node.isActive !== false);
      count++;
    }
  }
  return count;
}

export interface ItemCount {
  /** More than the threshold? */
  above: boolean;
  /** Items counted (a lower bound when above). */
  counted: number;
  how: 'productVariantsCount' | 'item ids';
}

/**
 * Whether the shop has more than `threshold` inventory items, as cheaply as possible:
 * productVariantsCount (one call; variants and inventory items are one to one), else a walk over
 * item ids alone that stops as soon as the threshold is passed.
 */
export async function countItemsAbove(client: ShopifyClient, threshold: number): Promise<ItemCount> {
  try {
    const { data } = await client.request<ProductVariantsCountData>(PRODUCT_VARIANTS_COUNT, { limit: threshold + 1 });
    if (data.productVariantsCount) {
      return { above: data.productVariantsCount.count > threshold, counted: data.productVariantsCount.count, how: 'productVariantsCount' };
    }
  } catch (error) {
    // No read_products scope, or a Shopify (or emulator) without the field: count ids instead.
    if (!(error instanceof ShopifyGraphQLError)) throw error;
  }
  let counted = 0;
  const pages = costSizedPages<InventoryItemIdsPageData>(client, 1, {
    document: INVENTORY_ITEM_IDS_PAGE,
    variables: (first, after) => ({ first, after }),
    pageInfo: (data) => data.inventoryItems.pageInfo,
    limit: () => threshold + 1 - counted,
  });
  for await (const data of pages) {
    counted += data.inventoryItems.edges.length;
    if (counted > threshold) return { above: true, counted, how: 'item ids' };
  }
  return { above: false, counted, how: 'item ids' };
}

export interface PagedOptions {
  locationCount: number;
  onProgress?: (progress: PagedProgress) => void;
}

export async function readInventoryPaged(client: ShopifyClient, writer: ShopifySnapshotWriter, options: PagedOptions): Promise<PagedProgress> {
  let levelsFirst = Math.max(1, Math.min(MAX_PAGE, options.locationCount));
  const progress: PagedProgress = { items: 0, levels: 0 };
  // Per item: the item, its levels connection, and per level the level, its location and quantities.
  const pages = costSizedPages<InventoryItemsPageData>(client, 3 + 3 * levelsFirst, {
    document: INVENTORY_ITEMS_PAGE,
    variables: (first, after) => ({ first, after, levelsFirst, names }),
    pageInfo: (data) => data.inventoryItems.pageInfo,
    shrink: () => {
      // One item with all its levels is too much: fewer levels per item, the rest read per item.
      if (levelsFirst <= 1) return false;
      levelsFirst = Math.max(1, Math.floor(levelsFirst / 2));
      return true;
    },
  });
  for await (const data of pages) {
    for (const { node: item } of data.inventoryItems.edges) {
      writer.addItem(item.id, item.sku, item.tracked !== false);
      progress.items++;
      progress.levels += writeLevels(writer, item.id, item.sku, item.inventoryLevels);
      let levels: Connection<LevelNode> = item.inventoryLevels;
      // An item stocked at more locations than the page asked for: read the rest of its levels.
      while (levels.pageInfo.hasNextPage) {
        const rest: { data: InventoryItemLevelsPageData } = await client.request<InventoryItemLevelsPageData>(INVENTORY_ITEM_LEVELS_PAGE, {
          id: item.id,
          first: levelsFirst,
          after: levels.pageInfo.endCursor,
          names,
        });
        if (!rest.data.inventoryItem) break;
        levels = rest.data.inventoryItem.inventoryLevels;
        progress.levels += writeLevels(writer, item.id, item.sku, levels);
      }
    }
    options.onProgress?.(progress);
  }
  return progress;
}

function writeLevels(writer: ShopifySnapshotWriter, itemId: string, sku: string | null, levels: Connection<LevelNode>): number {
  let written = 0;
  for (const { node } of levels.edges) {
    if (writer.addLevel(itemId, node.location.id, sku, toLevelQuantities(node.quantities, `level of ${itemId} at ${node.location.id}`))) written++;
  }
  return written;
}
