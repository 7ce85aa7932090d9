// Builds a snapshot database directly in SQL (seconds for a million levels): an ERP snapshot and a
// Shopify snapshot of SKUS × LOCATIONS levels, one ERP warehouse WH-01… per location "Location 1"…,
// where one level in `driftEvery` is off by 1..5 (1: every level drifts).
import { resolveConfig, type LoadedConfig } from '../src/config/load.js';
import { openDb } from '../src/store/db.js';
import { writeFileSync } from 'node:fs';

/** Builds the database at dbPath and returns how long it took (ms). */
export function buildSnapshotDb(dbPath: string, skus: number, locations: number, driftEvery: number, options: { joinTables?: boolean } = {}): number {
  const started = performance.now();
  const db = openDb(dbPath);
  db.pragma('synchronous = OFF');
  const pad = (n: string) => `substr('0000000' || ${n}, -7)`;
  db.exec(`
  CREATE TEMP TABLE n_sku (n INTEGER PRIMARY KEY);
  WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${skus}) INSERT INTO n_sku SELECT n FROM c;
  CREATE TEMP TABLE n_loc (n INTEGER PRIMARY KEY);
  WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${locations}) INSERT INTO n_loc SELECT n FROM c;
  BEGIN;
  INSERT INTO snapshots (id, side, source, taken_at, row_count, content_hash) VALUES
    (1, 'erp', 'bench', '2026-01-01T00:00:00Z', ${skus * locations}, 'bench-erp'),
    (2, 'shopify', 'bench.myshopify.com', '2026-01-01T00:00:01Z', ${skus * locations}, 'bench-shopify');
  -- on_hand 3..52, reserved 0..2, no safety column: available = on_hand − reserved.
  INSERT INTO erp_levels (snapshot_id, sku, warehouse, on_hand, reserved, incoming, safety_stock, category, line)
    SELECT 1, 'SKU-' || ${pad('s.n')}, 'WH-' || substr('00' || l.n, -2), 3 + (s.n * 7 + l.n * 13) % 50, (s.n + l.n) % 3, 0, NULL, 'cat-' || (s.n % 20), 0
    FROM n_sku s, n_loc l ORDER BY s.n, l.n;
  INSERT INTO shopify_locations (snapshot_id, location_id, name) SELECT 2, 'gid://shopify/Location/' || n, 'Location ' || n FROM n_loc;
  INSERT INTO shopify_items (snapshot_id, inventory_item_id, sku) SELECT 2, 'gid://shopify/InventoryItem/' || ${pad('n')}, 'SKU-' || ${pad('n')} FROM n_sku;
  -- One (sku, location) pair in ${driftEvery} is off by 1..5.
  INSERT INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, available, on_hand, committed, reserved, incoming)
    SELECT 2, 'gid://shopify/InventoryItem/' || ${pad('s.n')}, 'gid://shopify/Location/' || l.n, 'SKU-' || ${pad('s.n')},
      3 + (s.n * 7 + l.n * 13) % 50 - (s.n + l.n) % 3 + CASE WHEN (s.n * ${locations} + l.n) % ${driftEvery} = 0 THEN 1 + s.n % 5 ELSE 0 END,
      3 + (s.n * 7 + l.n * 13) % 50, 0, 0, 0
    FROM n_sku s, n_loc l ORDER BY s.n, l.n;
  COMMIT;
`);
  if (options.joinTables) {
    // The same levels keyed by (sku, location) for a bare join in the sqlite3 CLI.
    db.exec(`
  BEGIN;
  CREATE TABLE bench_erp (sku TEXT NOT NULL, location_id TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
  INSERT INTO bench_erp SELECT e.sku, 'gid://shopify/Location/' || CAST(substr(e.warehouse, 4) AS INTEGER), e.on_hand, e.reserved FROM erp_levels e ORDER BY 1, 2;
  CREATE TABLE bench_shop (sku TEXT NOT NULL, location_id TEXT NOT NULL, available INTEGER NOT NULL, PRIMARY KEY (sku, location_id)) WITHOUT ROWID;
  INSERT INTO bench_shop SELECT sku, location_id, available FROM shopify_levels ORDER BY 1, 2;
  COMMIT;`);
  }
  db.exec('ANALYZE');
  db.close();
  return performance.now() - started;
}

/** Writes the config that maps WH-01… to Location 1… beside the database's folder, and returns it loaded. */
export function writeSnapshotDbConfig(configPath: string, locations: number, guards?: Record<string, number>): LoadedConfig {
  const rawConfig = {
    shopify: { shop: 'bench.myshopify.com' },
    erp: { csv: { path: 'erp.csv' } },
    locations: Array.from({ length: locations }, (_, i) => ({ warehouses: [`WH-${String(i + 1).padStart(2, '0')}`], shopifyLocation: `Location ${i + 1}` })),
    ...(guards ? { guards } : {}),
  };
  writeFileSync(configPath, JSON.stringify(rawConfig, null, 2));
  return resolveConfig(rawConfig, configPath);
}
