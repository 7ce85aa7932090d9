// The per-run temporary tables that carry the config's rules (locations, warehouses, SKU rules) into SQL.
import type { LoadedConfig } from '../config/load.js';
import { InputError } from '../errors.js';
import type { Db } from '../store/db.js';
import { type BundleMap } from './bundles.js';
import { type ResolvedLocation } from './locations.js';

/** Creates the per-run temporary tables that carry the config's rules into SQL. */
export function stageRules(db: Db, config: LoadedConfig, locations: ResolvedLocation[], erpId: number, shopifyId: number, bundles: BundleMap): void {
  const collate = skuCollation(config);
  if (collate === 'NOCASE') refuseCaseTwins(db, erpId);
  db.exec(`
    DROP TABLE IF EXISTS temp.t_loc; DROP TABLE IF EXISTS temp.t_wh; DROP TABLE IF EXISTS temp.t_erp_sku;
    DROP TABLE IF EXISTS temp.t_erp; DROP TABLE IF EXISTS temp.t_shop_sku; DROP TABLE IF EXISTS temp.t_bundle; DROP TABLE IF EXISTS temp.t_component; DROP TABLE IF EXISTS temp.t_diff;
    CREATE TEMP TABLE t_loc (location_id TEXT PRIMARY KEY, name TEXT NOT NULL, authority TEXT, safety INTEGER, active INTEGER NOT NULL) WITHOUT ROWID;
    -- A warehouse row carries its location's rules too, so the per-level join looks up one table, not two.
    CREATE TEMP TABLE t_wh (warehouse TEXT PRIMARY KEY, location_id TEXT NOT NULL, pooled INTEGER NOT NULL,
      authority TEXT, safety INTEGER, ord INTEGER NOT NULL, active INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX temp.t_wh_location ON t_wh (location_id, warehouse);
    CREATE TEMP TABLE t_bundle (sku TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE t_component (sku TEXT PRIMARY KEY) WITHOUT ROWID;
    -- One row per ERP SKU with its rules resolved once, and its Shopify item (n_items NULL: not in Shopify; tracked: its quantities counted).
    CREATE TEMP TABLE t_erp_sku (sku TEXT COLLATE ${collate} PRIMARY KEY, category TEXT, sku_safety INTEGER, category_safety INTEGER, authority TEXT,
      item_id TEXT, n_items INTEGER, tracked INTEGER) WITHOUT ROWID;
    CREATE TEMP TABLE t_erp (sku TEXT NOT NULL, location_id TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, safety INTEGER,
      PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
    CREATE TEMP TABLE t_shop_sku (sku TEXT COLLATE ${collate} PRIMARY KEY, item_id TEXT NOT NULL, n_items INTEGER NOT NULL, tracked INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE t_diff (sku TEXT NOT NULL, location_id TEXT NOT NULL, kind TEXT NOT NULL, inventory_item_id TEXT,
      on_hand INTEGER, reserved INTEGER, safety INTEGER, safety_source TEXT, committed INTEGER, erp_available INTEGER, clamped INTEGER,
      observed INTEGER, authority TEXT, authority_source TEXT, base_erp INTEGER, base_shopify INTEGER, orders INTEGER, category TEXT, status TEXT NOT NULL,
      target INTEGER, limited_by TEXT);
  `);
  const insertLoc = db.prepare('INSERT INTO t_loc VALUES (?, ?, ?, ?, ?)');
  const insertWh = db.prepare('INSERT INTO t_wh VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const location of locations) {
    const byLocation = config.safetyStock.byLocation;
    const safety = Object.hasOwn(byLocation, location.locationName) ? byLocation[location.locationName]! : null;
    const active = location.isActive ? 1 : 0;
    insertLoc.run(location.locationId, location.locationName, location.authority ?? null, safety, active);
    location.warehouses.forEach((warehouse, ord) =>
      insertWh.run(warehouse, location.locationId, location.warehouses.length > 1 ? 1 : 0, location.authority ?? null, safety, ord, active),
    );
  }
  const insertBundle = db.prepare('INSERT INTO t_bundle VALUES (?)');
  for (const sku of bundles.keys()) insertBundle.run(sku);
  // Bundle components keep their rows, ok or not: the bundles are computed from them.
  const insertComponent = db.prepare('INSERT OR IGNORE INTO t_component VALUES (?)');
  for (const components of bundles.values()) for (const c of components) insertComponent.run(c.sku);

  // One row per ERP SKU, with the SKU-level inputs of the rules looked up once: its bySku and byCategory
  // safety stock, and its category's authority.
  db.prepare(`INSERT INTO t_erp_sku (sku, category) SELECT sku, MAX(category) FROM erp_levels WHERE snapshot_id = ? GROUP BY sku`).run(erpId);
  const setSkuSafety = db.prepare('UPDATE t_erp_sku SET sku_safety = ? WHERE sku = ?');
  for (const [sku, quantity] of Object.entries(config.safetyStock.bySku)) setSkuSafety.run(quantity, sku);
  const setCategorySafety = db.prepare('UPDATE t_erp_sku SET category_safety = ? WHERE category = ?');
  for (const [category, quantity] of Object.entries(config.safetyStock.byCategory)) setCategorySafety.run(quantity, category);
  const setAuthority = db.prepare('UPDATE t_erp_sku SET authority = ? WHERE category = ?');
  for (const [category, authority] of Object.entries(config.authority.byCategory)) setAuthority.run(authority, category);

  // The pool: warehouses mapped to one location add up. safety stays NULL where no pooled row has one.
  // Only locations with several warehouses need the GROUP BY (a sort); single-warehouse locations are
  // read straight from erp_levels by the join.
  db.prepare(
    `INSERT INTO t_erp (sku, location_id, on_hand, reserved, safety)
     SELECT e.sku, w.location_id, SUM(e.on_hand), SUM(e.reserved), SUM(e.safety_stock)
     FROM erp_levels e JOIN t_wh w ON w.warehouse = e.warehouse AND w.pooled = 1
     WHERE e.snapshot_id = ? GROUP BY e.sku, w.location_id`,
  ).run(erpId);
  db.prepare(
    `INSERT INTO t_shop_sku (sku, item_id, n_items, tracked)
     SELECT MIN(sku), MIN(inventory_item_id), COUNT(*), MIN(tracked) FROM shopify_items WHERE snapshot_id = ? AND sku IS NOT NULL AND sku <> '' GROUP BY sku COLLATE ${collate}`,
  ).run(shopifyId);
  db.exec('UPDATE t_erp_sku SET (item_id, n_items, tracked) = (SELECT s.item_id, s.n_items, s.tracked FROM t_shop_sku s WHERE s.sku = t_erp_sku.sku)');
}

/** skuMatch: SQLite's NOCASE folds ASCII letters, which is what SKU codes are made of. */
export function skuCollation(config: LoadedConfig): 'BINARY' | 'NOCASE' {
  return config.skuMatch === 'case-insensitive' ? 'NOCASE' : 'BINARY';
}

/** Two ERP SKUs that differ only by case cannot be matched without case: say so rather than merge them. */
function refuseCaseTwins(db: Db, erpId: number): void {
  const twins = db
    .prepare(
      `SELECT GROUP_CONCAT(sku, ', ') FROM (SELECT DISTINCT sku FROM erp_levels WHERE snapshot_id = ?) GROUP BY sku COLLATE NOCASE HAVING COUNT(*) > 1 LIMIT 5`,
    )
    .pluck()
    .all(erpId) as string[];
  if (twins.length > 0) {
    throw new InputError(
      `skuMatch "case-insensitive": the ERP export has SKUs that differ only by case (${twins.join('; ')}); they cannot be told apart: fix the export or use skuMatch "exact"`,
    );
  }
}
