// How a plan is cut into calls: batches of at most 250 rows (sets and adjusts apart), each with its own
// sequence of idempotency keys.
import type { BatchRow } from '../../store/applies.js';
import type { Plan, PlanChange } from '../model.js';

/** Shopify takes at most 250 rows per inventory mutation. */
export const BATCH_SIZE = 250;

export interface PlannedBatch {
  batchNo: number;
  mode: PlanChange['mode'];
  /** Indexes into plan.changes. */
  changes: number[];
}

/** Splits the plan into batches of at most 250 rows, sets and adjusts apart, in plan order. */
export function planBatches(plan: Pick<Plan, 'changes'>, size = BATCH_SIZE): PlannedBatch[] {
  const batches: PlannedBatch[] = [];
  for (const mode of ['set', 'adjust'] as const) {
    const indexes = plan.changes.flatMap((c, i) => (c.mode === mode ? [i] : []));
    for (let at = 0; at < indexes.length; at += size) batches.push({ batchNo: batches.length + 1, mode, changes: indexes.slice(at, at + size) });
  }
  return batches;
}

export function idempotencyKey(plan: Pick<Plan, 'digest'>, batchNo: number, attempt: number): string {
  return `invrecon-${plan.digest.slice(0, 32)}-b${batchNo}-a${attempt}`;
}

/** The first attempt's rows: the plan's from as compare-and-swap, its target (set) or delta (adjust). */
export function initialRows(plan: Pick<Plan, 'changes'>, batch: PlannedBatch): BatchRow[] {
  return batch.changes.map((i) => {
    const c = plan.changes[i]!;
    return { change: i, changeFromQuantity: c.from, value: c.mode === 'set' ? c.to : c.to - c.from, misses: 0 };
  });
}
