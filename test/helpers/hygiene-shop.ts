// The hygiene shop: an untracked item (ENGRAVING, a service) and a deactivated location (Old Store), with the
// ERP export and config that map them. Shared by the e2e tests of diff/plan/apply, status/report and watch.
import type { Seed } from '../../src/emulator/index.js';

export const MAIN = 'gid://shopify/Location/1';
export const OLD = 'gid://shopify/Location/2';
export const DOWNTOWN = 'gid://shopify/Location/3';
export const TEE = 'gid://shopify/InventoryItem/101';
export const MUG = 'gid://shopify/InventoryItem/102';
export const ENGRAVING = 'gid://shopify/InventoryItem/103';
export const CAP = 'gid://shopify/InventoryItem/104';

export const hygieneSeed: Seed = {
  locations: [
    { id: MAIN, name: 'Main Warehouse' },
    { id: OLD, name: 'Old Store', isActive: false },
    { id: DOWNTOWN, name: 'Downtown' },
  ],
  items: [
    {
      sku: 'TEE-RED-M',
      inventoryItemId: TEE,
      levels: [
        { locationId: MAIN, available: 5 },
        { locationId: OLD, available: 4 },
        { locationId: DOWNTOWN, available: 3 },
      ],
    },
    {
      sku: 'MUG-WHT',
      inventoryItemId: MUG,
      levels: [
        { locationId: MAIN, available: 30 },
        { locationId: DOWNTOWN, available: 2 },
      ],
    },
    // A service: Shopify does not track its quantities, whatever the ERP says.
    {
      sku: 'ENGRAVING',
      inventoryItemId: ENGRAVING,
      tracked: false,
      levels: [
        { locationId: MAIN, available: 0 },
        { locationId: DOWNTOWN, available: 7 },
      ],
    },
    { sku: 'CAP-BLK', inventoryItemId: CAP, levels: [{ locationId: MAIN, available: 1 }] },
  ],
};

export const hygieneFiles = {
  'invrecon.config.json': JSON.stringify({
    shopify: { shop: 'hygiene-shop.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: [
      { warehouses: ['WH-A'], shopifyLocation: 'Main Warehouse' },
      { warehouses: ['WH-OLD'], shopifyLocation: 'Old Store' },
      { warehouses: ['STORE-1'], shopifyLocation: 'Downtown' },
    ],
    guards: { maxChanges: 100, maxZeroedShare: 0.5, maxRowDrop: 0.5 },
  }),
  'erp.csv': [
    'sku,warehouse,on_hand,reserved',
    'TEE-RED-M,WH-A,10,0',
    'TEE-RED-M,WH-OLD,9,0',
    'TEE-RED-M,STORE-1,3,0',
    'MUG-WHT,WH-A,24,0',
    'MUG-WHT,STORE-1,2,0',
    'ENGRAVING,WH-A,12,0',
    'ENGRAVING,STORE-1,0,0',
    'CAP-BLK,WH-A,0,0',
    '',
  ].join('\n'),
};

/** The same shop before the item was untracked and the location deactivated. */
export const hygieneSeedBefore: Seed = {
  locations: hygieneSeed.locations.map((l) => ({ ...l, isActive: true })),
  items: hygieneSeed.items.map((i) => ({ ...i, tracked: true })),
};
