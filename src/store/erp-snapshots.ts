// ERP snapshots: the normalized row, its content hash, and the writer that stores rows in chunks, reporting repeated keys.
import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { SnapshotTransaction, type SnapshotInfo } from './snapshots.js';

/** One normalized ERP row: a SKU's stock in one warehouse. */
export interface ErpRow {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
  incoming: number;
  /** null: the export has no value here, so config rules decide. */
  safetyStock: number | null;
  category: string | null;
}

const ERP_COLUMNS = '(snapshot_id, sku, warehouse, on_hand, reserved, incoming, safety_stock, category, line)';
const ERP_PLACEHOLDERS = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per multi-row INSERT: fewer calls into SQLite is most of the speed of a large pull. */
const ERP_CHUNK = 50;

/**
 * The content hash of an ERP snapshot: sha256 over the normalized rows in the source's order. Kept apart
 * from the writer so a source that parses on another thread can hash there too.
 */
export class ErpRowsHash {
  private readonly hash = createHash('sha256');

  update(rows: readonly ErpRow[]): void {
    let text = '';
    for (const row of rows)
      text += `${row.sku}\x1f${row.warehouse}\x1f${row.onHand}\x1f${row.reserved}\x1f${row.incoming}\x1f${row.safetyStock ?? ''}\x1f${row.category ?? ''}\n`;
    this.hash.update(text);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Writes ERP rows into an open snapshot. A repeated (sku, warehouse) is reported with the ordinal that had it first. */
export class ErpSnapshotWriter {
  readonly tx: SnapshotTransaction;
  private readonly insertOne;
  private readonly insertChunk;
  private readonly firstOrdinal;
  private readonly chunkArgs = new Array<unknown>(ERP_CHUNK * 9);
  /** Rows per warehouse, counted as they go in: cheaper than a GROUP BY over a million rows after. */
  private readonly warehouseRows = new Map<string, number>();
  rows = 0;

  constructor(
    private readonly db: Db,
    source: string,
  ) {
    this.tx = new SnapshotTransaction(db, 'erp', source);
    this.insertOne = db.prepare(`INSERT INTO erp_levels ${ERP_COLUMNS} VALUES ${ERP_PLACEHOLDERS}`);
    this.insertChunk = db.prepare(`INSERT INTO erp_levels ${ERP_COLUMNS} VALUES ${new Array(ERP_CHUNK).fill(ERP_PLACEHOLDERS).join(', ')}`);
    this.firstOrdinal = db.prepare('SELECT line FROM erp_levels WHERE snapshot_id = ? AND sku = ? AND warehouse = ?').pluck();
  }

  /** Adds rows (ordinals[i] is where rows[i] came from); returns the duplicates found, with the first ordinal of each. */
  addBatch(rows: readonly ErpRow[], ordinals: readonly number[]): { index: number; firstOrdinal: number }[] {
    const duplicates: { index: number; firstOrdinal: number }[] = [];
    let i = 0;
    for (; i + ERP_CHUNK <= rows.length; i += ERP_CHUNK) {
      const args = this.chunkArgs;
      for (let j = 0; j < ERP_CHUNK; j++) {
        const row = rows[i + j]!;
        const at = j * 9;
        args[at] = this.tx.id;
        args[at + 1] = row.sku;
        args[at + 2] = row.warehouse;
        args[at + 3] = row.onHand;
        args[at + 4] = row.reserved;
        args[at + 5] = row.incoming;
        args[at + 6] = row.safetyStock;
        args[at + 7] = row.category;
        args[at + 8] = ordinals[i + j];
      }
      try {
        this.insertChunk.run(args);
      } catch (error) {
        if (!isPrimaryKeyViolation(error)) throw error;
        // The failed statement changed nothing: find the duplicates row by row.
        for (let j = i; j < i + ERP_CHUNK; j++) this.addOne(rows[j]!, ordinals[j]!, j, duplicates);
      }
    }
    for (; i < rows.length; i++) this.addOne(rows[i]!, ordinals[i]!, i, duplicates);
    this.rows += rows.length - duplicates.length;
    const counts = this.warehouseRows;
    for (const row of rows) counts.set(row.warehouse, (counts.get(row.warehouse) ?? 0) + 1);
    // A duplicate was not stored: take it back out of its warehouse's count.
    for (const d of duplicates) counts.set(rows[d.index]!.warehouse, counts.get(rows[d.index]!.warehouse)! - 1);
    return duplicates;
  }

  private addOne(row: ErpRow, ordinal: number, index: number, duplicates: { index: number; firstOrdinal: number }[]): void {
    try {
      this.insertOne.run(this.tx.id, row.sku, row.warehouse, row.onHand, row.reserved, row.incoming, row.safetyStock, row.category, ordinal);
    } catch (error) {
      if (!isPrimaryKeyViolation(error)) throw error;
      duplicates.push({ index, firstOrdinal: this.firstOrdinal.get(this.tx.id, row.sku, row.warehouse) as number });
    }
  }

  /** Per-warehouse row counts and the number of distinct SKUs in the open snapshot. */
  stats(): { skus: number; warehouses: Map<string, number> } {
    const warehouses = new Map([...this.warehouseRows].filter(([, n]) => n > 0));
    const skus = this.db.prepare('SELECT count(DISTINCT sku) FROM erp_levels WHERE snapshot_id = ?').pluck().get(this.tx.id) as number;
    return { skus, warehouses };
  }

  finish(contentHash: string, meta: Record<string, unknown>): SnapshotInfo {
    return this.tx.finish(this.rows, contentHash, meta);
  }

  abort(): void {
    this.tx.abort();
  }
}

function isPrimaryKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Rows per warehouse code of an ERP snapshot: from what the pull recorded, else counted. */
export function warehouseRows(db: Db, snapshot: SnapshotInfo): Map<string, number> {
  const recorded = snapshot.meta.warehouses as { code: string; rows: number }[] | undefined;
  if (Array.isArray(recorded)) return new Map(recorded.filter((w) => w.rows > 0).map((w) => [w.code, w.rows]));
  const counted = db.prepare('SELECT warehouse, COUNT(*) AS n FROM erp_levels WHERE snapshot_id = ? GROUP BY warehouse').all(snapshot.id) as {
    warehouse: string;
    n: number;
  }[];
  return new Map(counted.map((w) => [w.warehouse, w.n]));
}
