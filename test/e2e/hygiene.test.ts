// Real-store hygiene, end to end: untracked items and inactive locations are read by both pull modes,
// kept in the snapshot, left out of diff, plan and apply, and reported with counts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Seed } from '../../src/emulator/index.js';
import { openShopWorkspace, type ShopWorkspace } from '../helpers/shop.js';

const MAIN = 'gid://shopify/Location/1';
const OLD = 'gid://shopify/Location/2';
const DOWNTOWN = 'gid://shopify/Location/3';
const TEE = 'gid://shopify/InventoryItem/101';
const MUG = 'gid://shopify/InventoryItem/102';
const ENGRAVING = 'gid://shopify/InventoryItem/103';
const CAP = 'gid://shopify/InventoryItem/104';

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

function stdoutJson(result: { code: number | null; stdout: string; stderr: string }) {
  try {
    return JSON.parse(result.stdout);
  } catch {
    assert.fail(`expected JSON on stdout (exit ${result.code}); stderr: ${result.stderr}`);
  }
}

function snapshotDb(dir: string) {
  return new Database(join(dir, '.invrecon', 'snapshot.db'), { readonly: true });
}

describe('pull shopify reads tracked and isActive (both modes)', () => {
  let shop: ShopWorkspace;
  before(async () => {
    shop = await openShopWorkspace({ seed: hygieneSeed, files: hygieneFiles });
  });
  after(() => shop.close());

  for (const mode of ['--paged', '--bulk']) {
    it(`${mode}: keeps the inactive location and the untracked item in the snapshot, flagged, and counts them`, async () => {
      const result = await shop.cli(['pull', 'shopify', mode, '--format', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const json = stdoutJson(result);
      assert.equal(json.locations, 3);
      assert.equal(json.rows, 8);
      assert.deepEqual(json.untrackedItems, { count: 1, skus: ['ENGRAVING'] });
      assert.deepEqual(json.inactiveLocations, { count: 1, names: ['Old Store'] });
      assert.ok(!json.warnings.some((w: string) => w.includes('did not list')), json.warnings.join('\n'));
      const db = snapshotDb(shop.dir);
      try {
        const id = json.snapshotId;
        assert.deepEqual(db.prepare('SELECT location_id, is_active FROM shopify_locations WHERE snapshot_id = ? ORDER BY 1').raw().all(id), [
          [MAIN, 1],
          [OLD, 0],
          [DOWNTOWN, 1],
        ]);
        assert.deepEqual(db.prepare('SELECT inventory_item_id FROM shopify_items WHERE snapshot_id = ? AND tracked = 0').pluck().all(id), [ENGRAVING]);
      } finally {
        db.close();
      }
    });
  }

  it('the table says what is left out of plans', async () => {
    const result = await shop.cli(['pull', 'shopify', '--paged']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Kept in the snapshot, left out of plans: 1 untracked item, 1 inactive location/);
  });

  it('both modes hash the same shop alike', async () => {
    const paged = stdoutJson(await shop.cli(['pull', 'shopify', '--paged', '--format', 'json']));
    const bulk = stdoutJson(await shop.cli(['pull', 'shopify', '--bulk', '--format', 'json']));
    assert.equal(paged.contentHash, bulk.contentHash);
  });
});
