// How a plan is cut into calls: batches of at most 250 rows (sets and adjusts apart), each with its own
// sequence of idempotency keys. A plan file lists its sets before its adjusts, so the batches are runs of
// consecutive changes, cut as the file is read: never all of them at once.
import type { BatchRow } from '../../store/applies.js';
import type { PlanChange, PlanHeader } from '../model.js';

/** Shopify takes at most 250 rows per inventory mutation. */
export const BATCH_SIZE = 250;

export interface PlannedBatch {
  batchNo: number;
  mode: PlanChange['mode'];
  /** Ordinals of its changes in the plan (their position in the file). */
  changes: number[];
  /** The changes themselves, in the same order. */
  rows: PlanChange[];
}

/** Cuts changes (in plan order) into batches of at most `size` consecutive changes of one mode, as they are read. */
export function* streamBatches(changes: Iterable<PlanChange>, size = BATCH_SIZE): Generator<PlannedBatch> {
  let batch: PlannedBatch | undefined;
  let index = 0;
  let batchNo = 0;
  for (const change of changes) {
    if (batch && (batch.mode !== change.mode || batch.rows.length >= size)) {
      yield batch;
      batch = undefined;
    }
    batch ??= { batchNo: ++batchNo, mode: change.mode, changes: [], rows: [] };
    batch.changes.push(index++);
    batch.rows.push(change);
  }
  if (batch) yield batch;
}

/** Every batch of a plan held in memory (small plans, tests). */
export function planBatches(plan: { changes: Iterable<PlanChange> }, size = BATCH_SIZE): PlannedBatch[] {
  return [...streamBatches(plan.changes, size)];
}

export function idempotencyKey(plan: Pick<PlanHeader, 'digest'>, batchNo: number, attempt: number): string {
  return `invrecon-${plan.digest.slice(0, 32)}-b${batchNo}-a${attempt}`;
}

/** The first attempt's rows: the plan's from as compare-and-swap, its target (set) or delta (adjust). */
export function initialRows(batch: PlannedBatch): BatchRow[] {
  return batch.rows.map((c, i) => ({ change: batch.changes[i]!, changeFromQuantity: c.from, value: c.mode === 'set' ? c.to : c.to - c.from, misses: 0 }));
}
