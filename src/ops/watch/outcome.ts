// One write attempt's outcome, recorded in one transaction: the live state, the audit log, the hybrid base, the
// write's next rows or its end; then counted and logged.
import type { DiffRow } from '../../reconcile/diff.js';
import type { Decision, LevelFacts } from '../../plan/apply.js';
import { describeDecision } from '../../plan/apply/decide.js';
import type { BatchRow } from '../../store/applies.js';
import { recordChanges } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../log.js';
import { forgetEcho } from './echoes.js';
import type { WatchMetrics } from './metrics.js';
import { markSkusDirty, clearDirty } from './state.js';

/** A level a write sets: from (the live observed value) → to (the recomputed target). */
export interface PlannedWrite extends LevelFacts {
  sku: string;
  authority: DiffRow['authority'];
  erpAvailable: number;
}

export interface WriteRecord {
  id: number;
  key: string;
  /** The levels of the write; `rows[].change` indexes them. */
  levels: PlannedWrite[];
  /** What the current attempt sends (apply's rows: from, value, misses, unknown). */
  rows: BatchRow[];
  /** SKU -> dirty gen this write settles. */
  skus: Record<string, number>;
  /** Oldest accepted event per SKU (latency). */
  accepted: Record<string, number>;
  /** SKUs read from Shopify just before this write was computed: a refusal of theirs is not read again (it would loop). */
  reread?: ReadonlySet<string>;
}

/** Where an outcome goes. */
export interface OutcomeSinks {
  db: Db;
  metrics: WatchMetrics;
  log: Logger;
}

/**
 * One attempt's outcome, in one transaction: applied levels into the live state, the audit log and the
 * hybrid base; the next attempt's rows and key, or the write finished and its SKUs' marks cleared.
 */
