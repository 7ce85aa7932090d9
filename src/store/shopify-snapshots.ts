import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { SourceError } from '../errors.js';
import type { Db } from './db.js';
import { SnapshotTransaction, hashRows, type SnapshotInfo } from './snapshots.js';

/** The quantities a Shopify snapshot keeps per inventory item × location. */
export interface LevelQuantities {
  available: number;
  on_hand: number;
  committed: number;
  reserved: number;
  incoming: number;
}

export const SHOPIFY_LOCATIONS_IN_KEY_ORDER = 'SELECT location_id, name FROM shopify_locations WHERE snapshot_id = ? ORDER BY location_id';
export const SHOPIFY_ITEMS_IN_KEY_ORDER = 'SELECT inventory_item_id, sku FROM shopify_items WHERE snapshot_id = ? ORDER BY inventory_item_id';
export const SHOPIFY_LEVELS_IN_KEY_ORDER =
  'SELECT inventory_item_id, location_id, sku, available, on_hand, committed, reserved, incoming FROM shopify_levels WHERE snapshot_id = ? ORDER BY inventory_item_id, location_id';

/**
 * The same digest as hashRows(db, SHOPIFY_LEVELS_IN_KEY_ORDER, id), read in key-ordered pages:
 * a million rows go several times faster through all() than through iterate().
 */
export function hashLevels(db: Db, snapshotId: number, pageSize = 20_000): string {
  const columns = 'inventory_item_id, location_id, sku, available, on_hand, committed, reserved, incoming';
  const firstPage = db.prepare(`SELECT ${columns} FROM shopify_levels WHERE snapshot_id = ? ORDER BY inventory_item_id, location_id LIMIT ?`).raw();
  const nextPage = db
    .prepare(
      `SELECT ${columns} FROM shopify_levels WHERE snapshot_id = ? AND (inventory_item_id, location_id) > (?, ?) ORDER BY inventory_item_id, location_id LIMIT ?`,
    )
    .raw();
  const hash = createHash('sha256');
  let rows = firstPage.all(snapshotId, pageSize) as unknown[][];
  while (rows.length > 0) {
    let text = '';
    for (const row of rows) text += JSON.stringify(row) + '\n';
    hash.update(text);
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    rows = nextPage.all(snapshotId, last[0], last[1], pageSize) as unknown[][];
  }
  return hash.digest('hex');
}

const INACTIVE_LOCATIONS_IN_KEY_ORDER = 'SELECT location_id FROM shopify_locations WHERE snapshot_id = ? AND is_active = 0 ORDER BY location_id';
const UNTRACKED_ITEMS_IN_KEY_ORDER = 'SELECT inventory_item_id FROM shopify_items WHERE snapshot_id = ? AND tracked = 0 ORDER BY inventory_item_id';

/**
 * Content hash of a Shopify snapshot: its locations, items and levels, each in key order, then its
 * inactive locations and untracked items when it has any (so a snapshot with none hashes as before
 * those were read).
 */
export function shopifyContentHash(db: Db, snapshotId: number): string {
  const parts = [hashRows(db, SHOPIFY_LOCATIONS_IN_KEY_ORDER, snapshotId), hashRows(db, SHOPIFY_ITEMS_IN_KEY_ORDER, snapshotId), hashLevels(db, snapshotId)];
  let text = `locations:${parts[0]}\nitems:${parts[1]}\nlevels:${parts[2]}\n`;
  const any = (sql: string) => db.prepare(`${sql} LIMIT 1`).get(snapshotId) !== undefined;
  if (any(INACTIVE_LOCATIONS_IN_KEY_ORDER)) text += `inactive:${hashRows(db, INACTIVE_LOCATIONS_IN_KEY_ORDER, snapshotId)}\n`;
  if (any(UNTRACKED_ITEMS_IN_KEY_ORDER)) text += `untracked:${hashRows(db, UNTRACKED_ITEMS_IN_KEY_ORDER, snapshotId)}\n`;
  return createHash('sha256').update(text).digest('hex');
}

/** A blank SKU is no SKU: stored as NULL so it never joins an ERP row. */
export function normalizeSku(sku: string | null | undefined): string | null {
  // Trimmed and in Unicode NFC, as the ERP side: "É" as one code point or as "E" + accent is one SKU.
  return sku === null || sku === undefined || sku.trim() === '' ? null : sku.trim().normalize('NFC');
}

