// Apply's decisions, apart from its I/O: from the rows of one call, Shopify's answer and (after a
// compare-and-swap miss) the levels as they are now, what happened to each row, what goes next, under
// which key, and how many rows the next call sends. Pure: the apply loop and `watch` both call it.
import type { InventoryChangeNode, UserError } from '../../sources/shopify/documents.js';
import type { BatchOutcome, BatchRow } from '../../store/applies.js';
import { signed } from '../../text.js';

export type WriteMode = 'set' | 'adjust';

/** What the plan (or the event) says of the level a row writes. */
export interface LevelFacts {
  inventoryItemId: string;
  locationId: string;
  /** The planned from → to; carry-forward keeps `to + (now − from)`. */
  from: number;
  to: number;
}

/**
 * Shopify's answer to one call. `uncertain`: an earlier send of these very rows may have been applied
 * although its answer never came (a timeout, a reset, a run killed mid-call): Shopify may have forgotten
 * the key since, and run the call again.
 */
export type Answer =
  | {
      kind: 'answered';
      userErrors: readonly UserError[];
      changes: readonly InventoryChangeNode[];
      uncertain: boolean;
      /** Shopify replayed the answer of another run's call under the same key (see isReplay): what it lists was applied then, not now. */
      replayed?: boolean;
    }
  /** No answer at all: the outcome is unknown. */
  | { kind: 'lost' }
  /** Refused before it ran as costing more than one query may (MAX_COST_EXCEEDED): nothing was applied. */
  | { kind: 'too-costly'; cost?: number; maxCost?: number };

export interface DecideInput {
  mode: WriteMode;
  rows: readonly BatchRow[];
  level(change: number): LevelFacts;
  /** Who else wrote this level since the baseline (another plan, another install), if anyone: a miss there is never carried forward. */
  movedBy?(change: number): string | undefined;
  answer: Answer;
  /** `available` now of the rows that came back CHANGE_FROM_QUANTITY_STALE (see rowsToReread); null: not stocked. */
  current?: ReadonlyMap<number, number | null>;
  /** Misses after which a row that keeps moving is given up as a conflict. */
  maxMisses: number;
  /** The most rows one call may carry (250). */
  maxSize: number;
}

/** What a call did, for the audit log: never `applied` for a miss. */
export type CallVerdict =
  | 'applied'
  | 'too-costly'
  | 'partial'
  | 'stale'
  | 'carried'
  | 'unresolved'
  | 'failed'
  | 'unknown'
  | 'concurrent-request'
  | 'previous-attempt-failed'
  | 'refused';

export interface Decision {
  /** Rows finished by this call (applied, skipped, given up), and those carried forward to be sent again. */
  outcome: BatchOutcome;
  /** Rows to send again, ahead of any left for later. */
  next: BatchRow[];
  /** `same`: send the very same call again (same key); `next`: the next rows under a new key; `none`: nothing left here. */
  key: 'same' | 'next' | 'none';
  /** Wait before the next send (Shopify is still running a call with this key). */
  waitMs: number;
  /** How many rows the next call sends: halved after a miss (one moved level fails the whole call), doubled after a success. */
  size: number;
  verdict: CallVerdict;
  /** Errors tied to no row: the call was refused as a whole, and sending it again would not help. */
  refused?: string;
}

export const STALE = 'CHANGE_FROM_QUANTITY_STALE';
export const CONCURRENT_REQUEST = 'IDEMPOTENCY_CONCURRENT_REQUEST';
export const PREVIOUS_ATTEMPT_FAILED = 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED';
/** How long to wait for Shopify to finish a call with the same key before asking again. */
export const CONCURRENT_WAIT_MS = 1000;

export function emptyOutcome(): BatchOutcome {
  return { applied: [], conflicts: [], failed: [], skipped: [], unresolved: [], carried: [] };
}

/** The value a row leaves its level at once applied. */
export function rowTarget(mode: WriteMode, row: BatchRow): number {
  return mode === 'set' ? row.value : row.changeFromQuantity + row.value;
}

/** What sold (or arrived) since the plan is kept: the planned target moved by the same amount, never below 0. */
export function carriedTarget(level: Pick<LevelFacts, 'from' | 'to'>, now: number): number {
  return Math.max(0, level.to + (now - level.from));
}

/**
 * Whether an answer is Shopify replaying an older call under the same idempotency key: its adjustment group
 * was created before `notBefore` (Shopify's time when this run claimed the shop, before it sent anything),
 * so another run sent it (a run whose database is gone, or another install applying the same plan). Both
 * times are Shopify's; the second of margin absorbs whole-second timestamps and skew between its servers.
 */
