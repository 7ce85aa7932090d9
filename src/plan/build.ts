import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { assertRegularOrAbsent } from '../files.js';
import { prepareDiff, type DiffOptions, type DiffRow, type PreparedDiff } from '../reconcile/diff.js';
import type { Db } from '../store/db.js';
import { previousSnapshot, type SnapshotInfo } from '../store/snapshots.js';
import { toolVersion } from '../version.js';
import { PlanWriter, type FormulaNumbers } from './file.js';
import { evaluateGuards } from './guards.js';
import type { PlanChange, PlanHeader } from './model.js';

export interface BuildPlanOptions extends Pick<DiffOptions, 'erpSnapshotId' | 'shopifySnapshotId' | 'sku' | 'location' | 'threshold'> {
  force?: boolean;
}

function snapshotRef(snapshot: SnapshotInfo) {
  return { snapshotId: snapshot.id, contentHash: snapshot.contentHash, takenAt: snapshot.takenAt, rows: snapshot.rowCount };
}

/** Where `plan` and `sync` put a plan when no --out is given: plans/ beside the snapshot database. */
export function defaultPlanPath(snapshotPath: string, digest: string): string {
  return join(dirname(snapshotPath), 'plans', `plan-${digest.slice(0, 12)}.json`);
}

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

/** The numbers a level's reason is made of, when it is a plain ERP level (the plan stores them, not the text). */
function formulaOf(row: DiffRow): FormulaNumbers | undefined {
  return row.kind === 'level' && row.erp ? [row.erp.onHand, row.erp.reserved, row.erp.safetyStock, row.erp.safetySource, row.erp.shopifyCommitted] : undefined;
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
  header: PlanHeader;
  /** The plan file written. */
  path: string;
  diff: PreparedDiff;
}

export interface PlanTarget {
  /** The plan file; default: defaultPlanPath beside the snapshot database. */
  out?: string;
}

/**
 * Freezes the current diff into a plan file: changes, ERP corrections, guard results, and a digest over
 * all of it. The rows go from SQL to the file one at a time: memory stays flat in the number of changes.
 */
export function buildPlan(db: Db, config: LoadedConfig, options: BuildPlanOptions = {}, target: PlanTarget = {}): BuiltPlan {
  // A device, FIFO or folder given as --out is refused before any work (the file is written by a rename).
  if (target.out) assertRegularOrAbsent(target.out, 'plan file');
  const diff = prepareDiff(db, config, { ...options, hybridOk: true });
  const dir = dirname(target.out ?? defaultPlanPath(config.snapshot.path, '0'));
  const writer = new PlanWriter(
    dir,
    diff.locations.map((l) => ({ id: l.locationId, name: l.locationName })),
  );
  try {
    let changes = 0;
    let zeroed = 0;
    let unitsUp = 0;
    let unitsDown = 0;
    const byLocation = new Map<string, { locationId: string; changes: number; totalAbsDelta: number; zeroed: number }>();
    for (const row of diff.planRows('changes')) {
      const change = toChange(row);
      writer.change(change, formulaOf(row));
      const location = byLocation.get(change.locationId) ?? { locationId: change.locationId, changes: 0, totalAbsDelta: 0, zeroed: 0 };
      byLocation.set(change.locationId, location);
      const zeroes = change.to === 0 && change.from > 0 ? 1 : 0;
      changes++;
      zeroed += zeroes;
      unitsUp += Math.max(0, change.delta);
      unitsDown += Math.max(0, -change.delta);
      location.changes++;
      location.totalAbsDelta += Math.abs(change.delta);
      location.zeroed += zeroes;
    }
    let erpCorrections = 0;
    for (const { row, warehouse, onHand } of diff.erpCorrectionRows()) {
      // The ERP's available should move by (Shopify − ERP), on the warehouse that lists the SKU.
      const current = onHand ?? 0;
      const delta = row.observed! - row.erp!.available;
      writer.erpCorrection({
        sku: row.sku,
        locationId: row.locationId,
        locationName: row.locationName,
        warehouse,
        current,
        proposed: Math.max(0, current + delta),
        delta,
        reason: `Shopify shows ${row.observed} available, the ERP ${row.erp!.available}`,
      });
      erpCorrections++;
    }
    for (const row of diff.planRows('hybrid-ok')) {
      if (row.erp) writer.hybridBase({ sku: row.sku, locationId: row.locationId, erpAvailable: row.erp.available, shopifyAvailable: row.observed! });
    }
    const previous = previousSnapshot(db, diff.erpSnapshot);
    const checks = evaluateGuards(config.guards, {
      changes,
      zeroed,
      levelsCompared: diff.summary.levelsCompared,
      erpRows: diff.erpSnapshot.rowCount,
      previousErpRows: previous?.rowCount,
      lastAppliedErpRows: lastAppliedErpRows(db, diff.erpSnapshot),
      byLocation: diff.summary.byLocation.map((l) => ({ locationName: l.locationName, compared: l.levelsCompared, zeroed: byLocation.get(l.locationId)?.zeroed ?? 0 })),
      vanishedWarehouses: previous ? vanishedWarehouses(previous, diff.erpSnapshot, config) : [],
    });
    const passed = checks.every((c) => c.ok);
    const { header, path } = writer.finish(
      {
        tool: { name: 'invrecon', version: toolVersion },
        // The newest input's time, not the clock: the same snapshots give a byte-identical plan.
        createdAt: [diff.erpSnapshot.takenAt, diff.shopifySnapshot.takenAt].sort().at(-1)!,
        shop: config.shopify.shop,
        apiVersion: config.shopify.apiVersion,
        baseline: { erp: snapshotRef(diff.erpSnapshot), shopify: snapshotRef(diff.shopifySnapshot) },
        guards: { applyable: passed || Boolean(options.force), forced: !passed && Boolean(options.force), checks },
        summary: {
          changes,
          zeroed,
          levelsCompared: diff.summary.levelsCompared,
          unitsUp,
          unitsDown,
          erpCorrections,
          conflicts: diff.summary.reported.conflict,
          byLocation: [...byLocation.values()].sort((a, b) => (a.locationId < b.locationId ? -1 : a.locationId > b.locationId ? 1 : 0)),
        },
        issues: diff.issues,
      },
      (digest) => target.out ?? defaultPlanPath(config.snapshot.path, digest),
    );
    return { header, path, diff };
  } catch (error) {
    writer.abandon();
    throw error;
  }
}