export interface SkuReport {
  withoutSku: { count: number; inventoryItemIds: string[] };
  shared: { count: number; skus: { sku: string; inventoryItemIds: string[] }[] };
}

/** What reconciling leaves out of this snapshot: items whose quantities Shopify does not track, and inactive locations. */
export interface HygieneReport {
  untrackedItems: { count: number; skus: string[] };
  inactiveLocations: { count: number; names: string[] };
}

export interface StagedJoin {
  /** Levels written from the staged rows. */
  levels: number;
  /** Staged levels whose parent item never appeared. */
  orphans: number;
  orphanParents: string[];
  /** Staged levels that repeated an (item, location) pair. */
  duplicates: number;
}

const LEVEL_COLUMNS = 'available, on_hand, committed, reserved, incoming';
/** Rows per multi-row INSERT: a million calls into SQLite cost more than the rows themselves. */
const CHUNK = 100;

/** Buffers rows and writes them CHUNK at a time; flush() before reading the table back. */
class ChunkedInsert {
  private readonly one: BetterSqlite3.Statement<unknown[]>;
  private readonly many: BetterSqlite3.Statement<unknown[]>;
  private args: unknown[] = [];
  private rows = 0;
  constructor(db: Db, head: string, columns: number) {
    const placeholders = `(${new Array(columns).fill('?').join(', ')})`;
    this.one = db.prepare(`${head} VALUES ${placeholders}`);
    this.many = db.prepare(`${head} VALUES ${new Array(CHUNK).fill(placeholders).join(', ')}`);
  }
  add(...row: unknown[]): void {
    for (const value of row) this.args.push(value);
    if (++this.rows === CHUNK) {
      this.many.run(this.args);
      this.args = [];
      this.rows = 0;
    }
  }
  flush(): void {
    if (this.rows === 0) return;
    const width = this.args.length / this.rows;
    for (let i = 0; i < this.args.length; i += width) this.one.run(this.args.slice(i, i + width));
    this.args = [];
    this.rows = 0;
  }
  discard(): void {
    this.args = [];
    this.rows = 0;
  }
}

/**
 * Writes one Shopify snapshot (locations, items, levels) inside one transaction. Bulk results can
 * deliver levels before their item: stageLevel() parks them in a temporary table keyed by parent id,
 * and joinStagedLevels() writes them once every item is in, so memory stays flat.
 */
export class ShopifySnapshotWriter {
  readonly tx: SnapshotTransaction;
  private readonly insertLocation;
  private readonly insertItem;
  private readonly insertLevel;
  private insertStaged: ChunkedInsert | undefined;
  private bulkItems: ChunkedInsert | undefined;
  private stagedTable = false;
  duplicateItems = 0;
  duplicateLevels = 0;

