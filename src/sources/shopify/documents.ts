// Every GraphQL document invrecon sends to Shopify. Each is validated against the published Admin
// schema by test/unit/graphql/documents.test.ts, which walks `allDocuments`: add new ones there.

/** Quantity names a snapshot keeps (InventoryLevel.quantities). */
export const SNAPSHOT_QUANTITY_NAMES = ['available', 'on_hand', 'committed', 'reserved', 'incoming'] as const;
export type SnapshotQuantityName = (typeof SNAPSHOT_QUANTITY_NAMES)[number];

/**
 * Shop locations with whether each is active, one page. Inactive ones too: a mapped location that was
 * deactivated must be named as such, not reported as missing, and its levels left out of plans.
 */
export const LOCATIONS_PAGE = /* GraphQL */ `
query LocationsPage($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name isActive } }
  }
}`;

/** The same page, as doctor names it. */
export const LOCATIONS_STATUS_PAGE = LOCATIONS_PAGE;

/**
 * How many inventory items, cheaply, to choose paged or bulk: every variant has exactly one
 * inventory item. Needs read_products; without it the pull counts with INVENTORY_ITEM_IDS_PAGE.
 */
export const PRODUCT_VARIANTS_COUNT = /* GraphQL */ `
query ProductVariantsCount($limit: Int) {
  productVariantsCount(limit: $limit) { count precision }
}`;

/** Inventory item ids only, one page: the fallback count (one point per item). */
export const INVENTORY_ITEM_IDS_PAGE = /* GraphQL */ `
query InventoryItemIdsPage($first: Int!, $after: String) {
  inventoryItems(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id } }
  }
}`;

/**
 * Inventory items with their SKU, whether Shopify tracks their quantities, and levels, one page
 * (`$levelsFirst` levels per item).
 */
export const INVENTORY_ITEMS_PAGE = /* GraphQL */ `
query InventoryItemsPage($first: Int!, $after: String, $levelsFirst: Int!, $names: [String!]!) {
  inventoryItems(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        sku
        tracked
        inventoryLevels(first: $levelsFirst) {
          pageInfo { hasNextPage endCursor }
          edges { node { location { id } quantities(names: $names) { name quantity } } }
        }
      }
    }
  }
}`;

/** The rest of one item's levels, when it has more than the page asked for. */
export const INVENTORY_ITEM_LEVELS_PAGE = /* GraphQL */ `
query InventoryItemLevelsPage($id: ID!, $first: Int!, $after: String, $names: [String!]!) {
  inventoryItem(id: $id) {
    id
    inventoryLevels(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { location { id } quantities(names: $names) { name quantity } } }
    }
  }
}`;

/**
 * Re-reads the levels of given inventory items (for example before re-planning a stale change).
 * Pass `names: ["available"]` or more; an id that is not an inventory item comes back as null.
 */
export const INVENTORY_LEVELS_BY_ITEM_IDS = /* GraphQL */ `
query InventoryLevelsByItemIds($ids: [ID!]!, $levelsFirst: Int!, $names: [String!]!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      sku
      tracked
      inventoryLevels(first: $levelsFirst) {
        pageInfo { hasNextPage endCursor }
        edges { node { location { id isActive } quantities(names: $names) { name quantity } } }
      }
    }
  }
}`;

/** The query a bulk operation runs: every inventory item (tracked or not) and its levels, as JSONL. */
export const BULK_INVENTORY_QUERY = /* GraphQL */ `
{
  inventoryItems {
    edges {
      node {
        id
        sku
        tracked
        inventoryLevels {
          edges {
            node {
              id
              location { id }
              quantities(names: ["available", "on_hand", "committed", "reserved", "incoming"]) { name quantity }
            }
          }
        }
      }
    }
  }
}`;

export const BULK_OPERATION_RUN_QUERY = /* GraphQL */ `
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}`;

