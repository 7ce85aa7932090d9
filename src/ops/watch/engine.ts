import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../../config/load.js';
import { errorMessage, InvreconError } from '../../errors.js';
import type { DiffRow } from '../../reconcile/diff.js';
import { ShopifyGraphQLError, type ShopifyClient } from '../../sources/shopify/client.js';
import { AVAILABLE_AT_LOCATION, INVENTORY_LEVELS_BY_ITEM_IDS, type AvailableAtLocationData } from '../../sources/shopify/documents.js';
import { recordChanges } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../log.js';
import type { WatchMetrics } from './metrics.js';
import { queueOutbox } from './outbox.js';
import type { Recomputer } from './recompute.js';
import { sendSet, type SendResult, type WriteRow } from './send.js';
import { clearDirty, dirtySkus, markSkusDirty, queueDepth, storeReadLevels, type DirtySku, type LiveLevel } from './state.js';

/** Shopify takes at most 250 rows per inventory mutation. */
export const MAX_ROWS_PER_CALL = 250;
/** A write's own webhook may come after its answer (Shopify delivers at least once, late): remembered this long. */
const ECHO_MS = 10 * 60_000;
/** Write calls that fail for the same SKUs this many times in a row are given up (logged, left to the nightly sync). */
const MAX_REFUSALS = 5;

export interface PlannedWrite extends WriteRow {
  authority: DiffRow['authority'];
  erpAvailable: number;
}

interface WriteRecord {
  id: number;
  key: string;
  rows: PlannedWrite[];
  /** SKU -> dirty gen this write settles. */
  skus: Record<string, number>;
  /** Oldest accepted event per SKU (latency). */
  accepted: Record<string, number>;
}

/** Something that keeps watch's writes and a `sync --commit` apart (the sync lock). */
export interface WriteGate {
  /** Runs fn while this process may write; waits while a sync holds the lock. */
  hold<T>(fn: () => Promise<T>): Promise<T>;
}

export interface EngineOptions {
  batchWindowMs: number;
  maxInFlight: number;
  /** Whether a change Shopify reports (a sale) makes its SKU's targets recompute; see docs/watch.md. */
  recomputeOnShopifyChange: (sku: string) => boolean;
  onWriteFailure?: (consecutive: number, message: string) => void;
  /** True while Shopify's cost bucket is what limits the calls (a call had to wait for it lately). */
  bucketTight?: () => boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The write loop: takes marked SKUs (never one already in flight), re-reads what must be re-read,
 * recomputes their targets and those of the bundles above them, and sends the differences with
 * compare-and-swap under idempotency keys, several calls at once, one cost bucket for all.
 */
export class WatchEngine {
  private readonly inFlight = new Set<string>();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private started = false;
  private wakeScheduled = false;
  private readonly echoes = new Map<string, { value: number; until: number }[]>();
  private readonly refusals = new Map<string, number>();
  private consecutiveFailures = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly config: LoadedConfig,
    private readonly client: ShopifyClient,
    private readonly recomputer: Recomputer,
    private readonly metrics: WatchMetrics,
    private readonly log: Logger,
    private readonly gate: WriteGate,
    private readonly options: EngineOptions,
  ) {}