  constructor(
    private readonly db: Db,
    source: string,
  ) {
    try {
      this.tx = new SnapshotTransaction(db, 'shopify', source);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new SourceError(`${db.name}: the snapshot database is busy: another invrecon run is writing to it; try again when it has finished`);
      }
      throw error;
    }
    this.insertLocation = db.prepare('INSERT OR IGNORE INTO shopify_locations (snapshot_id, location_id, name, is_active) VALUES (?, ?, ?, ?)');
    this.insertItem = db.prepare('INSERT OR IGNORE INTO shopify_items (snapshot_id, inventory_item_id, sku, tracked) VALUES (?, ?, ?, ?)');
    this.insertLevel = db.prepare(
      `INSERT OR IGNORE INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, ${LEVEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  get id(): number {
    return this.tx.id;
  }

  addLocation(locationId: string, name: string, isActive = true): void {
    this.insertLocation.run(this.tx.id, locationId, name, isActive ? 1 : 0);
  }

  /** Returns false when the item was already written (a page that shifted under us). */
  addItem(inventoryItemId: string, sku: string | null, tracked = true): boolean {
    const added = this.insertItem.run(this.tx.id, inventoryItemId, normalizeSku(sku), tracked ? 1 : 0).changes > 0;
    if (!added) this.duplicateItems++;
    return added;
  }

  addLevel(inventoryItemId: string, locationId: string, sku: string | null, q: LevelQuantities): boolean {
    const added =
      this.insertLevel.run(this.tx.id, inventoryItemId, locationId, normalizeSku(sku), q.available, q.on_hand, q.committed, q.reserved, q.incoming).changes > 0;
    if (!added) this.duplicateLevels++;
    return added;
  }

  /**
   * Adds an item of a bulk result, buffered (duplicates are not counted here: a bulk result lists
   * each item once). Call flushBulk() before reading the tables.
   */
  addBulkItem(inventoryItemId: string, sku: string | null, tracked = true): void {
    this.bulkItems ??= new ChunkedInsert(this.db, 'INSERT OR IGNORE INTO shopify_items (snapshot_id, inventory_item_id, sku, tracked)', 4);
    this.bulkItems.add(this.tx.id, inventoryItemId, normalizeSku(sku), tracked ? 1 : 0);
  }

  /** Parks a level whose item may not have been read yet (buffered like addBulkItem). */
  stageLevel(parentItemId: string, locationId: string, q: LevelQuantities): void {
    if (!this.insertStaged) {
      this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS shopify_staged_levels (
        parent_id TEXT NOT NULL, location_id TEXT NOT NULL,
        available INTEGER NOT NULL, on_hand INTEGER NOT NULL, committed INTEGER NOT NULL, reserved INTEGER NOT NULL, incoming INTEGER NOT NULL)`);
      this.stagedTable = true;
      this.insertStaged = new ChunkedInsert(this.db, `INSERT INTO temp.shopify_staged_levels (parent_id, location_id, ${LEVEL_COLUMNS})`, 7);
    }
    this.insertStaged.add(parentItemId, locationId, q.available, q.on_hand, q.committed, q.reserved, q.incoming);
  }

  /** Writes what addBulkItem() and stageLevel() have buffered. */
  flushBulk(): void {
    this.bulkItems?.flush();
    this.insertStaged?.flush();
  }

  /** Writes the staged levels joined to their items (taking the item's SKU), in the order they came. */
  joinStagedLevels(sampleLimit = 5): StagedJoin {
    this.flushBulk();
    if (!this.stagedTable) return { levels: 0, orphans: 0, orphanParents: [], duplicates: 0 };
    const staged = this.db.prepare('SELECT count(*) FROM temp.shopify_staged_levels').pluck().get() as number;
    const levels = this.db
      .prepare(
        `INSERT OR IGNORE INTO shopify_levels (snapshot_id, inventory_item_id, location_id, sku, ${LEVEL_COLUMNS})
         SELECT i.snapshot_id, s.parent_id, s.location_id, i.sku, s.available, s.on_hand, s.committed, s.reserved, s.incoming
         FROM temp.shopify_staged_levels s JOIN shopify_items i ON i.snapshot_id = ? AND i.inventory_item_id = s.parent_id`,
      )
      .run(this.tx.id).changes;
    const orphanWhere = 'NOT EXISTS (SELECT 1 FROM shopify_items i WHERE i.snapshot_id = ? AND i.inventory_item_id = s.parent_id)';
    const orphans = this.db.prepare(`SELECT count(*) FROM temp.shopify_staged_levels s WHERE ${orphanWhere}`).pluck().get(this.tx.id) as number;
    const orphanParents = this.db
      .prepare(`SELECT DISTINCT parent_id FROM temp.shopify_staged_levels s WHERE ${orphanWhere} ORDER BY parent_id LIMIT ?`)
      .pluck()
      .all(this.tx.id, sampleLimit) as string[];
    this.dropStaged();
    return { levels, orphans, orphanParents, duplicates: staged - orphans - levels };
  }

  /** Forgets every item and level written so far (a bulk download restarted, or paged switched to bulk). */
  clearItemsAndLevels(): void {
    this.bulkItems?.discard();
    this.insertStaged?.discard();
    this.db.prepare('DELETE FROM shopify_levels WHERE snapshot_id = ?').run(this.tx.id);
    this.db.prepare('DELETE FROM shopify_items WHERE snapshot_id = ?').run(this.tx.id);
    if (this.stagedTable) this.db.exec('DELETE FROM temp.shopify_staged_levels');
    this.duplicateItems = 0;
    this.duplicateLevels = 0;
  }

  counts(): { locations: number; items: number; levels: number } {
    this.flushBulk();
    const count = (table: string) => this.db.prepare(`SELECT count(*) FROM ${table} WHERE snapshot_id = ?`).pluck().get(this.tx.id) as number;
    return { locations: count('shopify_locations'), items: count('shopify_items'), levels: count('shopify_levels') };
  }

  /** Items without a SKU and SKUs held by several items, with up to `sampleLimit` examples of each. */
  skuReport(sampleLimit = 50): SkuReport {
    this.flushBulk();
    const id = this.tx.id;
    const withoutSkuCount = this.db.prepare('SELECT count(*) FROM shopify_items WHERE snapshot_id = ? AND sku IS NULL').pluck().get(id) as number;
    const withoutSkuIds = this.db
      .prepare('SELECT inventory_item_id FROM shopify_items WHERE snapshot_id = ? AND sku IS NULL ORDER BY inventory_item_id LIMIT ?')
      .pluck()
      .all(id, sampleLimit) as string[];
    const sharedCount = this.db
      .prepare('SELECT count(*) FROM (SELECT sku FROM shopify_items WHERE snapshot_id = ? AND sku IS NOT NULL GROUP BY sku HAVING count(*) > 1)')
      .pluck()
      .get(id) as number;
    const sharedSkus = this.db
      .prepare('SELECT sku FROM shopify_items WHERE snapshot_id = ? AND sku IS NOT NULL GROUP BY sku HAVING count(*) > 1 ORDER BY sku LIMIT ?')
      .pluck()
      .all(id, sampleLimit) as string[];
    const itemsOf = this.db.prepare('SELECT inventory_item_id FROM shopify_items WHERE snapshot_id = ? AND sku = ? ORDER BY inventory_item_id').pluck();
    return {
      withoutSku: { count: withoutSkuCount, inventoryItemIds: withoutSkuIds },
      shared: { count: sharedCount, skus: sharedSkus.map((sku) => ({ sku, inventoryItemIds: itemsOf.all(id, sku) as string[] })) },
    };
  }

  /** Untracked items (by SKU, or id when they have none) and inactive locations (by name), up to `sampleLimit` of each. */
  hygieneReport(sampleLimit = 20): HygieneReport {
    this.flushBulk();
    const id = this.tx.id;
    const count = (sql: string) => this.db.prepare(`SELECT count(*) FROM (${sql})`).pluck().get(id) as number;
    const sample = (sql: string) => this.db.prepare(`${sql} LIMIT ?`).pluck().all(id, sampleLimit) as string[];
    return {
      untrackedItems: {
        count: count(UNTRACKED_ITEMS_IN_KEY_ORDER),
        skus: sample('SELECT COALESCE(sku, inventory_item_id) AS s FROM shopify_items WHERE snapshot_id = ? AND tracked = 0 ORDER BY s'),
      },
      inactiveLocations: {
        count: count(INACTIVE_LOCATIONS_IN_KEY_ORDER),
        names: sample('SELECT name FROM shopify_locations WHERE snapshot_id = ? AND is_active = 0 ORDER BY name'),
      },
    };
  }

  /** Levels at a location the snapshot's location list lacks (an inactive location, say). */
  levelsAtUnlistedLocations(sampleLimit = 5): { count: number; locationIds: string[] } {
    this.flushBulk();
    const where = 'l.snapshot_id = ? AND NOT EXISTS (SELECT 1 FROM shopify_locations o WHERE o.snapshot_id = l.snapshot_id AND o.location_id = l.location_id)';
    const count = this.db.prepare(`SELECT count(*) FROM shopify_levels l WHERE ${where}`).pluck().get(this.tx.id) as number;
    const locationIds =
      count === 0
        ? []
        : (this.db
            .prepare(`SELECT DISTINCT location_id FROM shopify_levels l WHERE ${where} ORDER BY location_id LIMIT ?`)
            .pluck()
            .all(this.tx.id, sampleLimit) as string[]);
    return { count, locationIds };
  }

  finish(meta: Record<string, unknown>): SnapshotInfo {
    this.flushBulk();
    if (this.stagedTable) this.dropStaged();
    const { levels } = this.counts();
    return this.tx.finish(levels, shopifyContentHash(this.db, this.tx.id), meta);
  }

  abort(): void {
    this.tx.abort();
    this.stagedTable = false;
    this.insertStaged = undefined;
  }

  private dropStaged(): void {
    this.db.exec('DROP TABLE IF EXISTS temp.shopify_staged_levels');
    this.stagedTable = false;
    this.insertStaged = undefined;
  }
}
