import { join } from 'node:path';
import { loadSeed, startEmulator, type RunningEmulator, type StartEmulatorOptions } from '../../../src/emulator/index.js';
import { repoRoot } from '../../helpers/cli.js';

export const demoSeedPath = join(repoRoot, 'fixtures', 'demo', 'shop.json');
export const ITEM_101 = 'gid://shopify/InventoryItem/101';
export const ITEM_102 = 'gid://shopify/InventoryItem/102';
export const ITEM_105 = 'gid://shopify/InventoryItem/105';
export const LOC_1 = 'gid://shopify/Location/1';
export const LOC_2 = 'gid://shopify/Location/2';
export const LOC_3 = 'gid://shopify/Location/3';

export function startDemo(options: Partial<StartEmulatorOptions> = {}): Promise<RunningEmulator> {
  return startEmulator({ seed: loadSeed(demoSeedPath), ...options });
}

export interface GqlAnswer {
  status: number;
  body: {
    data?: Record<string, any>;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] | string;
    extensions?: {
      cost: {
        requestedQueryCost: number;
        actualQueryCost: number | null;
        throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
      };
    };
  };
}

export async function gql(
  emulator: RunningEmulator,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = 'test-token',
): Promise<GqlAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['x-shopify-access-token'] = token;
  const response = await fetch(emulator.graphqlUrl(), { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as GqlAnswer['body'] };
}

export const SET_MUTATION = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id createdAt reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id sku } location { id name } } }
    userErrors { code field message }
  }
}`;

export const ADJUST_MUTATION = `mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange item { sku } location { id } } }
    userErrors { code field message }
  }
}`;

export interface SetRow {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity?: number | null;
}

export function setInput(rows: SetRow[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { reason: 'correction', name: 'available', referenceDocumentUri: 'gid://invrecon/Plan/1', quantities: rows, ...overrides };
}

let keyNumber = 0;
export function freshKey(): string {
  return `key-${process.pid}-${++keyNumber}`;
}
