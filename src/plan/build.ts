import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { assertRegularOrAbsent } from '../files.js';
import { prepareDiff, type DiffOptions, type DiffRow, type PreparedDiff } from '../reconcile/diff.js';
import type { Db } from '../store/db.js';
import { warehouseRows } from '../store/erp-snapshots.js';
import { knownGoodBaseline, recordPlan } from '../store/plans.js';
import { previousSnapshot, type SnapshotInfo } from '../store/snapshots.js';
import { toolVersion } from '../version.js';
import { type FormulaNumbers } from './file-rows.js';
import { PlanWriter } from './file-writer.js';
import { evaluateGuards, type GuardReference } from './guards.js';
import { rememberPlan } from './made.js';
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

/**
 * Mapped warehouses (by the current config) that had rows in the earlier export and have none in this one.
 * A warehouse mapped to a deactivated location is not one: nothing is written for it, and a closed store's
 * warehouse is expected to leave the export.
 */
function vanishedWarehouses(db: Db, earlier: SnapshotInfo, current: SnapshotInfo, config: LoadedConfig, inactive: ReadonlySet<string>): string[] {
  const before = warehouseRows(db, earlier);
  const now = warehouseRows(db, current);
  return config.locations
    .flatMap((l) => l.warehouses)
    .filter((w) => before.has(w) && !now.has(w) && !inactive.has(w))
    .sort();
}

/** Rows of an export in the given warehouses. */
function rowsIn(db: Db, snapshot: SnapshotInfo, warehouses: ReadonlySet<string>): number {
  if (warehouses.size === 0) return 0;
  const rows = warehouseRows(db, snapshot);
  return [...warehouses].reduce((sum, w) => sum + (rows.get(w) ?? 0), 0);
}

/**
 * The earlier exports the guards judge this one against: the previous snapshot and the known-good baseline.
 * `rows` counts only the rows something can be written for: warehouses of inactive locations are left out,
 * on both sides, so a closed store whose warehouse leaves the export does not look like a truncated export.
 */
function guardReferences(db: Db, config: LoadedConfig, current: SnapshotInfo, inactive: ReadonlySet<string>): GuardReference[] {
  const references: GuardReference[] = [];
  const add = (snapshot: SnapshotInfo | undefined, role: GuardReference['role']) => {
    if (!snapshot || snapshot.id === current.id || references.some((r) => r.snapshotId === snapshot.id)) return;
    references.push({
      role,
      snapshotId: snapshot.id,
      rows: snapshot.rowCount - rowsIn(db, snapshot, inactive),
      vanishedWarehouses: vanishedWarehouses(db, snapshot, current, config, inactive),
    });
  };
  const baseline = knownGoodBaseline(db);
  add(baseline?.snapshot, baseline?.kind ?? 'last-applied');
  add(previousSnapshot(db, current), 'previous');
  return references;
}

/** At most this many SKUs are named in the plan's issue about SKUs the export dropped. */
const REMOVED_SKUS_NAMED = 20;

/**
 * SKUs the reference export (the known-good baseline, else the previous one) listed and this one does not:
 * named in the plan with what `unknownSkus` does with their Shopify levels, never silently dropped.
 */
function removedSkusIssue(db: Db, config: LoadedConfig, current: SnapshotInfo, references: GuardReference[]): string | undefined {
  const reference = references[0];
  if (!reference) return undefined;
  const removed = db
    .prepare(
      // DISTINCT first: one lookup per SKU, not per (SKU, warehouse) row.
      `SELECT sku FROM (SELECT DISTINCT sku FROM erp_levels WHERE snapshot_id = ?) e
       WHERE NOT EXISTS (SELECT 1 FROM erp_levels c WHERE c.snapshot_id = ? AND c.sku = e.sku) ORDER BY sku`,
    )
    .pluck()
    .all(reference.snapshotId, current.id) as string[];
  if (removed.length === 0) return undefined;
  const named = removed
    .slice(0, REMOVED_SKUS_NAMED)
    .map((sku) => JSON.stringify(sku))
    .join(', ');
  const more = removed.length > REMOVED_SKUS_NAMED ? ` and ${removed.length - REMOVED_SKUS_NAMED} more` : '';
  const handling = {
    ignore: 'leaves their Shopify levels as they are (not compared)',
    report: 'reports their Shopify levels as not-in-erp and leaves them as they are',
    zero: 'sets their Shopify levels to 0 where the ERP is the authority',
  }[config.unknownSkus];
  return `${removed.length} SKU${removed.length === 1 ? '' : 's'} of ERP snapshot #${reference.snapshotId} ${removed.length === 1 ? 'is' : 'are'} not in this export: ${named}${more}; unknownSkus "${config.unknownSkus}" ${handling}`;
}

