import { createHash } from 'node:crypto';
import type { Db } from './db.js';

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

export type Side = 'erp' | 'shopify';

export interface SnapshotInfo {
  id: number;
  side: Side;
  source: string;
  takenAt: string;
  rowCount: number;
  contentHash: string;
  meta: Record<string, unknown>;
}

interface SnapshotRecord {
  id: number;
  side: Side;
  source: string;
  taken_at: string;
  row_count: number;
  content_hash: string;
  meta: string;
}

function toInfo(record: SnapshotRecord): SnapshotInfo {
  return {
    id: record.id,
    side: record.side,
    source: record.source,
    takenAt: record.taken_at,
    rowCount: record.row_count,
    contentHash: record.content_hash,
    meta: JSON.parse(record.meta) as Record<string, unknown>,
  };
}

export function listSnapshots(db: Db, side?: Side): SnapshotInfo[] {
  const records = side
    ? (db.prepare('SELECT * FROM snapshots WHERE side = ? ORDER BY id').all(side) as SnapshotRecord[])
    : (db.prepare('SELECT * FROM snapshots ORDER BY id').all() as SnapshotRecord[]);
  return records.map(toInfo);
}

export function getSnapshot(db: Db, id: number): SnapshotInfo | undefined {
  const record = db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as SnapshotRecord | undefined;
  return record && toInfo(record);
}

export function latestSnapshot(db: Db, side: Side): SnapshotInfo | undefined {
  const record = db.prepare('SELECT * FROM snapshots WHERE side = ? ORDER BY id DESC LIMIT 1').get(side) as SnapshotRecord | undefined;
  return record && toInfo(record);
}

/** The snapshot of the same side taken just before this one. */
export function previousSnapshot(db: Db, snapshot: SnapshotInfo): SnapshotInfo | undefined {
  const record = db.prepare('SELECT * FROM snapshots WHERE side = ? AND id < ? ORDER BY id DESC LIMIT 1').get(snapshot.side, snapshot.id) as
    SnapshotRecord | undefined;
  return record && toInfo(record);
}

/**
 * Content hash over the snapshot's rows in key order, so it does not depend on the order the
 * source delivered them in. `sql` selects the rows for `?` = snapshot id, ordered by key.
 */
