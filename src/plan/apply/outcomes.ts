// What an apply reports: the result shape, the rows left undone and why, and the hybrid base it leaves.
import type { BatchOutcome } from '../../store/applies.js';
import type { Db } from '../../store/db.js';
import type { Plan, PlanChange } from '../model.js';
import type { PlannedBatch } from './batches.js';

export interface RowReport {
  sku: string;
  locationName: string;
  from: number;
  to: number;
  current: number | null;
  message: string;
}

/** A row sent with another from and target than planned, after a compare-and-swap miss. */
export interface CarriedReport {
  sku: string;
  locationName: string;
  /** Planned from → to. */
  from: number;
  to: number;
  /** What was sent instead. */
  sentFrom: number;
  sentTo: number;
  why: string;
}

export interface PreviewRow {
  sku: string;
  locationName: string;
  inventoryItemId: string;
  locationId: string;
  from: number;
  to: number;
  /** With a live dry run: Shopify's available now (null: not stocked), and the value that would be sent. */
  current?: number | null;
  wouldSend?: number | null;
}

export interface ApplyResult {
  planDigest: string;
  dryRun: boolean;
  applied: number;
  /** Of `applied`: rows whose answer was lost, found at their target when read again. */
  confirmed: number;
  skipped: number;
  conflicts: number;
  /** Rows whose answer was lost and whose level is neither from nor target: left for the next plan. */
  unresolved: number;
  failed: number;
  alreadyApplied: boolean;
  resumed: boolean;
  /** Differences from its baseline that --unverified let through (empty when verified). */
  unverified: string[];
  batches: { batchNo: number; mode: PlanChange['mode']; rows: PreviewRow[] }[];
  conflictRows: RowReport[];
  unresolvedRows: RowReport[];
  failedRows: RowReport[];
  carriedRows: CarriedReport[];
  calls: number;
  retries: number;
  throttledWaits: number;
  /** Most calls in flight at once. */
  peakInFlight: number;
  durationMs: number;
}

export function emptyResult(plan: Plan, dryRun: boolean, batches: PlannedBatch[]): ApplyResult {
  return {
    planDigest: plan.digest,
    dryRun,
    applied: 0,
    confirmed: 0,
    skipped: 0,
    conflicts: 0,
    unresolved: 0,
    failed: 0,
    alreadyApplied: false,
    resumed: false,
    unverified: [],
    batches: previewBatches(plan, batches),
    conflictRows: [],
    unresolvedRows: [],
    failedRows: [],
    carriedRows: [],
    calls: 0,
    retries: 0,
    throttledWaits: 0,
    peakInFlight: 0,
    durationMs: 0,
  };
}

function previewBatches(plan: Plan, batches: PlannedBatch[]): ApplyResult['batches'] {
  return batches.map((b) => ({
    batchNo: b.batchNo,
    mode: b.mode,
    rows: b.changes.map((i) => {
      const c = plan.changes[i]!;
      return { sku: c.sku, locationName: c.locationName, inventoryItemId: c.inventoryItemId, locationId: c.locationId, from: c.from, to: c.to };
    }),
  }));
}

function rowReport(plan: Plan, change: number, current: number | null, message: string): RowReport {
  const c = plan.changes[change]!;
  return { sku: c.sku, locationName: c.locationName, from: c.from, to: c.to, current, message };
}

/** Rows left undone: conflicts, unresolved and failed (the exit code 3 count). */
export function undone(result: Pick<ApplyResult, 'conflicts' | 'unresolved' | 'failed'>): number {
  return result.conflicts + result.unresolved + result.failed;
}

/** Adds every attempt's outcome to the result; a row carried more than once is listed with its last carry. */
export function countOutcomes(plan: Plan, outcomes: BatchOutcome[], result: ApplyResult): void {
  const carried = new Map<number, CarriedReport>();
  for (const outcome of outcomes) {
    result.applied += outcome.applied.length;
    result.confirmed += outcome.applied.filter((a) => a.confirmed).length;
    result.skipped += outcome.skipped.length;
    for (const c of outcome.conflicts) result.conflictRows.push(rowReport(plan, c.change, c.current, c.message));
    for (const u of outcome.unresolved ?? []) result.unresolvedRows.push(rowReport(plan, u.change, u.current, u.message));
    for (const f of outcome.failed) result.failedRows.push(rowReport(plan, f.change, null, `${f.code}: ${f.message}`));
    for (const c of outcome.carried ?? []) {
      const change = plan.changes[c.change]!;
      carried.set(c.change, { sku: change.sku, locationName: change.locationName, from: change.from, to: change.to, sentFrom: c.sentFrom, sentTo: c.sentTo, why: c.why });
    }
  }
  result.carriedRows = [...carried.values()];
  result.conflicts = result.conflictRows.length;
  result.unresolved = result.unresolvedRows.length;
  result.failed = result.failedRows.length;
}

/** The hybrid base: what both sides agreed on once this plan is applied. */
export function recordReconciled(db: Db, plan: Plan, outcomes: BatchOutcome[]): void {
  const upsert = db.prepare(
    `INSERT INTO reconciled_levels (sku, location_id, erp_available, shopify_available, erp_snapshot_id, shopify_snapshot_id, plan_digest, reconciled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sku, location_id) DO UPDATE SET erp_available = excluded.erp_available, shopify_available = excluded.shopify_available,
       erp_snapshot_id = excluded.erp_snapshot_id, shopify_snapshot_id = excluded.shopify_snapshot_id, plan_digest = excluded.plan_digest, reconciled_at = excluded.reconciled_at`,
  );
  const at = new Date().toISOString();
  const put = (sku: string, locationId: string, erp: number, shopify: number) =>
    upsert.run(sku, locationId, erp, shopify, plan.baseline.erp.snapshotId, plan.baseline.shopify.snapshotId, plan.digest, at);
  db.transaction(() => {
    for (const b of plan.hybridBaseline) put(b.sku, b.locationId, b.erpAvailable, b.shopifyAvailable);
    for (const outcome of outcomes) {
      for (const a of outcome.applied) put(plan.changes[a.change]!.sku, plan.changes[a.change]!.locationId, plan.changes[a.change]!.erpAvailable, a.after);
      for (const s of outcome.skipped) put(plan.changes[s.change]!.sku, plan.changes[s.change]!.locationId, plan.changes[s.change]!.erpAvailable, s.current);
    }
  })();
}
