import Database from 'better-sqlite3';
import type { LoadedConfig } from '../../config/load.js';
import { readBundles, type BundleMap } from '../../reconcile/bundles.js';
import { computeDiff, type DiffRow } from '../../reconcile/diff.js';
import { migrate, type Db } from '../../store/db.js';

/**
 * Recomputes the targets of a few SKUs with the reconcile code itself: the slice of the live state
 * they need (the SKUs, the bundles containing them, those bundles' components) is copied into a
 * scratch in-memory database with the store's schema, as a one-SKU-set ERP snapshot and Shopify
 * snapshot, and `computeDiff` runs over it. No rule is coded twice.
 */
export class Recomputer {
  private readonly scratch: Db;
  private readonly bundles: BundleMap;
  /** Component SKU -> bundles that use it directly. */
  private readonly usedBy = new Map<string, string[]>();

  constructor(
    private readonly store: Db,
    private readonly config: LoadedConfig,
  ) {
    this.scratch = new Database(':memory:');
    this.scratch.pragma('foreign_keys = ON');
    migrate(this.scratch);
    this.bundles = config.bundles.csv ? readBundles(config.bundles.csv) : new Map();
    for (const [bundle, components] of this.bundles) {
      for (const c of components) this.usedBy.set(c.sku, [...(this.usedBy.get(c.sku) ?? []), bundle]);
    }
  }

  close(): void {
    this.scratch.close();
  }

  /** The SKUs whose targets an event on `skus` can move: themselves and every bundle above them. */
  affected(skus: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const visit = (sku: string) => {
      if (out.has(sku)) return;
      out.add(sku);
      for (const bundle of this.usedBy.get(sku) ?? []) visit(bundle);
    };
    for (const sku of skus) visit(sku);
    return out;
  }

  /** The SKUs whose rows computing `affected` reads: those and, for bundles, their components all the way down. */
  private needed(affected: Set<string>): Set<string> {
    const out = new Set<string>();
    const visit = (sku: string) => {
      if (out.has(sku)) return;
      out.add(sku);
      for (const c of this.bundles.get(sku) ?? []) visit(c.sku);
    };
    for (const sku of affected) visit(sku);
    return out;
  }

  /** Diff rows (every status, ok included) of `affected`, computed over the live state. */
  compute(affected: Set<string>): DiffRow[] {
    const needed = JSON.stringify([...this.needed(affected)]);
    const s = this.scratch;
    const erpRows = this.store
      .prepare(`SELECT sku, warehouse, on_hand, reserved, incoming, safety_stock, category FROM watch_erp_levels WHERE sku IN (SELECT value FROM json_each(?))`)
      .all(needed) as Record<string, unknown>[];
    const items = this.store
      .prepare('SELECT inventory_item_id, sku, tracked FROM watch_shopify_items WHERE sku IN (SELECT value FROM json_each(?))')
      .all(needed) as { inventory_item_id: string; sku: string; tracked: number }[];
    const levels = this.store
      .prepare(
        `SELECT l.inventory_item_id, l.location_id, i.sku, l.available, l.on_hand, l.committed, l.reserved, l.incoming
         FROM watch_shopify_levels l JOIN watch_shopify_items i ON i.inventory_item_id = l.inventory_item_id
         WHERE i.sku IN (SELECT value FROM json_each(?))`,
      )
      .all(needed) as Record<string, unknown>[];
    const locations = this.store.prepare('SELECT location_id, name, is_active FROM watch_shopify_locations').all() as {
      location_id: string;
      name: string;
      is_active: number;
    }[];
    const bases = this.store
      .prepare('SELECT sku, location_id, erp_available, shopify_available, reconciled_at FROM reconciled_levels WHERE sku IN (SELECT value FROM json_each(?))')
      .all(needed) as Record<string, unknown>[];

    s.transaction(() => {
      s.exec('DELETE FROM snapshots; DELETE FROM reconciled_levels;');
      const at = new Date().toISOString();
      s.prepare("INSERT INTO snapshots (id, side, source, taken_at, row_count, content_hash) VALUES (1, 'erp', 'watch', ?, ?, '')").run(at, erpRows.length);
      s.prepare("INSERT INTO snapshots (id, side, source, taken_at, row_count, content_hash) VALUES (2, 'shopify', 'watch', ?, ?, '')").run(at, levels.length);
      const erp = s.prepare(
        `INSERT INTO erp_levels (snapshot_id, sku, warehouse, on_hand, reserved, incoming, safety_stock, category, line)
         VALUES (1, @sku, @warehouse, @on_hand, @reserved, @incoming, @safety_stock, @category, 0)`,
      );
      for (const row of erpRows) erp.run(row);
      const location = s.prepare('INSERT INTO shopify_locations (snapshot_id, location_id, name, is_active) VALUES (2, @location_id, @name, @is_active)');
      for (const row of locations) location.run(row);
      const item = s.prepare('INSERT INTO shopify_items (snapshot_id, inventory_item_id, sku, tracked) VALUES (2, @inventory_item_id, @sku, @tracked)');
      for (const row of items) item.run(row);
      const level = s.prepare(
        `INSERT INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, available, on_hand, committed, reserved, incoming)
         VALUES (2, @inventory_item_id, @location_id, @sku, @available, @on_hand, @committed, @reserved, @incoming)`,
      );
      for (const row of levels) level.run(row);
      const base = s.prepare(
        `INSERT INTO reconciled_levels (sku, location_id, erp_available, shopify_available, reconciled_at) VALUES (@sku, @location_id, @erp_available, @shopify_available, @reconciled_at)`,
      );
      for (const row of bases) base.run(row);
    })();
    const diff = computeDiff(s, this.config, { erpSnapshotId: 1, shopifySnapshotId: 2, all: true, hybridOk: true });
    return diff.rows.filter((row) => affected.has(row.sku));
  }
}