export const BULK_OPERATION_STATUS = /* GraphQL */ `
query BulkOperationStatus($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    objectCount
    rootObjectCount
    fileSize
    url
    partialDataUrl
  }
}`;

/** The running bulk query, to adopt one started by an earlier attempt whose answer was lost. */
export const CURRENT_BULK_OPERATION = /* GraphQL */ `
query CurrentBulkOperation {
  currentBulkOperation(type: QUERY) { id status query }
}`;

// What both inventory mutations answer: the changes Shopify made to `available` (those rows are applied), and
// errors. Unfiltered, the group lists on_hand too, which doubles every 250-row answer and tells the tool nothing.
const ADJUSTMENT_RESULT = `
    inventoryAdjustmentGroup {
      id
      createdAt
      changes(quantityNames: ["available"]) { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }`;

/**
 * Sets `available` with compare-and-swap: each quantity carries changeFromQuantity (the value the
 * plan observed; explicit null opts out). The same key replays the first result, never applies twice.
 * Variables: { idempotencyKey, referenceDocumentUri, quantities: [{ inventoryItemId, locationId, quantity, changeFromQuantity }] }
 */
export const INVENTORY_SET_QUANTITIES = /* GraphQL */ `
mutation InventorySetQuantities($idempotencyKey: String!, $referenceDocumentUri: String, $quantities: [InventoryQuantityInput!]!) {
  inventorySetQuantities(
    input: { name: "available", reason: "correction", referenceDocumentUri: $referenceDocumentUri, quantities: $quantities }
  ) @idempotent(key: $idempotencyKey) {${ADJUSTMENT_RESULT}
  }
}`;

/**
 * Adjusts `available` by deltas (hybrid merges). Variables: { idempotencyKey, referenceDocumentUri,
 * changes: [{ inventoryItemId, locationId, delta, changeFromQuantity }] }
 */
export const INVENTORY_ADJUST_QUANTITIES = /* GraphQL */ `
mutation InventoryAdjustQuantities($idempotencyKey: String!, $referenceDocumentUri: String, $changes: [InventoryChangeInput!]!) {
  inventoryAdjustQuantities(
    input: { name: "available", reason: "correction", referenceDocumentUri: $referenceDocumentUri, changes: $changes }
  ) @idempotent(key: $idempotencyKey) {${ADJUSTMENT_RESULT}
  }
}`;

/**
 * Re-reads `available` of given items at one location: apply uses it after a compare-and-swap miss.
 * An item not stocked there has inventoryLevel null.
 */
export const AVAILABLE_AT_LOCATION = /* GraphQL */ `
query AvailableAtLocation($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}`;

export interface AvailableAtLocationData {
  nodes: ({ id: string; inventoryLevel: { quantities: QuantityNode[] } | null } | null)[];
}

/** The app's granted access scopes (doctor). */
export const ACCESS_SCOPES = /* GraphQL */ `
query AccessScopes {
  currentAppInstallation { accessScopes { handle } }
}`;

export interface AccessScopesData {
  currentAppInstallation: { accessScopes: { handle: string }[] };
}

/**
 * The record of applied plans that installs of invrecon sharing one shop keep in a shop metafield of the
 * app's namespace (see plan/apply/installs.ts). Variables: { namespace, key }.
 */
export const SHOP_APPLIES_RECORD = /* GraphQL */ `
query ShopAppliesRecord($namespace: String!, $key: String!) {
  shop {
    id
    metafield(namespace: $namespace, key: $key) { value compareDigest }
  }
}`;

/** Writes that record with compare-and-swap (compareDigest: the digest read, or null when there was none). */
export const SET_SHOP_APPLIES_RECORD = /* GraphQL */ `
mutation SetShopAppliesRecord($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { compareDigest updatedAt }
    userErrors { code field message }
  }
}`;

