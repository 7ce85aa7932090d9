import type { LoadedConfig } from '../config/load.js';
import { computeDiff, type DiffOptions, type DiffResult, type DiffRow } from '../reconcile/diff.js';
import type { Db } from '../store/db.js';
import { previousSnapshot, type SnapshotInfo } from '../store/snapshots.js';
import { toolVersion } from '../version.js';
import { evaluateGuards } from './guards.js';
import { PLAN_FORMAT_VERSION, planDigest, type ErpCorrection, type Plan, type PlanChange } from './model.js';

export interface BuildPlanOptions extends Pick<DiffOptions, 'erpSnapshotId' | 'shopifySnapshotId' | 'sku' | 'location' | 'threshold'> {
  force?: boolean;
}

function snapshotRef(snapshot: SnapshotInfo) {
  return { snapshotId: snapshot.id, contentHash: snapshot.contentHash, takenAt: snapshot.takenAt, rows: snapshot.rowCount };
}

const byLocationThenSku = (a: { locationId: string; sku: string }, b: { locationId: string; sku: string }) =>
  a.locationId < b.locationId ? -1 : a.locationId > b.locationId ? 1 : a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;

function toChange(row: DiffRow): PlanChange {
  return {
    sku: row.sku,
    inventoryItemId: row.inventoryItemId!,
    locationId: row.locationId,
    locationName: row.locationName,
    from: row.observed!,
    to: row.target!,
    delta: row.target! - row.observed!,
    // A hybrid merge carries deltas, so it adjusts; everything else sets the absolute value.
    mode: row.authority === 'hybrid' && row.hybrid ? 'adjust' : 'set',
    authority: row.authority,
    erpAvailable: row.erp?.available ?? row.target!,
    reason: row.reason,
  };
}

/**
 * ERP corrections for levels where Shopify is the authority: the ERP's available should move by
 * (Shopify − ERP). The change is proposed on the location's first mapped warehouse that lists the SKU.
 */
function erpCorrections(db: Db, config: LoadedConfig, erpSnapshotId: number, rows: DiffRow[]): ErpCorrection[] {
  const onHand = db.prepare('SELECT on_hand FROM erp_levels WHERE snapshot_id = ? AND sku = ? AND warehouse = ?').pluck();
  const corrections: ErpCorrection[] = [];
  for (const row of rows) {
    if (row.status !== 'erp-correction' || row.observed === null || !row.erp) continue;
    const entry = config.locations.find((l) => l.shopifyLocation === row.locationId || l.shopifyLocation === row.locationName);
    const warehouses = entry?.warehouses ?? [];
    const listed = warehouses.find((w) => onHand.get(erpSnapshotId, row.sku, w) !== undefined);
    const warehouse = listed ?? warehouses[0] ?? '';
    const current = listed ? (onHand.get(erpSnapshotId, row.sku, listed) as number) : 0;
    const delta = row.observed - row.erp.available;
    corrections.push({
      sku: row.sku,
      locationId: row.locationId,
      locationName: row.locationName,
      warehouse,
      current,
      proposed: Math.max(0, current + delta),
      delta,
      reason: `Shopify shows ${row.observed} available, the ERP ${row.erp.available}`,
    });
  }
  return corrections.sort(byLocationThenSku);
}

/** Rows of the ERP snapshot the last applied plan was made from, when that is an earlier snapshot still kept. */
function lastAppliedErpRows(db: Db, current: SnapshotInfo): number | undefined {
  const rows = db
    .prepare(
      `SELECT s.row_count FROM reconciled_levels r JOIN snapshots s ON s.id = r.erp_snapshot_id
       WHERE s.id < ? ORDER BY r.reconciled_at DESC LIMIT 1`,
    )
    .pluck()
    .get(current.id) as number | undefined;
  return rows;
}

/** Mapped warehouses that had rows in the previous export and have none in this one (from the pulls' records). */
function vanishedWarehouses(previous: SnapshotInfo, current: SnapshotInfo, config: LoadedConfig): string[] {
  const codes = (snapshot: SnapshotInfo) => new Set(((snapshot.meta.warehouses ?? []) as { code: string; rows: number }[]).filter((w) => w.rows > 0).map((w) => w.code));
  const before = codes(previous);
  const now = codes(current);
  return config.locations.flatMap((l) => l.warehouses).filter((w) => before.has(w) && !now.has(w)).sort();
}

export interface BuiltPlan {
  plan: Plan;
  diff: DiffResult;
}

/** Freezes the current diff into a plan: changes, ERP corrections, guard results, and a digest over all of it. */
export function buildPlan(db: Db, config: LoadedConfig, options: BuildPlanOptions = {}): BuiltPlan {
  const diff = computeDiff(db, config, { ...options, hybridOk: true });
  const drifting = (row: DiffRow) => row.status === 'change' && row.delta !== null && Math.abs(row.delta) > (options.threshold ?? 0);
  const changes = diff.rows.filter(drifting).map(toChange).sort(byLocationThenSku);
  const hybridBaseline = diff.rows
    .filter((row) => row.authority === 'hybrid' && row.status === 'ok' && row.observed !== null && row.erp)
    .map((row) => ({ sku: row.sku, locationId: row.locationId, erpAvailable: row.erp!.available, shopifyAvailable: row.observed! }))
    .sort(byLocationThenSku);
  const corrections = erpCorrections(db, config, diff.erpSnapshot.id, diff.rows);
  const zeroed = changes.filter((c) => c.to === 0 && c.from > 0).length;
  const previous = previousSnapshot(db, diff.erpSnapshot);
  const checks = evaluateGuards(config.guards, {
    changes: changes.length,
    zeroed,
    levelsCompared: diff.summary.levelsCompared,
    erpRows: diff.erpSnapshot.rowCount,
    previousErpRows: previous?.rowCount,
    lastAppliedErpRows: lastAppliedErpRows(db, diff.erpSnapshot),
    byLocation: diff.summary.byLocation.map((l) => ({
      locationName: l.locationName,
      compared: l.levelsCompared,
      zeroed: changes.filter((c) => c.locationId === l.locationId && c.to === 0 && c.from > 0).length,
    })),
    vanishedWarehouses: previous ? vanishedWarehouses(previous, diff.erpSnapshot, config) : [],
  });
  const passed = checks.every((c) => c.ok);
  const content: Omit<Plan, 'digest'> = {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: 'invrecon', version: toolVersion },
    // The newest input's time, not the clock: the same snapshots give a byte-identical plan.
    createdAt: [diff.erpSnapshot.takenAt, diff.shopifySnapshot.takenAt].sort().at(-1)!,
    shop: config.shopify.shop,
    apiVersion: config.shopify.apiVersion,
    baseline: { erp: snapshotRef(diff.erpSnapshot), shopify: snapshotRef(diff.shopifySnapshot) },
    guards: { applyable: passed || Boolean(options.force), forced: !passed && Boolean(options.force), checks },
    summary: {
      changes: changes.length,
      zeroed,
      levelsCompared: diff.summary.levelsCompared,
      unitsUp: changes.reduce((n, c) => n + Math.max(0, c.delta), 0),
      unitsDown: changes.reduce((n, c) => n + Math.max(0, -c.delta), 0),
      erpCorrections: corrections.length,
      conflicts: diff.summary.reported.conflict,
    },
    changes,
    erpCorrections: corrections,
    hybridBaseline,
    issues: diff.issues,
  };
  return { plan: { ...content, digest: planDigest(content) }, diff };
}
