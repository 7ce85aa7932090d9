// Pruning old snapshots: which ones something still needs (and why), what may go, and removing it in one transaction.
import type { Db } from './db.js';
import { knownGoodBaseline, listPlans, type PlanRecord } from './plans.js';
import { listSnapshots, type SnapshotInfo } from './snapshots.js';

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