export function hashRows(db: Db, sql: string, snapshotId: number): string {
  const hash = createHash('sha256');
  for (const row of db.prepare(sql).raw().iterate(snapshotId) as Iterable<unknown[]>) {
    hash.update(JSON.stringify(row));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * A snapshot being written: one open transaction from begin to finish. Nothing is visible to other
 * connections until finish(); abort() (or a crash) leaves nothing behind.
 */
export class SnapshotTransaction {
  readonly id: number;
  private open = true;

  constructor(
    private readonly db: Db,
    readonly side: Side,
    readonly source: string,
  ) {
    db.exec('BEGIN IMMEDIATE');
    try {
      this.id = Number(
        db
          .prepare("INSERT INTO snapshots (side, source, taken_at, row_count, content_hash) VALUES (?, ?, ?, 0, '')")
          .run(side, source, new Date().toISOString()).lastInsertRowid,
      );
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  finish(rowCount: number, contentHash: string, meta: Record<string, unknown>): SnapshotInfo {
    this.db
      .prepare('UPDATE snapshots SET row_count = ?, content_hash = ?, meta = ?, taken_at = ? WHERE id = ?')
      .run(rowCount, contentHash, JSON.stringify(meta), new Date().toISOString(), this.id);
    this.db.exec('COMMIT');
    this.open = false;
    return getSnapshot(this.db, this.id)!;
  }

  abort(): void {
    if (!this.open) return;
    this.open = false;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
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

/** A plan as the database records it: the file it was written to and the snapshots it was made from. */
export interface PlanRecord {
  digest: string;
  path: string;
  erpSnapshotId: number;
  shopifySnapshotId: number;
  createdAt: string;
  guardsPassed: boolean;
  forced: boolean;
}

/** Records a plan file written from these snapshots (again for the same file: nothing changes). */
export function recordPlan(db: Db, plan: Omit<PlanRecord, 'createdAt'>, at = new Date()): void {
  // A plan from a snapshot no longer kept (an old file applied again) is not recorded: it refers to nothing.
  const kept = db.prepare('SELECT COUNT(*) FROM snapshots WHERE id IN (?, ?)').pluck().get(plan.erpSnapshotId, plan.shopifySnapshotId) as number;
  if (kept < (plan.erpSnapshotId === plan.shopifySnapshotId ? 1 : 2)) return;
  db.prepare(
    `INSERT OR IGNORE INTO plans (digest, path, erp_snapshot_id, shopify_snapshot_id, created_at, guards_passed, forced) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(plan.digest, plan.path, plan.erpSnapshotId, plan.shopifySnapshotId, at.toISOString(), plan.guardsPassed ? 1 : 0, plan.forced ? 1 : 0);
}

interface PlanRow {
  digest: string;
  path: string;
  erp_snapshot_id: number;
  shopify_snapshot_id: number;
  created_at: string;
  guards_passed: number;
  forced: number;
}

function toPlanRecord(row: PlanRow): PlanRecord {
  return {
    digest: row.digest,
    path: row.path,
    erpSnapshotId: row.erp_snapshot_id,
    shopifySnapshotId: row.shopify_snapshot_id,
    createdAt: row.created_at,
    guardsPassed: row.guards_passed === 1,
    forced: row.forced === 1,
  };
}

export function listPlans(db: Db): PlanRecord[] {
  return (db.prepare('SELECT * FROM plans ORDER BY created_at, digest, path').all() as PlanRow[]).map(toPlanRecord);
}

/** Why a snapshot is the guards' baseline. */
export type BaselineKind = 'last-applied' | 'last-passed';

/**
 * The last known-good ERP baseline the guards compare with: the ERP snapshot of the last applied plan
 * (an apply with --commit that finished), or, before any plan was applied, of the newest plan that
 * passed every guard. A refused export never becomes the baseline, so a refusal holds night after night.
 */
export function knownGoodBaseline(db: Db): { snapshot: SnapshotInfo; kind: BaselineKind; planDigest: string | null } | undefined {
  // Applied plans; before plans were recorded (migration 030) the hybrid base names the snapshot it came from.
  const applied = db
    .prepare(
      `SELECT erp_snapshot_id AS id, digest, at FROM (
         SELECT p.erp_snapshot_id, p.digest, a.finished_at AS at FROM applies a JOIN plans p ON p.digest = a.plan_digest
         WHERE a.finished_at IS NOT NULL AND a.status IN ('done', 'conflicts')
         UNION ALL
         SELECT erp_snapshot_id, plan_digest, reconciled_at FROM reconciled_levels WHERE erp_snapshot_id IS NOT NULL)
       WHERE erp_snapshot_id IN (SELECT id FROM snapshots)
       ORDER BY at DESC, erp_snapshot_id DESC LIMIT 1`,
    )
    .get() as { id: number; digest: string | null } | undefined;
  if (applied) return { snapshot: getSnapshot(db, applied.id)!, kind: 'last-applied', planDigest: applied.digest };
  const passed = db
    .prepare('SELECT erp_snapshot_id AS id, digest FROM plans WHERE guards_passed = 1 ORDER BY created_at DESC, erp_snapshot_id DESC LIMIT 1')
    .get() as { id: number; digest: string } | undefined;
  return passed ? { snapshot: getSnapshot(db, passed.id)!, kind: 'last-passed', planDigest: passed.digest } : undefined;
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

/** A snapshot prune keeps whatever its age, and why. */
export interface ProtectedSnapshot {
  id: number;
  reasons: string[];
}

export interface PruneSelection {
  /** Snapshots to remove, oldest first. */
  snapshots: SnapshotInfo[];
  /** Recorded plans made from any of them: they go too. */
  plans: PlanRecord[];
  /** Snapshots beyond `keep` that stay because something still refers to them. */
  protected: ProtectedSnapshot[];
  /** Snapshots left once done. */
  kept: number;
}

/** Snapshots something still needs: a running run, an apply that can resume, the guards' baseline, the hybrid base. */
function protectedSnapshots(db: Db): Map<number, string[]> {
  const reasons = new Map<number, string[]>();
  const add = (id: number | null | undefined, why: string) => {
    if (id === null || id === undefined) return;
    const list = reasons.get(id) ?? [];
    if (!list.includes(why)) list.push(why);
    reasons.set(id, list);
  };
  const unfinished = db
    .prepare(
      `SELECT id, json_extract(summary, '$.snapshots.erp') AS erp, json_extract(summary, '$.snapshots.shopify') AS shopify
       FROM runs WHERE finished_at IS NULL AND json_valid(summary)`,
    )
    .all() as { id: number; erp: number | null; shopify: number | null }[];
  for (const run of unfinished) {
    add(run.erp, `run #${run.id} is still running`);
    add(run.shopify, `run #${run.id} is still running`);
  }
  const resumable = db
    .prepare(
      "SELECT p.digest, p.erp_snapshot_id, p.shopify_snapshot_id FROM applies a JOIN plans p ON p.digest = a.plan_digest WHERE a.status IN ('running', 'failed')",
    )
    .all() as { digest: string; erp_snapshot_id: number; shopify_snapshot_id: number }[];
  for (const plan of resumable) {
    add(plan.erp_snapshot_id, `plan ${plan.digest.slice(0, 12)} has an apply to resume`);
    add(plan.shopify_snapshot_id, `plan ${plan.digest.slice(0, 12)} has an apply to resume`);
  }
  const baseline = knownGoodBaseline(db);
  if (baseline) {
    add(baseline.snapshot.id, "the guards' known-good baseline");
    // The plan that made it the baseline stays whole: its Shopify snapshot too.
    const pair = baseline.planDigest
      ? (db
          .prepare('SELECT shopify_snapshot_id FROM plans WHERE digest = ? AND erp_snapshot_id = ? LIMIT 1')
          .pluck()
          .get(baseline.planDigest, baseline.snapshot.id) as number | undefined)
      : undefined;
    add(pair, "the Shopify side of the known-good baseline's plan");
  }
  const hybrid = db.prepare('SELECT DISTINCT erp_snapshot_id AS erp, shopify_snapshot_id AS shopify FROM reconciled_levels').all() as {
    erp: number | null;
    shopify: number | null;
  }[];
  for (const base of hybrid) {
    add(base.erp, 'the reconciled (hybrid) base');
    add(base.shopify, 'the reconciled (hybrid) base');
  }
  return reasons;
}

/**
 * What prune would remove: beyond the newest `keep` snapshots of each side, every snapshot nothing
 * still needs, and the plans made from them. Reads only.
 */
export function selectPrune(db: Db, keep: number): PruneSelection {
  const protect = protectedSnapshots(db);
  const snapshots: SnapshotInfo[] = [];
  const kept: ProtectedSnapshot[] = [];
  let remaining = 0;
  for (const side of ['erp', 'shopify'] as const) {
    const all = listSnapshots(db, side).reverse();
    remaining += Math.min(keep, all.length);
    for (const snapshot of all.slice(keep)) {
      const reasons = protect.get(snapshot.id);
      if (reasons) {
        kept.push({ id: snapshot.id, reasons });
        remaining++;
      } else snapshots.push(snapshot);
    }
  }
  snapshots.sort((a, b) => a.id - b.id);
  const ids = new Set(snapshots.map((s) => s.id));
  const plans = listPlans(db).filter((p) => ids.has(p.erpSnapshotId) || ids.has(p.shopifySnapshotId));
  return { snapshots, plans, protected: kept.sort((a, b) => a.id - b.id), kept: remaining };
}

/** Removes what selectPrune chose, in one transaction: the plans' records first, then the snapshots and their levels. */
export function pruneSnapshots(db: Db, selection: PruneSelection): void {
  db.transaction(() => {
    const forget = db.prepare('DELETE FROM plans WHERE digest = ? AND path = ?');
    for (const plan of selection.plans) forget.run(plan.digest, plan.path);
    const remove = db.prepare('DELETE FROM snapshots WHERE id = ?');
    for (const snapshot of selection.snapshots) remove.run(snapshot.id);
  })();
}
