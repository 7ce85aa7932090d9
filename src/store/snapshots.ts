// Snapshots: the record of each pull, reading them back, their content hash, and the one transaction that writes one.
import { createHash } from 'node:crypto';
import type { Db } from './db.js';

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

/** The snapshot columns under SnapshotInfo's names; only meta is left to parse. */
const SELECT_SNAPSHOT = 'SELECT id, side, source, taken_at AS takenAt, row_count AS rowCount, content_hash AS contentHash, meta FROM snapshots';

function toInfo(record: Omit<SnapshotInfo, 'meta'> & { meta: string }): SnapshotInfo {
  return { ...record, meta: JSON.parse(record.meta) as Record<string, unknown> };
}

function selectSnapshots(db: Db, where: string, ...params: unknown[]): SnapshotInfo[] {
  return (db.prepare(`${SELECT_SNAPSHOT} ${where}`).all(...params) as Parameters<typeof toInfo>[0][]).map(toInfo);
}

function selectSnapshot(db: Db, where: string, ...params: unknown[]): SnapshotInfo | undefined {
  const record = db.prepare(`${SELECT_SNAPSHOT} ${where}`).get(...params) as Parameters<typeof toInfo>[0] | undefined;
  return record && toInfo(record);
}

export function listSnapshots(db: Db, side?: Side): SnapshotInfo[] {
  return side ? selectSnapshots(db, 'WHERE side = ? ORDER BY id', side) : selectSnapshots(db, 'ORDER BY id');
}

export function getSnapshot(db: Db, id: number): SnapshotInfo | undefined {
  return selectSnapshot(db, 'WHERE id = ?', id);
}

export function latestSnapshot(db: Db, side: Side): SnapshotInfo | undefined {
  return selectSnapshot(db, 'WHERE side = ? ORDER BY id DESC LIMIT 1', side);
}

/** The snapshot of the same side taken just before this one. */
export function previousSnapshot(db: Db, snapshot: SnapshotInfo): SnapshotInfo | undefined {
  return selectSnapshot(db, 'WHERE side = ? AND id < ? ORDER BY id DESC LIMIT 1', snapshot.side, snapshot.id);
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
