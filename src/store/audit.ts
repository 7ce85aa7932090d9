import type { Db } from './db.js';

export interface AuditCall {
  planDigest: string | null;
  batchNo: number | null;
  idempotencyKey: string | null;
  operation: string;
  cost: number | null;
  latencyMs: number | null;
  outcome: string;
  detail: string | null;
}

export interface AuditChange {
  planDigest: string | null;
  sku: string;
  inventoryItemId: string;
  locationId: string;
  before: number | null;
  after: number;
  rule: string | null;
  /**
   * applied: Shopify's answer said so; confirmed: the answer was lost and a re-read found the target;
   * unknown: the answer was lost and the level is elsewhere (Shopify may have applied it); replayed:
   * Shopify replayed another run's answer under the same key (applied by that run, earlier).
   */
  outcome?: ChangeOutcome;
}

export type ChangeOutcome = 'applied' | 'confirmed' | 'unknown' | 'replayed';

export function recordCall(db: Db, call: AuditCall, at = new Date().toISOString()): void {
  db.prepare(
    'INSERT INTO audit_calls (at, plan_digest, batch_no, idempotency_key, operation, cost, latency_ms, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(at, call.planDigest, call.batchNo, call.idempotencyKey, call.operation, call.cost, call.latencyMs, call.outcome, call.detail);
}

export function recordChanges(db: Db, changes: readonly AuditChange[], at = new Date().toISOString()): void {
  const insert = db.prepare(
    'INSERT INTO audit_changes (at, plan_digest, sku, inventory_item_id, location_id, before, after, rule, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const c of changes) insert.run(at, c.planDigest, c.sku, c.inventoryItemId, c.locationId, c.before, c.after, c.rule, c.outcome ?? 'applied');
}

export interface LogQuery {
  /** A plan digest, or its first characters. */
  plan?: string;
  sku?: string;
  limit?: number;
}

export interface LogEntries {
  calls: (AuditCall & { id: number; at: string })[];
  /** With the location's name from the newest Shopify snapshot that has it. */
  changes: (AuditChange & { id: number; at: string; locationName: string | null })[];
}

export function readLog(db: Db, query: LogQuery = {}): LogEntries {
  const limit = query.limit ?? 1000;
  const plan = query.plan ? `${query.plan}%` : '%';
  const calls = query.sku
    ? []
    : (db
        .prepare(
          `SELECT id, at, plan_digest AS planDigest, batch_no AS batchNo, idempotency_key AS idempotencyKey, operation, cost, latency_ms AS latencyMs, outcome, detail
           FROM audit_calls WHERE COALESCE(plan_digest, '') LIKE ? ORDER BY id DESC LIMIT ?`,
        )
        .all(plan, limit) as LogEntries['calls']);
  const changes = db
    .prepare(
      `SELECT id, at, plan_digest AS planDigest, sku, inventory_item_id AS inventoryItemId, location_id AS locationId, before, after, rule, outcome,
         (SELECT l.name FROM shopify_locations l WHERE l.location_id = audit_changes.location_id ORDER BY l.snapshot_id DESC LIMIT 1) AS locationName
       FROM audit_changes WHERE COALESCE(plan_digest, '') LIKE ? AND (? IS NULL OR sku = ?) ORDER BY id DESC LIMIT ?`,
    )
    .all(plan, query.sku ?? null, query.sku ?? null, limit) as LogEntries['changes'];
  return { calls: calls.reverse(), changes: changes.reverse() };
}
