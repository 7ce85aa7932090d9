import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type LoadedConfig } from '../../../src/config/load.js';
import { computeDiff, type DiffOptions, type DiffResult, type DiffRow } from '../../../src/reconcile/diff.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { shopifyContentHash, ShopifySnapshotWriter } from '../../../src/store/shopify-snapshots.js';
import { ErpRowsHash, ErpSnapshotWriter } from '../../../src/store/erp-snapshots.js';
import type { SnapshotInfo } from '../../../src/store/snapshots.js';
import { tempDir } from '../../helpers/cli.js';

// Builds snapshots straight into a temporary database, so each rule is tested on a handful of rows
// written out in the test itself.

export const LOC = (n: number) => `gid://shopify/Location/${n}`;
export const ITEM = (n: number) => `gid://shopify/InventoryItem/${n}`;

export interface ErpLine {
  sku: string;
  wh: string;
  onHand: number;
  reserved?: number;
  safety?: number | null;
  category?: string | null;
}

export interface ShopLevel {
  sku: string | null;
  item: string;
  location: string;
  available: number;
  committed?: number;
}

export interface Workspace {
  dir: string;
  db: Db;
  /** A config as a user writes it (the loader fills the defaults); `bundles` writes bundles.csv. */
  config(raw: Record<string, unknown>, bundles?: string): LoadedConfig;
  erp(lines: ErpLine[]): SnapshotInfo;
  /** `isActive: false` a deactivated location; `untracked`: ids of items whose quantities Shopify does not track. */
  shopify(shop: {
    locations: { id: string; name: string; isActive?: boolean }[];
    items?: { id: string; sku: string | null }[];
    untracked?: string[];
    levels: ShopLevel[];
  }): SnapshotInfo;
  /** A reconciled base for hybrid authority. */
  base(sku: string, locationId: string, erpAvailable: number, shopifyAvailable: number): void;
  diff(config: LoadedConfig, options?: DiffOptions): DiffResult;
  close(): void;
}

export function workspace(): Workspace {
  const temp = tempDir('invrecon-reconcile-');
  const db = openDb(join(temp.dir, 'snapshot.db'));
  return {
    dir: temp.dir,
    db,
    config(raw, bundles) {
      const full: Record<string, unknown> = { shopify: { shop: 'test-shop.myshopify.com' }, erp: { csv: { path: 'erp.csv' } }, ...raw };
      if (bundles !== undefined) {
        writeFileSync(join(temp.dir, 'bundles.csv'), bundles);
        full.bundles = { csv: 'bundles.csv' };
      }
      return resolveConfig(full, join(temp.dir, 'invrecon.config.json'));
    },
    erp(lines) {
      const writer = new ErpSnapshotWriter(db, 'test');
      const rows = lines.map((l) => ({
        sku: l.sku,
        warehouse: l.wh,
        onHand: l.onHand,
        reserved: l.reserved ?? 0,
        incoming: 0,
        safetyStock: l.safety ?? null,
        category: l.category ?? null,
      }));
      const duplicates = writer.addBatch(
        rows,
        lines.map((_, i) => i + 2),
      );
      if (duplicates.length) throw new Error(`duplicate ERP test rows: ${JSON.stringify(duplicates)}`);
      const hash = new ErpRowsHash();
      hash.update(rows);
      return writer.finish(hash.digest(), {});
    },
    shopify(shop) {
      const writer = new ShopifySnapshotWriter(db, 'test-shop.myshopify.com');
      for (const location of shop.locations) writer.addLocation(location.id, location.name, location.isActive);
      const items = shop.items ?? [...new Map(shop.levels.map((l) => [l.item, { id: l.item, sku: l.sku }])).values()];
      for (const item of items) writer.addItem(item.id, item.sku, !shop.untracked?.includes(item.id));
      for (const l of shop.levels)
        writer.addLevel(l.item, l.location, l.sku, {
          available: l.available,
          on_hand: l.available + (l.committed ?? 0),
          committed: l.committed ?? 0,
          reserved: 0,
          incoming: 0,
        });
      return writer.tx.finish(shop.levels.length, shopifyContentHash(db, writer.id), {});
    },
    base(sku, locationId, erpAvailable, shopifyAvailable) {
      db.prepare(
        `INSERT OR REPLACE INTO reconciled_levels (sku, location_id, erp_available, shopify_available, reconciled_at) VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z')`,
      ).run(sku, locationId, erpAvailable, shopifyAvailable);
    },
    diff(config, options = {}) {
      return computeDiff(db, config, options);
    },
    close() {
      db.close();
      temp.cleanup();
    },
  };
}

