import { statement, type Db } from './db.js';

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
  statement(
    db,
    'INSERT INTO audit_calls (at, plan_digest, batch_no, idempotency_key, operation, cost, latency_ms, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(at, call.planDigest, call.batchNo, call.idempotencyKey, call.operation, call.cost, call.latencyMs, call.outcome, call.detail);
}

/** A set holds at most this many levels (the audit_changes view numbers them within it). */
const SET_LIMIT = 10_000;

type LevelEntry = [sku: string, inventoryItemId: string, locationId: string, before: number | null, after: number, rule: string | null, outcome: ChangeOutcome];

/**
 * Level changes, one row per run of the same plan (a call's levels): a million per-level rows under three
 * indexes were about a sixth of a large apply's CPU. The audit_changes view lists them level by level.
 */
export function recordChanges(db: Db, changes: readonly AuditChange[], at = new Date().toISOString()): void {
  const insert = statement(db, 'INSERT INTO audit_change_sets (at, plan_digest, levels) VALUES (?, ?, ?)');
  for (let start = 0; start < changes.length;) {
    const planDigest = changes[start]!.planDigest;
    const levels: LevelEntry[] = [];
    let i = start;
    for (; i < changes.length && i - start < SET_LIMIT && changes[i]!.planDigest === planDigest; i++) {
      const c = changes[i]!;
      levels.push([c.sku, c.inventoryItemId, c.locationId, c.before, c.after, c.rule, c.outcome ?? 'applied']);
    }
    insert.run(at, planDigest, JSON.stringify(levels));
    start = i;
  }
}

/** Level changes recorded by anything but `planDigest` (other plans, watch) since `since`, newest set last, after set `afterId`. */
export function changesByOthersSince(
  db: Db,
  planDigest: string,
  since: string,
  afterId = 0,
): { lastId: number; changes: { planDigest: string | null; inventoryItemId: string; locationId: string }[] } {
  const sets = db
    .prepare("SELECT id, plan_digest AS planDigest, levels FROM audit_change_sets WHERE id > ? AND at >= ? AND COALESCE(plan_digest, '') <> ? ORDER BY id")
    .all(afterId, since, planDigest) as { id: number; planDigest: string | null; levels: string }[];
  const lastId = (db.prepare('SELECT MAX(id) FROM audit_change_sets').pluck().get() as number | null) ?? 0;
  return {
    lastId: Math.max(lastId, afterId),
    changes: sets.flatMap((s) => (JSON.parse(s.levels) as LevelEntry[]).map((l) => ({ planDigest: s.planDigest, inventoryItemId: l[1], locationId: l[2] }))),
  };
}

/** When anything but `planDigest` last changed a level, looking at the newest sets only (rows are appended in about time order). */
export function newestChangeByOthers(db: Db, planDigest: string): string | null {
  return db
    .prepare("SELECT MAX(at) FROM (SELECT at FROM audit_change_sets WHERE COALESCE(plan_digest, '') <> ? ORDER BY id DESC LIMIT 1000)")
    .pluck()
    .get(planDigest) as string | null;
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
  // Newest sets first, each read from its end, until `limit` levels: never the whole log.
  const sets = db
    .prepare(
      `SELECT id, at, plan_digest AS planDigest, levels FROM audit_change_sets
       WHERE COALESCE(plan_digest, '') LIKE ? AND (? IS NULL OR instr(levels, json_quote(?)) > 0) ORDER BY id DESC`,
    )
    .iterate(plan, query.sku ?? null, query.sku ?? null) as Iterable<{ id: number; at: string; planDigest: string | null; levels: string }>;
  const locationName = db.prepare('SELECT name FROM shopify_locations WHERE location_id = ? ORDER BY snapshot_id DESC LIMIT 1').pluck();
  const names = new Map<string, string | null>();
  const nameOf = (locationId: string) => {
    if (!names.has(locationId)) names.set(locationId, (locationName.get(locationId) as string | undefined) ?? null);
    return names.get(locationId)!;
  };
  const changes: LogEntries['changes'] = [];
  for (const set of sets) {
    const levels = JSON.parse(set.levels) as LevelEntry[];
    for (let i = levels.length - 1; i >= 0 && changes.length < limit; i--) {
      const [sku, inventoryItemId, locationId, before, after, rule, outcome] = levels[i]!;
      if (query.sku !== undefined && sku !== query.sku) continue;
      changes.push({
        id: set.id * SET_LIMIT + i,
        at: set.at,
        planDigest: set.planDigest,
        sku,
        inventoryItemId,
        locationId,
        before,
        after,
        rule,
        outcome,
        locationName: nameOf(locationId),
      });
    }
    if (changes.length >= limit) break;
  }
  return { calls: calls.reverse(), changes: changes.reverse() };
}
