// The plans the database records (file, snapshots, guards) and the guards' known-good ERP baseline they give.
import type { Db } from './db.js';
import { getSnapshot, type SnapshotInfo } from './snapshots.js';

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

export function listPlans(db: Db): PlanRecord[] {
  const rows = db
    .prepare(
      `SELECT digest, path, erp_snapshot_id AS erpSnapshotId, shopify_snapshot_id AS shopifySnapshotId, created_at AS createdAt,
              guards_passed AS guardsPassed, forced
       FROM plans ORDER BY created_at, digest, path`,
    )
    .all() as (Omit<PlanRecord, 'guardsPassed' | 'forced'> & { guardsPassed: number; forced: number })[];
  return rows.map((row) => ({ ...row, guardsPassed: row.guardsPassed === 1, forced: row.forced === 1 }));
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