/** Records a plan file written from its snapshots: prune removes them together, and the guards' baseline is read from it. */
export function recordBuiltPlan(db: Db, header: Pick<PlanHeader, 'digest' | 'baseline' | 'guards'>, path: string): void {
  recordPlan(db, {
    digest: header.digest,
    path,
    erpSnapshotId: header.baseline.erp.snapshotId,
    shopifySnapshotId: header.baseline.shopify.snapshotId,
    guardsPassed: header.guards.checks.every((c) => c.ok),
    forced: header.guards.forced,
  });
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
    // risen: levels the plan takes from no stock to some (the location is not emptied while one does).
    const byLocation = new Map<string, { locationId: string; changes: number; totalAbsDelta: number; zeroed: number; risen: number }>();
    for (const row of diff.planRows('changes')) {
      const change = toChange(row);
      writer.change(change, formulaOf(row));
      const location = byLocation.get(change.locationId) ?? { locationId: change.locationId, changes: 0, totalAbsDelta: 0, zeroed: 0, risen: 0 };
      byLocation.set(change.locationId, location);
      const zeroes = change.to === 0 && change.from > 0 ? 1 : 0;
      changes++;
      zeroed += zeroes;
      unitsUp += Math.max(0, change.delta);
      unitsDown += Math.max(0, -change.delta);
      location.changes++;
      location.totalAbsDelta += Math.abs(change.delta);
      location.zeroed += zeroes;
      if (change.from <= 0 && change.to > 0) location.risen++;
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
    const inactive = new Set(diff.inactiveWarehouses);
    const references = guardReferences(db, config, diff.erpSnapshot, inactive);
    const checks = evaluateGuards(config.guards, {
      changes,
      zeroed,
      levelsCompared: diff.summary.levelsCompared,
      erpRows: diff.erpSnapshot.rowCount - rowsIn(db, diff.erpSnapshot, inactive),
      inactiveWarehouses: [...inactive].sort(),
      references,
      byLocation: diff.summary.byLocation.map((l) => {
        const here = byLocation.get(l.locationId);
        const zeroedHere = here?.zeroed ?? 0;
        return {
          locationName: l.locationName,
          compared: l.levelsCompared,
          zeroed: zeroedHere,
          stockedBefore: l.stocked,
          stockedAfter: l.stocked - zeroedHere + (here?.risen ?? 0),
        };
      }),
    });
    const removedSkus = removedSkusIssue(db, config, diff.erpSnapshot, references);
    const passed = checks.every((c) => c.ok);
    const { header, path } = writer.finish(
      {
        tool: { name: 'invrecon', version: toolVersion },
        // The newest input's time, not the clock: the same snapshots give a byte-identical plan.
        createdAt: [diff.erpSnapshot.takenAt, diff.shopifySnapshot.takenAt].sort().at(-1)!,
        shop: config.shopify.shop,
        apiVersion: config.shopify.apiVersion,
        baseline: { erp: snapshotRef(diff.erpSnapshot), shopify: snapshotRef(diff.shopifySnapshot) },
        guards: { applyable: passed || Boolean(options.force), forced: !passed && Boolean(options.force), checks, references },
        summary: {
          changes,
          zeroed,
          levelsCompared: diff.summary.levelsCompared,
          unitsUp,
          unitsDown,
          erpCorrections,
          conflicts: diff.summary.reported.conflict,
          leftOut: diff.summary.leftOut,
          byLocation: [...byLocation.values()]
            .map(({ risen: _risen, ...l }) => l)
            .sort((a, b) => (a.locationId < b.locationId ? -1 : a.locationId > b.locationId ? 1 : 0)),
        },
        issues: removedSkus ? [...diff.issues, removedSkus] : diff.issues,
      },
      (digest) => target.out ?? defaultPlanPath(config.snapshot.path, digest),
    );
    rememberPlan(db, config, header.digest);
    return { header, path, diff };
  } catch (error) {
    writer.abandon();
    throw error;
  }
}