/** The row for (sku, location id), or a failure naming what was there. */
export function rowOf(result: DiffResult, sku: string, locationId: string): DiffRow {
  const row = result.rows.find((r) => r.sku === sku && r.locationId === locationId);
  if (!row) throw new Error(`no diff row for ${sku} @ ${locationId}; rows: ${result.rows.map((r) => `${r.sku}@${r.locationId}`).join(', ')}`);
  return row;
}

/** The rows as compact tuples [sku, location, target, observed, status], in output order. */
export function brief(result: DiffResult): [string, string, number | null, number | null, string][] {
  return result.rows.map((r) => [r.sku, r.locationName, r.target, r.observed, r.status]);
}

/** Two locations, one warehouse each, the most common test layout. */
export const TWO_LOCATIONS = [
  { id: LOC(1), name: 'Main' },
  { id: LOC(2), name: 'Store' },
];
export const TWO_MAPPINGS = [
  { warehouses: ['WH-A'], shopifyLocation: 'Main' },
  { warehouses: ['WH-S'], shopifyLocation: 'Store' },
];

/** Main, and Old Store deactivated in Shopify; one warehouse each. */
export const LEFT_OUT_LOCATIONS = [
  { id: LOC(1), name: 'Main' },
  { id: LOC(2), name: 'Old Store', isActive: false },
];
export const LEFT_OUT_MAPPINGS = [
  { warehouses: ['WH-A'], shopifyLocation: 'Main' },
  { warehouses: ['WH-OLD'], shopifyLocation: 'Old Store' },
];

/** The left-out cases in one shop: a tracked TEE and an untracked SVC, each stocked at Main and at the deactivated Old Store. */
export function leftOutShop(ws: Workspace): LoadedConfig {
  const config = ws.config({ locations: LEFT_OUT_MAPPINGS });
  ws.erp([
    { sku: 'TEE', wh: 'WH-A', onHand: 10 },
    { sku: 'TEE', wh: 'WH-OLD', onHand: 9 },
    { sku: 'SVC', wh: 'WH-A', onHand: 12 },
    { sku: 'SVC', wh: 'WH-OLD', onHand: 1 },
  ]);
  ws.shopify({
    locations: LEFT_OUT_LOCATIONS,
    untracked: [ITEM(2)],
    levels: [
      { sku: 'TEE', item: ITEM(1), location: LOC(1), available: 5 },
      { sku: 'TEE', item: ITEM(1), location: LOC(2), available: 4 },
      { sku: 'SVC', item: ITEM(2), location: LOC(1), available: 0 },
      { sku: 'SVC', item: ITEM(2), location: LOC(2), available: 3 },
    ],
  });
  return config;
}

/**
 * A closed store as Shopify usually has it: Old Store deactivated with no levels left. The ERP still lists
 * TEE there (9) and MUG (0); untracked SVC (12) and GIFT (0) have no level at Main.
 */
export function closedStoreShop(ws: Workspace, bundles?: string): LoadedConfig {
  const config = ws.config({ locations: LEFT_OUT_MAPPINGS }, bundles);
  ws.erp([
    { sku: 'TEE', wh: 'WH-A', onHand: 10 },
    { sku: 'TEE', wh: 'WH-OLD', onHand: 9 },
    { sku: 'MUG', wh: 'WH-A', onHand: 2 },
    { sku: 'MUG', wh: 'WH-OLD', onHand: 0 },
    { sku: 'SVC', wh: 'WH-A', onHand: 12 },
    { sku: 'GIFT', wh: 'WH-A', onHand: 0 },
  ]);
  ws.shopify({
    locations: LEFT_OUT_LOCATIONS,
    items: [
      { id: ITEM(1), sku: 'TEE' },
      { id: ITEM(2), sku: 'MUG' },
      { id: ITEM(3), sku: 'SVC' },
      { id: ITEM(4), sku: 'GIFT' },
      ...(bundles ? [{ id: ITEM(5), sku: 'KIT' }] : []),
    ],
    untracked: [ITEM(3), ITEM(4)],
    levels: [
      { sku: 'TEE', item: ITEM(1), location: LOC(1), available: 5 },
      { sku: 'MUG', item: ITEM(2), location: LOC(1), available: 2 },
      ...(bundles ? [{ sku: 'KIT', item: ITEM(5), location: LOC(1), available: 1 }] : []),
    ],
  });
  return config;
}
