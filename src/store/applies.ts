import { statement, type Db } from './db.js';

// Apply progress: every attempt of every batch is recorded (its exact request and key) before it is
// sent, and its outcome after. A killed apply resumes from here, re-sending an open attempt with the
// same idempotency key, so Shopify applies it at most once.

export type ApplyStatus = 'running' | 'done' | 'conflicts' | 'failed';

export interface BatchRow {
  /** Index into plan.changes. */
  change: number;
  changeFromQuantity: number;
  /** set: the absolute quantity; adjust: the delta. */
  value: number;
  /** Compare-and-swap misses so far for this row. */
  misses: number;
  /**
   * An earlier send of this row may have been applied although its answer was lost (a timeout, a reset, a
   * killed run): a later compare-and-swap miss is then never carried forward as a sale.
   */
  unknown?: true;
}

export interface BatchOutcome {
  /** `confirmed`: the call's answer was lost, and a re-read found the level at the row's target. */
  /** `replayed`: Shopify replayed another run's answer under the same key: applied by that run, not this one. */
  applied: { change: number; before: number; after: number; confirmed?: true; replayed?: true }[];
  /** Rows that kept going stale and were given up, with the last value seen. */
  conflicts: { change: number; current: number | null; message: string }[];
  failed: { change: number; code: string; message: string }[];
  /** Rows already at their target when re-read: nothing to send. */
  skipped: { change: number; current: number }[];
  /**
   * Rows of a call whose answer was lost that came back stale and whose level is neither where the row
   * was sent from nor at its target: Shopify may or may not have applied them. Left for the next plan.
   */
  unresolved?: { change: number; current: number | null; message: string }[];
  /** Rows re-sent with a new from and target after a compare-and-swap miss: what was planned and what was sent. */
  carried?: CarriedRow[];
}

export interface CarriedRow {
  change: number;
  /** The value Shopify showed instead of the row's changeFromQuantity. */
  sentFrom: number;
  /** The new target: the planned one plus what moved since the plan. */
  sentTo: number;
  why: string;
}

export interface BatchAttempt {
  batchNo: number;
  attempt: number;
  idempotencyKey: string;
  status: 'open' | 'done';
  /** The rows this attempt sends. */
  rows: BatchRow[];
  /** Rows of the batch waiting for a later attempt (the batch shrinks while levels keep moving). */
  later: BatchRow[];
  outcome: BatchOutcome | null;
}

export function startApply(db: Db, digest: string, planPath: string, shop: string): { status: ApplyStatus; resumed: boolean } {
  const existing = db.prepare('SELECT status FROM applies WHERE plan_digest = ?').pluck().get(digest) as ApplyStatus | undefined;
  if (existing) {
    if (existing !== 'done') db.prepare("UPDATE applies SET status = 'running', plan_path = ? WHERE plan_digest = ?").run(planPath, digest);
    return { status: existing, resumed: true };
  }
  db.prepare("INSERT INTO applies (plan_digest, plan_path, shop, started_at, status) VALUES (?, ?, ?, ?, 'running')").run(
    digest,
    planPath,
    shop,
    new Date().toISOString(),
  );
  return { status: 'running', resumed: false };
}

export function finishApply(db: Db, digest: string, status: ApplyStatus): void {
  db.prepare('UPDATE applies SET status = ?, finished_at = ? WHERE plan_digest = ?').run(status, new Date().toISOString(), digest);
}

export function applyStatus(db: Db, digest: string): ApplyStatus | undefined {
  return db.prepare('SELECT status FROM applies WHERE plan_digest = ?').pluck().get(digest) as ApplyStatus | undefined;
}

/** The newest attempt of a batch; `planned`: the rows of a first attempt recorded as "the plan's rows, as planned". */
export function latestAttempt(db: Db, digest: string, batchNo: number, planned: () => BatchRow[]): BatchAttempt | undefined {
  const row = statement(
    db,
    'SELECT batch_no, attempt, idempotency_key, status, request, result FROM apply_batches WHERE plan_digest = ? AND batch_no = ? ORDER BY attempt DESC LIMIT 1',
  ).get(digest, batchNo) as
    { batch_no: number; attempt: number; idempotency_key: string; status: 'open' | 'done'; request: string | null; result: string | null } | undefined;
  if (!row) return undefined;
  return {
    batchNo: row.batch_no,
    attempt: row.attempt,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    ...(row.request === null ? { rows: planned(), later: [] } : (JSON.parse(row.request) as { rows: BatchRow[]; later: BatchRow[] })),
    outcome: row.result ? (JSON.parse(row.result) as BatchOutcome) : null,
  };
}

export function allOutcomes(db: Db, digest: string): BatchOutcome[] {
  return (
    db.prepare("SELECT result FROM apply_batches WHERE plan_digest = ? AND status = 'done' ORDER BY batch_no, attempt").pluck().all(digest) as string[]
  ).map((r) => JSON.parse(r) as BatchOutcome);
}

/** Every recorded outcome of one batch (all its attempts, in order): an apply adds them up batch by batch. */
export function batchOutcomes(db: Db, digest: string, batchNo: number): BatchOutcome[] {
  return (
    statement(db, "SELECT result FROM apply_batches WHERE plan_digest = ? AND batch_no = ? AND status = 'done' ORDER BY attempt")
      .pluck()
      .all(digest, batchNo) as string[]
  ).map((r) => JSON.parse(r) as BatchOutcome);
}

/**
 * Records an attempt before it is sent: its rows, the rows left for later, and its key are fixed from here on.
 * `rows` undefined: the batch's rows as planned (a first attempt), which the plan holds already.
 */
export function openAttempt(db: Db, digest: string, batchNo: number, attempt: number, key: string, rows?: BatchRow[], later: BatchRow[] = []): void {
  statement(
    db,
    "INSERT INTO apply_batches (plan_digest, batch_no, attempt, idempotency_key, status, request, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?)",
  ).run(digest, batchNo, attempt, key, rows === undefined ? null : JSON.stringify({ rows, later }), new Date().toISOString());
}

export function closeAttempt(db: Db, digest: string, batchNo: number, attempt: number, outcome: BatchOutcome): void {
  statement(db, "UPDATE apply_batches SET status = 'done', result = ?, updated_at = ? WHERE plan_digest = ? AND batch_no = ? AND attempt = ?").run(
    JSON.stringify(outcome),
    new Date().toISOString(),
    digest,
    batchNo,
    attempt,
  );
}
