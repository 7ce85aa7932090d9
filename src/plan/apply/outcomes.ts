// What an apply reports: the result shape, the rows left undone and why, and the hybrid base it leaves.
// Counted batch by batch as the plan is read: the rows listed are capped, the counts are not.
import type { BatchOutcome } from '../../store/applies.js';
import type { Db } from '../../store/db.js';
import type { HybridBase, PlanChange, PlanHeader } from '../model.js';
import type { PlannedBatch } from './batches.js';

/** Rows a dry run previews (the first batches), and rows of each kind a result lists: the counts cover all. */
export const PREVIEW_ROWS = 1000;
export const REPORT_ROWS = 1000;

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
  /** Not in `applied`: rows another run applied under the same idempotency key, whose answer Shopify replayed. */
  replayed: number;
  skipped: number;
  conflicts: number;
  /** Rows whose answer was lost and whose level is neither from nor target: left for the next plan. */
  unresolved: number;
  failed: number;
  /** Rows sent with another from and target than planned (carriedRows lists the first of them). */
  carried: number;
  alreadyApplied: boolean;
  resumed: boolean;
  /** Differences from its baseline that --unverified let through (empty when verified). */
  unverified: string[];
  /** Every row and batch the plan sends; `batches` previews the first PREVIEW_ROWS rows of them. */
  plannedRows: number;
  plannedBatches: number;
  batches: { batchNo: number; mode: PlanChange['mode']; rows: PreviewRow[] }[];
  /** A live dry run: changes Shopify no longer shows at their planned from (of plannedRows). */
  liveStale?: number;
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

export function emptyResult(plan: Pick<PlanHeader, 'digest'>, dryRun: boolean): ApplyResult {
  return {
    planDigest: plan.digest,
    dryRun,
    applied: 0,
    confirmed: 0,
    replayed: 0,
    skipped: 0,
    conflicts: 0,
    unresolved: 0,
    failed: 0,
    carried: 0,
    alreadyApplied: false,
    resumed: false,
    unverified: [],
    plannedRows: 0,
    plannedBatches: 0,
    batches: [],
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

/** Counts a batch the plan sends, and previews its rows while fewer than PREVIEW_ROWS are. */
export function previewBatch(result: ApplyResult, batch: PlannedBatch): PreviewRow[] | undefined {
  result.plannedRows += batch.rows.length;
  result.plannedBatches++;
  const shown = result.batches.reduce((n, b) => n + b.rows.length, 0);
  if (shown >= PREVIEW_ROWS) return undefined;
  const rows = batch.rows
    .slice(0, PREVIEW_ROWS - shown)
    .map((c) => ({ sku: c.sku, locationName: c.locationName, inventoryItemId: c.inventoryItemId, locationId: c.locationId, from: c.from, to: c.to }));
  result.batches.push({ batchNo: batch.batchNo, mode: batch.mode, rows });
  return rows;
}

function rowReport(c: PlanChange, current: number | null, message: string): RowReport {
  return { sku: c.sku, locationName: c.locationName, from: c.from, to: c.to, current, message };
}

/** Refusals whose cause the plan cannot have known: a shop changed since the snapshot (see docs/reconcile.md, "Left out"). */
const FAILURE_HINTS: Readonly<Record<string, string>> = {
  NON_MUTABLE_INVENTORY_ITEM: 'Shopify takes no quantities for this item: untracked since the plan, or a bundle; a new plan leaves untracked items out',
  INVALID_LOCATION: 'the location was deactivated or removed since the plan; a new plan leaves inactive locations out',
};

function failureMessage(code: string, message: string): string {
  const hint = FAILURE_HINTS[code];
  return `${code}: ${message}${hint ? ` (${hint})` : ''}`;
}

/** Rows left undone: conflicts, unresolved and failed (the exit code 3 count). */
export function undone(result: Pick<ApplyResult, 'conflicts' | 'unresolved' | 'failed'>): number {
  return result.conflicts + result.unresolved + result.failed;
}

/**
 * Counts a batch the plan sends and adds its outcomes (every attempt) to the result; a row carried more than
 * once is listed with its last carry.
 */
export function countBatchOutcomes(batch: PlannedBatch, outcomes: BatchOutcome[], result: ApplyResult): void {
  result.plannedRows += batch.rows.length;
  result.plannedBatches++;
  const first = batch.changes[0] ?? 0;
  const change = (index: number) => batch.rows[index - first]!;
  const list = <T>(rows: T[], row: () => T) => {
    if (rows.length < REPORT_ROWS) rows.push(row());
  };
  const carried = new Map<number, CarriedReport>();
  for (const outcome of outcomes) {
    const replayed = outcome.applied.filter((a) => a.replayed).length;
    result.applied += outcome.applied.length - replayed;
    result.replayed += replayed;
    result.confirmed += outcome.applied.filter((a) => a.confirmed && !a.replayed).length;
    result.skipped += outcome.skipped.length;
    result.conflicts += outcome.conflicts.length;
    result.unresolved += outcome.unresolved?.length ?? 0;
    result.failed += outcome.failed.length;
    for (const c of outcome.conflicts) list(result.conflictRows, () => rowReport(change(c.change), c.current, c.message));
    for (const u of outcome.unresolved ?? []) list(result.unresolvedRows, () => rowReport(change(u.change), u.current, u.message));
    for (const f of outcome.failed) list(result.failedRows, () => rowReport(change(f.change), null, failureMessage(f.code, f.message)));
    for (const c of outcome.carried ?? []) {
      const planned = change(c.change);
      carried.set(c.change, {
        sku: planned.sku,
        locationName: planned.locationName,
        from: planned.from,
        to: planned.to,
        sentFrom: c.sentFrom,
        sentTo: c.sentTo,
        why: c.why,
      });
    }
  }
  result.carried += carried.size;
  for (const row of carried.values()) list(result.carriedRows, () => row);
}

/** Writes the hybrid base: what both sides agreed on once this plan is applied. */
export function reconciledWriter(db: Db, plan: Pick<PlanHeader, 'baseline' | 'digest'>) {
  const upsert = db.prepare(
    `INSERT INTO reconciled_levels (sku, location_id, erp_available, shopify_available, erp_snapshot_id, shopify_snapshot_id, plan_digest, reconciled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sku, location_id) DO UPDATE SET erp_available = excluded.erp_available, shopify_available = excluded.shopify_available,
       erp_snapshot_id = excluded.erp_snapshot_id, shopify_snapshot_id = excluded.shopify_snapshot_id, plan_digest = excluded.plan_digest, reconciled_at = excluded.reconciled_at`,
  );
  const at = new Date().toISOString();
  const put = (sku: string, locationId: string, erp: number, shopify: number) =>
    upsert.run(sku, locationId, erp, shopify, plan.baseline.erp.snapshotId, plan.baseline.shopify.snapshotId, plan.digest, at);
  return {
    bases(bases: Iterable<HybridBase>): void {
      for (const b of bases) put(b.sku, b.locationId, b.erpAvailable, b.shopifyAvailable);
    },
    batch(batch: PlannedBatch, outcomes: BatchOutcome[]): void {
      const first = batch.changes[0] ?? 0;
      for (const outcome of outcomes) {
        for (const a of outcome.applied) {
          const c = batch.rows[a.change - first]!;
          put(c.sku, c.locationId, c.erpAvailable, a.after);
        }
        for (const s of outcome.skipped) {
          const c = batch.rows[s.change - first]!;
          put(c.sku, c.locationId, c.erpAvailable, s.current);
        }
      }
    },
  };
}