export interface ShopAppliesRecordData {
  shop: { id: string; metafield: { value: string; compareDigest: string } | null };
}
export interface SetShopAppliesRecordData {
  metafieldsSet: { metafields: { compareDigest: string; updatedAt?: string }[] | null; userErrors: UserError[] } | null;
}

/** Every document above, by export name: the schema test validates each one. */
export const allDocuments: Readonly<Record<string, string>> = {
  LOCATIONS_PAGE,
  PRODUCT_VARIANTS_COUNT,
  INVENTORY_ITEM_IDS_PAGE,
  INVENTORY_ITEMS_PAGE,
  INVENTORY_ITEM_LEVELS_PAGE,
  INVENTORY_LEVELS_BY_ITEM_IDS,
  BULK_INVENTORY_QUERY,
  BULK_OPERATION_RUN_QUERY,
  BULK_OPERATION_STATUS,
  CURRENT_BULK_OPERATION,
  INVENTORY_SET_QUANTITIES,
  AVAILABLE_AT_LOCATION,
  INVENTORY_ADJUST_QUANTITIES,
  ACCESS_SCOPES,
  SHOP_APPLIES_RECORD,
  SET_SHOP_APPLIES_RECORD,
};

// Shapes of the answers, for the code that reads them.
export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface Connection<N> {
  pageInfo: PageInfo;
  edges: { node: N }[];
}
export interface QuantityNode {
  name: string;
  quantity: number;
}
export interface LevelNode {
  location: { id: string };
  quantities: QuantityNode[];
}
export interface ItemNode {
  id: string;
  sku: string | null;
  /** Absent from answers to older documents: tracked. */
  tracked?: boolean;
  inventoryLevels: Connection<LevelNode>;
}
export interface LocationsPageData {
  locations: Connection<{ id: string; name: string; isActive?: boolean }>;
}
export interface ProductVariantsCountData {
  productVariantsCount: { count: number; precision: 'EXACT' | 'AT_LEAST' } | null;
}
export interface InventoryItemIdsPageData {
  inventoryItems: Connection<{ id: string }>;
}
export interface InventoryItemsPageData {
  inventoryItems: Connection<ItemNode>;
}
export interface InventoryItemLevelsPageData {
  inventoryItem: { id: string; inventoryLevels: Connection<LevelNode> } | null;
}
export interface InventoryLevelsByItemIdsData {
  nodes: (Partial<ItemNode> | null)[];
}
export interface UserError {
  code?: string | null;
  field?: string[] | null;
  message: string;
}
export type BulkOperationStatusName = 'CANCELED' | 'CANCELING' | 'COMPLETED' | 'CREATED' | 'EXPIRED' | 'FAILED' | 'RUNNING';
export interface BulkOperationRunQueryData {
  bulkOperationRunQuery: { bulkOperation: { id: string; status: BulkOperationStatusName } | null; userErrors: UserError[] } | null;
}
export interface BulkOperationStatusData {
  bulkOperation: {
    id: string;
    status: BulkOperationStatusName;
    errorCode: string | null;
    objectCount: string | number;
    rootObjectCount: string | number;
    fileSize: string | number | null;
    url: string | null;
    partialDataUrl: string | null;
  } | null;
}
export interface CurrentBulkOperationData {
  currentBulkOperation: { id: string; status: BulkOperationStatusName; query: string } | null;
}
export interface InventoryChangeNode {
  name: string;
  delta: number;
  quantityAfterChange: number | null;
  item: { id: string } | null;
  location: { id: string } | null;
}
export interface InventorySetQuantitiesData {
  inventorySetQuantities: {
    inventoryAdjustmentGroup: { id: string; createdAt?: string; changes: InventoryChangeNode[] } | null;
    userErrors: UserError[];
  } | null;
}
export interface InventoryAdjustQuantitiesData {
  inventoryAdjustQuantities: {
    inventoryAdjustmentGroup: { id: string; createdAt?: string; changes: InventoryChangeNode[] } | null;
    userErrors: UserError[];
  } | null;
}