export function recordOutcome(
  { db, metrics, log }: OutcomeSinks,
  record: WriteRecord,
  decision: Decision,
  sentAt: string,
  nextKey: string,
  next: BatchRow[],
): void {
  const now = Date.now();
  const at = new Date(now).toISOString();
  const o = decision.outcome;
  const level = (change: number) => record.levels[change]!;
  db.transaction(() => {
    // A webhook newer than the send (a sale right after our write) already holds the fresher value.
    const update = db.prepare(
      `UPDATE watch_shopify_levels SET available = ?, touched_at = ? WHERE inventory_item_id = ? AND location_id = ? AND (webhook_at IS NULL OR webhook_at <= ?)`,
    );
    for (const a of o.applied) update.run(a.after, at, level(a.change).inventoryItemId, level(a.change).locationId, sentAt);
    for (const k of o.skipped) update.run(k.current, at, level(k.change).inventoryItemId, level(k.change).locationId, sentAt);
    recordChanges(
      db,
      o.applied.map((a) => ({
        planDigest: null,
        sku: level(a.change).sku,
        inventoryItemId: level(a.change).inventoryItemId,
        locationId: level(a.change).locationId,
        before: a.before,
        after: a.after,
        rule: a.confirmed ? `watch (${level(a.change).authority}; confirmed at target after a lost answer)` : `watch (${level(a.change).authority})`,
      })),
      at,
    );
    recordBase(
      db,
      [...o.applied.map((a) => ({ change: a.change, value: a.after })), ...o.skipped.map((k) => ({ change: k.change, value: k.current }))]
        .filter((x) => level(x.change).authority === 'hybrid')
        .map((x) => ({ sku: level(x.change).sku, locationId: level(x.change).locationId, erp: level(x.change).erpAvailable, shopify: x.value })),
      at,
    );
    // Recomputed after a fresh read: levels that moved under the write, (ERP or Shopify authority,
    // absolute targets) those a lost answer left unresolved (a hybrid merge must not be applied twice), and
    // those Shopify refused: the shop may have changed under watch (an item untracked, a location
    // deactivated, a level removed), which the read tells, once.
    const recompute = new Set([
      ...(o.carried ?? []).map((c) => level(c.change).sku),
      ...(o.unresolved ?? []).filter((u) => level(u.change).authority !== 'hybrid').map((u) => level(u.change).sku),
      ...o.failed.map((f) => level(f.change).sku).filter((sku) => !record.reread?.has(sku)),
    ]);
    if (recompute.size > 0) markSkusDirty(db, recompute, true, Math.min(...Object.values(record.accepted), now));
    if (next.length > 0) {
      db.prepare('UPDATE watch_writes SET idempotency_key = ?, rows = ? WHERE id = ?').run(
        nextKey,
        JSON.stringify({ levels: record.levels, rows: next }),
        record.id,
      );
    } else {
      const status = decision.refused || o.failed.length > 0 ? 'failed' : 'done';
      db.prepare('UPDATE watch_writes SET status = ?, finished_at = ?, result = ? WHERE id = ?').run(
        status,
        at,
        describeDecision(decision) || decision.verdict,
        record.id,
      );
      clearDirty(db, record.skus);
    }
  })();
  // A definite answer: the values of rows not applied will not come back as webhooks.
  if (decision.verdict !== 'unknown' && decision.verdict !== 'concurrent-request') {
    const appliedRows = new Set(o.applied.map((a) => a.change));
    for (const row of record.rows) if (!appliedRows.has(row.change)) forgetEcho(db, level(row.change), row.value);
  }
  metrics.write('applied', o.applied.length);
  metrics.write('stale', o.carried?.length ?? 0);
  metrics.write('failed', o.failed.length + o.conflicts.length);
  metrics.write('unresolved', o.unresolved?.length ?? 0);
  for (const c of o.carried ?? []) {
    const l = level(c.change);
    log.info(`${l.sku} at ${l.locationId}: Shopify shows ${c.sentFrom}, not ${l.from} (compare-and-swap): read again and recomputed`, {
      event: 'stale',
      sku: l.sku,
      write: record.id,
    });
  }
  for (const x of [...o.conflicts, ...(o.unresolved ?? [])]) {
    log.warn(`${level(x.change).sku} at ${level(x.change).locationId}: ${x.message} (left for its next event or the nightly sync)`, {
      event: 'unresolved',
      sku: level(x.change).sku,
      write: record.id,
    });
  }
  for (const f of o.failed)
    log.error(`${level(f.change).sku} at ${level(f.change).locationId}: ${f.code}: ${f.message}`, {
      event: 'write-refused',
      code: f.code,
      write: record.id,
    });
  if (o.applied.length > 0) {
    const latencyMs: number[] = [];
    for (const sku of new Set(o.applied.map((a) => level(a.change).sku))) {
      const acceptedMs = record.accepted[sku];
      if (acceptedMs === undefined) continue;
      latencyMs.push(now - acceptedMs);
      metrics.observeLatency((now - acceptedMs) / 1000);
    }
    log.info(`wrote ${o.applied.length} level${o.applied.length === 1 ? '' : 's'} (write #${record.id})`, {
      event: 'write',
      write: record.id,
      levels: o.applied.length,
      latencyMs,
    });
  }
}

/** The hybrid base: what both sides agree on after a write (or where nothing needed writing). */
function recordBase(db: Db, levels: { sku: string; locationId: string; erp: number; shopify: number }[], at: string): void {
  const upsert = db.prepare(
    `INSERT INTO reconciled_levels (sku, location_id, erp_available, shopify_available, reconciled_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (sku, location_id) DO UPDATE SET erp_available = excluded.erp_available, shopify_available = excluded.shopify_available,
       erp_snapshot_id = NULL, shopify_snapshot_id = NULL, plan_digest = NULL, reconciled_at = excluded.reconciled_at`,
  );
  for (const l of levels) upsert.run(l.sku, l.locationId, l.erp, l.shopify, at);
}

/** Hybrid levels with nothing to write are reconciled as they are (as plan records its hybrid baseline). */
export function recordHybridOk(db: Db, rows: readonly DiffRow[]): void {
  const at = new Date().toISOString();
  recordBase(
    db,
    rows
      .filter((r) => r.authority === 'hybrid' && r.status === 'ok' && r.observed !== null && r.erp)
      .map((r) => ({ sku: r.sku, locationId: r.locationId, erp: r.erp!.available, shopify: r.observed! })),
    at,
  );
}