export function isReplay(createdAt: string | undefined, notBefore: string | undefined): boolean {
  if (createdAt === undefined || notBefore === undefined) return false;
  const created = Date.parse(createdAt);
  const claimed = Date.parse(notBefore);
  return Number.isFinite(created) && Number.isFinite(claimed) && created < claimed - REPLAY_MARGIN_MS;
}
const REPLAY_MARGIN_MS = 1000;

/** The row a user error points at: field ["input", "quantities" | "changes", "3", ...]. */
export function rowIndexOf(error: UserError): number | undefined {
  const index = error.field?.[2];
  return index !== undefined && /^\d+$/.test(index) ? Number(index) : undefined;
}

function unplacedErrors(rows: readonly BatchRow[], errors: readonly UserError[]): UserError[] {
  return errors.filter((e) => {
    const index = rowIndexOf(e);
    return index === undefined || index >= rows.length;
  });
}

/** Rows listed in inventoryAdjustmentGroup.changes (`available`), by row position. */
function changedRows(input: Pick<DecideInput, 'rows' | 'level'>, changes: readonly InventoryChangeNode[]): Map<number, InventoryChangeNode> {
  // By item, then location: no key string built for each of a call's 250 levels, twice.
  const byItem = new Map<string | undefined, Map<string | undefined, InventoryChangeNode>>();
  for (const c of changes) {
    if (c.name !== 'available') continue;
    let atLocation = byItem.get(c.item?.id);
    if (!atLocation) byItem.set(c.item?.id, (atLocation = new Map()));
    atLocation.set(c.location?.id, c);
  }
  const found = new Map<number, InventoryChangeNode>();
  input.rows.forEach((row, i) => {
    const level = input.level(row.change);
    const change = byItem.get(level.inventoryItemId)?.get(level.locationId);
    if (change) found.set(i, change);
  });
  return found;
}

/** The rows whose level must be read again before `decide` can say what to do with them. */
export function rowsToReread(input: Pick<DecideInput, 'rows' | 'level' | 'answer'>): BatchRow[] {
  const { answer, rows } = input;
  if (answer.kind !== 'answered' || answer.userErrors.length === 0 || unplacedErrors(rows, answer.userErrors).length > 0) return [];
  const changed = changedRows(input, answer.changes);
  return answer.userErrors.flatMap((e) => {
    const index = rowIndexOf(e)!;
    return e.code === STALE && !changed.has(index) ? [rows[index]!] : [];
  });
}

function verdictOf(outcome: BatchOutcome): CallVerdict {
  if (outcome.unresolved!.length > 0) return 'unresolved';
  if (outcome.carried!.length > 0) return 'carried';
  if (outcome.failed.length > 0) return 'failed';
  if (outcome.applied.length > 0) return 'partial';
  return 'stale';
}

