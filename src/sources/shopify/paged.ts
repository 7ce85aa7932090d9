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

export async function readLocations(client: ShopifyClient, writer: ShopifySnapshotWriter): Promise<number> {
  const sizer = new PageSizer(() => client.throttleStatus()?.maximumAvailable, 1);
  let after: string | null = null;
  let count = 0;
  for (;;) {
    const first = sizer.next();
    let page: { data: LocationsPageData; cost: { requested: number } };
    try {
      page = await client.request<LocationsPageData>(LOCATIONS_PAGE, { first, after }, { expectedCost: sizer.expectedCost(first) });
    } catch (error) {
      if (isTooCostly(error) && sizer.tooCostly(first, error)) continue;
      throw error;
    }
    sizer.learn(first, page.cost.requested);
    for (const { node } of page.data.locations.edges) {
      writer.addLocation(node.id, node.name);
      count++;
    }
    if (!page.data.locations.pageInfo.hasNextPage) return count;
    after = page.data.locations.pageInfo.endCursor;
  }
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
  const sizer = new PageSizer(() => client.throttleStatus()?.maximumAvailable, 1);
  let counted = 0;
  let after: string | null = null;
  for (;;) {
    const first = Math.min(sizer.next(), threshold + 1 - counted);
    let page: { data: InventoryItemIdsPageData; cost: { requested: number } };
    try {
      page = await client.request<InventoryItemIdsPageData>(INVENTORY_ITEM_IDS_PAGE, { first, after }, { expectedCost: sizer.expectedCost(first) });
    } catch (error) {
      if (isTooCostly(error) && sizer.tooCostly(first, error)) continue;
      throw error;
    }
    sizer.learn(first, page.cost.requested);
    counted += page.data.inventoryItems.edges.length;
    if (counted > threshold) return { above: true, counted, how: 'item ids' };
    if (!page.data.inventoryItems.pageInfo.hasNextPage) return { above: false, counted, how: 'item ids' };
    after = page.data.inventoryItems.pageInfo.endCursor;
  }
}

export interface PagedOptions {
  locationCount: number;
  onProgress?: (progress: PagedProgress) => void;
}

export async function readInventoryPaged(client: ShopifyClient, writer: ShopifySnapshotWriter, options: PagedOptions): Promise<PagedProgress> {
  let levelsFirst = Math.max(1, Math.min(MAX_PAGE, options.locationCount));
  // Per item: the item, its levels connection, and per level the level, its location and quantities.
  const sizer = new PageSizer(() => client.throttleStatus()?.maximumAvailable, 3 + 3 * levelsFirst);
  const progress: PagedProgress = { items: 0, levels: 0 };
  let after: string | null = null;
  for (;;) {
    const first = sizer.next();
    let page: { data: InventoryItemsPageData; cost: { requested: number } };
    try {
      page = await client.request<InventoryItemsPageData>(INVENTORY_ITEMS_PAGE, { first, after, levelsFirst, names }, { expectedCost: sizer.expectedCost(first) });
    } catch (error) {
      if (isTooCostly(error)) {
        if (sizer.tooCostly(first, error)) continue;
        if (levelsFirst > 1) {
          // One item with all its levels is too much: fewer levels per item, the rest read per item.
          levelsFirst = Math.max(1, Math.floor(levelsFirst / 2));
          continue;
        }
      }
      throw error;
    }
    sizer.learn(first, page.cost.requested);
    const connection = page.data.inventoryItems;
    for (const { node: item } of connection.edges) {
      writer.addItem(item.id, item.sku);
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
    if (!connection.pageInfo.hasNextPage) return progress;
    after = connection.pageInfo.endCursor;
  }
}

function writeLevels(writer: ShopifySnapshotWriter, itemId: string, sku: string | null, levels: Connection<LevelNode>): number {
  let written = 0;
  for (const { node } of levels.edges) {
    if (writer.addLevel(itemId, node.location.id, sku, toLevelQuantities(node.quantities, `level of ${itemId} at ${node.location.id}`))) written++;
  }
  return written;
}