  /** Whether a webhook's value for this level is what a write of ours set (its echo); consumed when it is. */
  isEcho(inventoryItemId: string, locationId: string, available: number): boolean {
    const key = `${inventoryItemId} ${locationId}`;
    const list = this.echoes.get(key);
    if (!list) return false;
    const now = Date.now();
    const at = list.findIndex((e) => e.value === available && e.until > now);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length === 0) this.echoes.delete(key);
    return true;
  }

  private expectEcho(row: WriteRow): void {
    const key = `${row.inventoryItemId} ${row.locationId}`;
    const now = Date.now();
    const list = (this.echoes.get(key) ?? []).filter((e) => e.until > now);
    list.push({ value: row.to, until: now + ECHO_MS });
    this.echoes.set(key, list);
  }

  /** Resumes writes a killed run left with an unknown outcome, then starts the loop. */
  async start(): Promise<void> {
    const pending = this.db.prepare("SELECT id, idempotency_key AS key, rows, skus FROM watch_writes WHERE status = 'sent' ORDER BY id").all() as {
      id: number;
      key: string;
      rows: string;
      skus: string;
    }[];
    const records: WriteRecord[] = pending.map((p) => ({
      id: p.id,
      key: p.key,
      rows: JSON.parse(p.rows) as PlannedWrite[],
      skus: JSON.parse(p.skus) as Record<string, number>,
      accepted: {},
    }));
    // Events may arrive meanwhile: the loop starts only once every unknown outcome is settled.
    for (const record of records) {
      for (const sku of [...Object.keys(record.skus), ...record.rows.map((r) => r.sku)]) this.inFlight.add(sku);
      for (const row of record.rows) this.expectEcho(row);
    }
    for (const record of records) {
      this.log.info(`resuming write #${record.id} (${record.rows.length} levels) under its idempotency key: its outcome is unknown`, {
        event: 'resume-write',
        write: record.id,
      });
      await this.settle(record, true);
    }
    this.inFlight.clear();
    this.started = true;
    this.wake();
  }

  /** Something was marked: run a cycle after the batch window (one timer for a burst). */
  wake(): void {
    if (!this.started || this.stopping || this.wakeScheduled) return;
    this.wakeScheduled = true;
    this.timer = setTimeout(() => {
      this.wakeScheduled = false;
      this.cycle();
    }, this.options.batchWindowMs);
  }

  private cycle(): void {
    this.metrics.setQueueDepth(queueDepth(this.db));
    // While calls wait for the cost bucket, one at a time: events pile up meanwhile and go in fewer, fuller calls.
    const limit = this.options.bucketTight?.() ? 1 : this.options.maxInFlight;
    while (this.running < limit) {
      const batch = this.takeBatch();
      if (batch.length === 0) break;
      this.running++;
      void this.process(batch)
        .catch((error: unknown) => {
          this.metrics.error(errorMessage(error));
          this.log.error(`watch cycle failed: ${errorMessage(error)}`, { event: 'cycle-error' });
        })
        .finally(() => {
          this.running--;
          for (const sku of batch.flatMap((b) => b.affected)) this.inFlight.delete(sku);
          this.metrics.setQueueDepth(queueDepth(this.db));
          if (this.running === 0 && queueDepth(this.db) === 0) for (const resolve of this.idle.splice(0)) resolve();
          if (queueDepth(this.db) > 0) this.wake();
        });
    }
  }

  /** Marked SKUs for one call: none in flight, none sharing a bundle with one in flight, at most ~250 levels. */
  private takeBatch(): { dirty: DirtySku; affected: string[] }[] {
    const locations = Math.max(1, this.db.prepare('SELECT COUNT(*) FROM watch_shopify_locations').pluck().get() as number);
    const budget = Math.max(1, Math.floor(MAX_ROWS_PER_CALL / locations));
    const taken: { dirty: DirtySku; affected: string[] }[] = [];
    let levels = 0;
    for (const dirty of dirtySkus(this.db, budget * 4, this.inFlight)) {
      const affected = [...this.recomputer.affected([dirty.sku])];
      if (affected.some((sku) => this.inFlight.has(sku))) continue;
      if (taken.length > 0 && levels + affected.length * locations > MAX_ROWS_PER_CALL) break;
      levels += affected.length * locations;
      for (const sku of affected) this.inFlight.add(sku);
      taken.push({ dirty, affected });
    }
    return taken;
  }

  private async process(batch: { dirty: DirtySku; affected: string[] }[]): Promise<void> {
    const affected = new Set(batch.flatMap((b) => b.affected));
    const settles = Object.fromEntries(batch.map((b) => [b.dirty.sku, b.dirty.gen]));
    const accepted: Record<string, number> = {};
    for (const b of batch) for (const sku of b.affected) accepted[sku] = Math.min(accepted[sku] ?? Infinity, b.dirty.acceptedMs);
    const reread = batch.filter((b) => b.dirty.reread).flatMap((b) => b.affected);
    if (reread.length > 0) await this.reread(reread);
    let rows: DiffRow[];
    try {
      rows = this.recomputer.compute(affected);
    } catch (error) {
      // A config or data problem (a bundle SKU in the ERP rows, say): report, keep the marks for after the fix.
      if (error instanceof InvreconError) {
        this.metrics.error(error.message);
        this.log.error(`cannot recompute ${[...affected].slice(0, 5).join(', ')}: ${error.message}`, { event: 'recompute-error' });
        clearDirty(this.db, settles);
        return;
      }
      throw error;
    }
    const writes: PlannedWrite[] = rows
      .filter((r) => r.status === 'change' && r.target !== null && r.observed !== null && r.inventoryItemId !== null)
      .map((r) => ({
        sku: r.sku,
        inventoryItemId: r.inventoryItemId!,
        locationId: r.locationId,
        from: r.observed!,
        to: r.target!,
        authority: r.authority,
        erpAvailable: r.erp?.available ?? r.target!,
      }));
    for (const r of rows.filter((r) => r.status === 'conflict'))
      this.log.warn(`${r.sku} at ${r.locationName}: ${r.reason}`, { event: 'conflict', sku: r.sku, locationId: r.locationId });

    // The corrections owed to the ERP and the first write are recorded together, before anything is sent.
    const calls: PlannedWrite[][] = [];
    for (let at = 0; at < writes.length; at += MAX_ROWS_PER_CALL) calls.push(writes.slice(at, at + MAX_ROWS_PER_CALL));
    const records: WriteRecord[] = [];
    this.db.transaction(() => {
      queueOutbox(this.db, this.config, rows);
      recordHybridOk(this.db, rows);
      calls.forEach((callRows, i) => {
        const key = `invrecon-watch-${randomUUID()}`;
        // The marks are settled by the last call of the cycle; earlier calls settle nothing.
        const skus = i === calls.length - 1 ? settles : {};
        const id = Number(
          this.db
            .prepare("INSERT INTO watch_writes (idempotency_key, status, rows, skus, created_at) VALUES (?, 'sent', ?, ?, ?)")
            .run(key, JSON.stringify(callRows), JSON.stringify(skus), new Date().toISOString()).lastInsertRowid,
        );
        records.push({ id, key, rows: callRows, skus, accepted });
      });
      if (calls.length === 0) clearDirty(this.db, settles);
    })();
    for (const record of records) {
      for (const row of record.rows) this.expectEcho(row);
      await this.settle(record, false);
    }
  }

  /** Sends one write until Shopify answers, and records what it did. */
  private async settle(record: WriteRecord, unknownBefore: boolean): Promise<void> {
    let unknown = unknownBefore;
    for (let attempt = 0; ; attempt++) {
      let result: SendResult;
      const sentAt = new Date().toISOString();
      try {
        result = await this.gate.hold(() => sendSet(this.client, record.rows, record.key, `invrecon://watch/${record.id}`));
      } catch (error) {
        const definite = error instanceof ShopifyGraphQLError; // refused before running: nothing applied
        this.failure(`write #${record.id}: ${errorMessage(error)}`);
        if (definite) {
          this.finishRefused(record, { kind: 'refused', stale: [], failed: [], callError: errorMessage(error) }, unknown);
          return;
        }
        // The answer was lost (network, timeouts, 5xx after retries): the outcome is unknown; same key again.
        unknown = true;
        if (this.stopping && attempt >= 2) return;
        await sleep(Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
        continue;
      }
      // Shopify is still running this very request (sent before a kill): wait for its answer, same key.
      if (result.kind === 'refused' && result.callError?.startsWith('IDEMPOTENCY_CONCURRENT_REQUEST') && attempt < 30) {
        unknown = true;
        await sleep(1000);
        continue;
      }
      if (result.kind === 'applied') this.finishApplied(record, result.after, sentAt);
      else await this.finishRefusedWithRead(record, result, unknown);
      return;
    }
  }

  private failure(message: string): void {
    this.consecutiveFailures++;
    this.metrics.error(message);
    this.log.error(message, { event: 'write-error', consecutive: this.consecutiveFailures });
    this.options.onWriteFailure?.(this.consecutiveFailures, message);
  }

  private finishApplied(record: WriteRecord, after: Map<number, number>, sentAt: string): void {
    const now = Date.now();
    const at = new Date(now).toISOString();
    this.consecutiveFailures = 0;
    this.db.transaction(() => {
      // A webhook newer than the send (a sale right after our write) already holds the fresher value.
      const update = this.db.prepare(
        `UPDATE watch_shopify_levels SET available = ?, touched_at = ? WHERE inventory_item_id = ? AND location_id = ? AND (webhook_at IS NULL OR webhook_at <= ?)`,
      );
      record.rows.forEach((row, i) => update.run(after.get(i) ?? row.to, at, row.inventoryItemId, row.locationId, sentAt));
      recordChanges(
        this.db,
        record.rows.map((row, i) => ({
          planDigest: null,
          sku: row.sku,
          inventoryItemId: row.inventoryItemId,
          locationId: row.locationId,
          before: row.from,
          after: after.get(i) ?? row.to,
          rule: `watch (${row.authority})`,
        })),
        at,
      );
      recordBase(
        this.db,
        record.rows.filter((r) => r.authority === 'hybrid').map((r) => ({ sku: r.sku, locationId: r.locationId, erp: r.erpAvailable, shopify: r.to })),
        at,
      );
      this.db
        .prepare("UPDATE watch_writes SET status = 'done', finished_at = ?, result = ? WHERE id = ?")
        .run(at, JSON.stringify({ applied: record.rows.length }), record.id);
      clearDirty(this.db, record.skus);
    })();
    for (const sku of Object.keys(record.skus)) this.refusals.delete(sku);
    this.metrics.write('applied', record.rows.length);
    const latencyMs: number[] = [];
    for (const sku of new Set(record.rows.map((r) => r.sku))) {
      const acceptedMs = record.accepted[sku];
      if (acceptedMs === undefined) continue;
      latencyMs.push(now - acceptedMs);
      this.metrics.observeLatency((now - acceptedMs) / 1000);
    }
    this.log.info(`wrote ${record.rows.length} level${record.rows.length === 1 ? '' : 's'} (write #${record.id})`, {
      event: 'write',
      write: record.id,
      levels: record.rows.length,
      latencyMs,
    });
  }

  /**
   * Nothing of a refused call was applied. Unless the call's earlier outcome is unknown: then a row
   * that is stale now may be our own earlier attempt, so each is read: at its target it counts as
   * applied, otherwise a hybrid row is left unresolved (a merge must not be applied twice) and the
   * others are recomputed from the absolute state.
   */
  private async finishRefusedWithRead(record: WriteRecord, result: Extract<SendResult, { kind: 'refused' }>, unknown: boolean): Promise<void> {
    if (!unknown || result.stale.length === 0) return this.finishRefused(record, result, unknown);
    const current = await this.readAvailable(result.stale.map((i) => record.rows[i]!));
    const applied: number[] = [];
    const unresolved: number[] = [];
    for (const i of result.stale) {
      const row = record.rows[i]!;
      const now = current.get(`${row.inventoryItemId} ${row.locationId}`);
      if (now === row.to) applied.push(i);
      else if (row.authority === 'hybrid') unresolved.push(i);
    }
    if (applied.length > 0) {
      const at = new Date().toISOString();
      recordChanges(
        this.db,
        applied.map((i) => {
          const row = record.rows[i]!;
          return {
            planDigest: null,
            sku: row.sku,
            inventoryItemId: row.inventoryItemId,
            locationId: row.locationId,
            before: row.from,
            after: row.to,
            rule: 'watch (earlier attempt of an unknown outcome)',
          };
        }),
        at,
      );
      this.metrics.write('applied', applied.length);
    }
    for (const i of unresolved) {
      const row = record.rows[i]!;
      this.log.warn(
        `${row.sku} at ${row.locationId}: a write with an unknown outcome came back stale and the level is not at its target: left unresolved for the next sync`,
        { event: 'unresolved', sku: row.sku },
      );
    }
    this.metrics.write('unresolved', unresolved.length);
    this.finishRefused(record, result, unknown, new Set([...applied, ...unresolved].map((i) => record.rows[i]!.sku)));
  }

  private forgetEcho(row: WriteRow): void {
    const key = `${row.inventoryItemId} ${row.locationId}`;
    const list = this.echoes.get(key)?.filter((e) => e.value !== row.to) ?? [];
    if (list.length > 0) this.echoes.set(key, list);
    else this.echoes.delete(key);
  }

  private finishRefused(record: WriteRecord, result: Extract<SendResult, { kind: 'refused' }>, unknown: boolean, settledSkus = new Set<string>()): void {
    // A refused call changed nothing (unless its outcome was unknown before): no echo of it will come.
    if (!unknown) for (const row of record.rows) this.forgetEcho(row);
    const failedSkus = new Set(result.failed.map((f) => record.rows[f.row]!.sku));
    for (const f of result.failed)
      this.log.error(`${record.rows[f.row]!.sku} at ${record.rows[f.row]!.locationId}: ${f.code}: ${f.message}`, { event: 'write-refused', code: f.code });
    if (result.callError) this.failure(`write #${record.id} refused: ${result.callError}`);
    for (const i of result.stale) {
      const row = record.rows[i]!;
      this.log.info(`${row.sku} at ${row.locationId}: Shopify no longer holds ${row.from} (compare-and-swap): re-read and recomputed`, {
        event: 'stale',
        sku: row.sku,
        write: record.id,
        unknown,
      });
    }
    this.metrics.write('stale', result.stale.length);
    this.metrics.write('failed', result.failed.length);
    // Every SKU of the call goes round again with a fresh read of its levels, unless it keeps failing.
    const again = new Set<string>();
    const givenUp: string[] = [];
    for (const row of record.rows) {
      if (settledSkus.has(row.sku)) continue;
      const refusals = (this.refusals.get(row.sku) ?? 0) + (failedSkus.has(row.sku) || result.callError ? 1 : 0);
      this.refusals.set(row.sku, refusals);
      if (refusals >= MAX_REFUSALS) givenUp.push(row.sku);
      else again.add(row.sku);
    }
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE watch_writes SET status = 'failed', finished_at = ?, result = ? WHERE id = ?")
        .run(new Date().toISOString(), JSON.stringify({ ...result, unknown }), record.id);
      clearDirty(this.db, record.skus);
      markSkusDirty(this.db, again, true, Math.min(...Object.values(record.accepted), Date.now()));
    })();
    for (const sku of new Set(givenUp)) {
      this.refusals.delete(sku);
      this.log.error(`${sku}: Shopify refused its write ${MAX_REFUSALS} times: given up until its next event (the nightly sync reports it)`, {
        event: 'given-up',
        sku,
      });
    }
  }

  /** Shopify's quantities of these SKUs' items, at every location, into the live state. */
  private async reread(skus: string[]): Promise<void> {
    const items = this.db
      .prepare('SELECT inventory_item_id FROM watch_shopify_items WHERE sku IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(JSON.stringify(skus)) as string[];
    // A query costs about 3 + 3 × levels per item, and Shopify refuses one above 1000 points.
    const levelsFirst = Math.min(250, Math.max(1, this.db.prepare('SELECT COUNT(*) FROM watch_shopify_locations').pluck().get() as number));
    const perCall = Math.max(1, Math.min(MAX_ROWS_PER_CALL, Math.floor(900 / (3 + 3 * levelsFirst))));
    for (let at = 0; at < items.length; at += perCall) {
      const ids = items.slice(at, at + perCall);
      // The reading counts from when it was asked: a webhook of a change after that is still newer.
      const askedAt = Date.now();
      const { data } = await this.client.request<{
        nodes: ({
          id: string;
          inventoryLevels: { edges: { node: { location: { id: string }; quantities: { name: string; quantity: number }[] } }[] };
        } | null)[];
      }>(
        INVENTORY_LEVELS_BY_ITEM_IDS,
        { ids, levelsFirst, names: ['available', 'on_hand', 'committed', 'reserved', 'incoming'] },
        // Priced by its size, not by the last re-read (a large one would make a small one wait for the bucket).
        { expectedCost: 2 + ids.length * (3 + 3 * levelsFirst) },
      );
      const levels: LiveLevel[] = [];
      for (const node of data.nodes) {
        if (!node) continue;
        for (const { node: level } of node.inventoryLevels.edges) {
          const q = (name: string) => level.quantities.find((x) => x.name === name)?.quantity ?? 0;
          levels.push({
            inventoryItemId: node.id,
            locationId: level.location.id,
            available: q('available'),
            onHand: q('on_hand'),
            committed: q('committed'),
            reserved: q('reserved'),
            incoming: q('incoming'),
          });
        }
      }
      storeReadLevels(this.db, ids, levels, askedAt);
    }
  }

  private async readAvailable(rows: readonly WriteRow[]): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>();
    const byLocation = new Map<string, string[]>();
    for (const r of rows) byLocation.set(r.locationId, [...(byLocation.get(r.locationId) ?? []), r.inventoryItemId]);
    for (const [locationId, ids] of byLocation) {
      const { data } = await this.client.request<AvailableAtLocationData>(AVAILABLE_AT_LOCATION, { ids, locationId });
      for (const n of data.nodes) if (n) out.set(`${n.id} ${locationId}`, n.inventoryLevel?.quantities.find((q) => q.name === 'available')?.quantity ?? null);
    }
    return out;
  }

  inFlightCount(): number {
    return this.running;
  }

  /** Resolves once nothing is in flight and nothing is marked (or at the deadline). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.running === 0 && queueDepth(this.db) === 0) return true;
    const done = new Promise<boolean>((resolve) => this.idle.push(() => resolve(true)));
    this.wake();
    const result = await Promise.race([done, sleep(timeoutMs).then(() => false)]);
    return result;
  }

  /** Stops taking new work; what is in flight finishes. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.running > 0 && Date.now() < deadline) await sleep(20);
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
function recordHybridOk(db: Db, rows: readonly DiffRow[]): void {
  const at = new Date().toISOString();
  recordBase(
    db,
    rows
      .filter((r) => r.authority === 'hybrid' && r.status === 'ok' && r.observed !== null && r.erp)
      .map((r) => ({ sku: r.sku, locationId: r.locationId, erp: r.erp!.available, shopify: r.observed! })),
    at,
  );
}