export function decide(input: DecideInput): Decision {
  const { mode, rows, answer } = input;
  const outcome = emptyOutcome();
  if (answer.kind === 'lost') {
    // Shopify may have applied it: the same call again, under the same key, replays its answer while Shopify remembers it.
    return { outcome, next: rows.map((r) => ({ ...r, unknown: true })), key: 'same', waitMs: 0, size: rows.length, verdict: 'unknown' };
  }
  if (answer.kind === 'too-costly') {
    // Smaller calls cost less: the same rows go under the next key, as many as the limit allows.
    const ratio = answer.cost && answer.maxCost ? answer.maxCost / answer.cost : 0.5;
    const size = Math.max(1, Math.min(rows.length - 1, Math.floor(rows.length * Math.min(ratio, 0.5))));
    return { outcome, next: [...rows], key: 'next', waitMs: 0, size, verdict: 'too-costly' };
  }
  const unplaced = unplacedErrors(rows, answer.userErrors);
  if (unplaced.length > 0) {
    // Shopify is still working on a call with this key (sent by a run that was killed, or a retry): wait for it.
    if (unplaced.some((e) => e.code === CONCURRENT_REQUEST)) {
      return { outcome, next: [...rows], key: 'same', waitMs: CONCURRENT_WAIT_MS, size: rows.length, verdict: 'concurrent-request' };
    }
    // Shopify keeps a failed call's answer under its key; that call changed nothing, so the same rows go under the next key.
    if (unplaced.every((e) => e.code === PREVIOUS_ATTEMPT_FAILED)) {
      return { outcome, next: [...rows], key: 'next', waitMs: 0, size: rows.length, verdict: 'previous-attempt-failed' };
    }
    const refused = unplaced.map((e) => `${e.code ?? 'error'}: ${e.message}`).join('; ');
    return { outcome, next: [], key: 'none', waitMs: 0, size: rows.length, verdict: 'refused', refused };
  }

  // Whatever else the answer says, a level Shopify lists as changed was applied.
  const changed = changedRows(input, answer.changes);
  // A replayed answer's rows were applied by the run that sent it first, not by this call.
  const replayed = answer.replayed ? ({ replayed: true } as const) : {};
  const applied = (row: BatchRow, change: InventoryChangeNode | undefined) => {
    const after = change?.quantityAfterChange ?? rowTarget(mode, row);
    outcome.applied.push({ change: row.change, before: change ? after - change.delta : row.changeFromQuantity, after, ...replayed });
  };
  if (answer.userErrors.length === 0) {
    rows.forEach((row, i) => applied(row, changed.get(i)));
    const size = Math.min(input.maxSize, Math.max(1, rows.length * 2));
    return { outcome, next: [], key: 'next', waitMs: 0, size, verdict: 'applied' };
  }

  const errorsByRow = new Map<number, UserError>();
  for (const error of answer.userErrors) errorsByRow.set(rowIndexOf(error)!, error);
  const next: BatchRow[] = [];
  rows.forEach((row, i) => {
    const change = changed.get(i);
    if (change) return applied(row, change);
    const error = errorsByRow.get(i);
    // Not applied by this call (all or nothing); after a lost answer it may have been by the earlier one.
    if (!error) return next.push(answer.uncertain ? { ...row, unknown: true } : row);
    if (error.code !== STALE) return outcome.failed.push({ change: row.change, code: error.code ?? 'error', message: error.message });
    const now = input.current?.get(row.change);
    if (now === undefined) return outcome.unresolved!.push({ change: row.change, current: null, message: 'its level could not be read again' });
    if (now === null) return outcome.failed.push({ change: row.change, code: 'ITEM_NOT_STOCKED_AT_LOCATION', message: 'the level is gone' });
    const sentTarget = rowTarget(mode, row);
    if (row.unknown || answer.uncertain) {
      // An earlier send may have applied it: a miss here is no sale, so it is never carried forward.
      if (now === sentTarget) return outcome.applied.push({ change: row.change, before: row.changeFromQuantity, after: now, confirmed: true, ...replayed });
      return outcome.unresolved!.push({
        change: row.change,
        current: now,
        message: `an earlier answer was lost, and the level is now ${now}, not ${sentTarget}: Shopify may or may not have applied it; make a new plan`,
      });
    }
    const movedBy = input.movedBy?.(row.change);
    if (movedBy !== undefined) return outcome.conflicts.push({ change: row.change, current: now, message: `${movedBy} changed this level since the snapshot` });
    const level = input.level(row.change);
    const target = carriedTarget(level, now);
    if (now === target) return outcome.skipped.push({ change: row.change, current: now });
    if (row.misses + 1 >= input.maxMisses) {
      return outcome.conflicts.push({
        change: row.change,
        current: now,
        message: `the level kept changing (${row.misses + 1} compare-and-swap miss${row.misses === 0 ? '' : 'es'})`,
      });
    }
    outcome.carried!.push({
      change: row.change,
      sentFrom: now,
      sentTo: target,
      why: `Shopify showed ${now} instead of ${row.changeFromQuantity}: the ${signed(now - level.from)} since the plan is kept`,
    });
    next.push({ change: row.change, changeFromQuantity: now, value: mode === 'set' ? target : target - now, misses: row.misses + 1 });
  });
  const size = Math.max(1, Math.floor(rows.length / 2));
  return { outcome, next, key: 'next', waitMs: 0, size, verdict: verdictOf(outcome) };
}

/** One line for the audit log: what each row of the call came to. */
export function describeDecision(decision: Decision): string {
  const o = decision.outcome;
  const parts: string[] = [];
  const add = (n: number, word: string) => n > 0 && parts.push(`${n} ${word}`);
  add(o.applied.filter((a) => !a.confirmed && !a.replayed).length, 'applied');
  add(o.applied.filter((a) => a.confirmed && !a.replayed).length, 'confirmed at target after a lost answer');
  add(o.applied.filter((a) => a.replayed).length, 'applied earlier under this key (a replayed answer)');
  add(o.skipped.length, 'already at target');
  add(o.carried?.length ?? 0, 'carried forward');
  add(o.unresolved?.length ?? 0, 'unresolved');
  add(o.conflicts.length, 'conflicts');
  add(o.failed.length, 'failed');
  const carried = new Set(o.carried?.map((c) => c.change));
  add(decision.next.filter((r) => !carried.has(r.change)).length, 'sent again unchanged');
  if (decision.refused) parts.push(decision.refused);
  return parts.join(', ');
}
