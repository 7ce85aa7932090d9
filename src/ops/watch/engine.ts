import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../../config/load.js';
import { errorMessage, InvreconError } from '../../errors.js';
import { plural } from '../../text.js';
import type { DiffRow } from '../../reconcile/diff.js';
import { writeStep, type Decision } from '../../plan/apply.js';
import { ShopifyGraphQLError, type ShopifyClient } from '../../sources/shopify/client.js';
import type { BatchRow } from '../../store/applies.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../log.js';
import { expectEchoes, forgetEcho, isEcho } from './echoes.js';
import type { WatchMetrics } from './metrics.js';
import { recordHybridOk, recordOutcome, type PlannedWrite, type WriteRecord } from './outcome.js';
import { queueOutbox } from './outbox.js';
import type { Recomputer } from './recompute.js';
import { rereadLevels } from './reread.js';
import { clearDirty, dirtySkus, leftOutLevels, levelsOf, queueDepth, type DirtySku, type FlagChanges } from './state.js';

/** Shopify takes at most 250 rows per inventory mutation. */
export const MAX_ROWS_PER_CALL = 250;
/** Compare-and-swap misses after which a level that keeps moving is left for its next event (as apply's conflicts). */
const MAX_MISSES = 5;

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
const newKey = () => `invrecon-watch-${randomUUID()}`;

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
    return isEcho(this.db, inventoryItemId, locationId, available);
  }

  /** Resumes writes a killed run left with an unknown outcome, then starts the loop. */
  async start(): Promise<void> {
    const pending = this.db.prepare("SELECT id, idempotency_key AS key, rows, skus FROM watch_writes WHERE status = 'sent' ORDER BY id").all() as {
      id: number;
      key: string;
      rows: string;
      skus: string;
    }[];
    const records: WriteRecord[] = pending.map((p) => {
      const stored = JSON.parse(p.rows) as { levels: PlannedWrite[]; rows: BatchRow[] };
      return { id: p.id, key: p.key, levels: stored.levels, rows: stored.rows, skus: JSON.parse(p.skus) as Record<string, number>, accepted: {} };
    });
    // Events may arrive meanwhile: the loop starts only once every unknown outcome is settled.
    for (const record of records) for (const sku of [...Object.keys(record.skus), ...record.levels.map((l) => l.sku)]) this.inFlight.add(sku);
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
    if (reread.length > 0) this.flagsChanged(await rereadLevels(this.db, this.client, reread));
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
      calls.forEach((levels, i) => {
        const key = newKey();
        const rows: BatchRow[] = levels.map((l, change) => ({ change, changeFromQuantity: l.from, value: l.to, misses: 0 }));
        // The marks are settled by the last call of the cycle; earlier calls settle nothing.
        const skus = i === calls.length - 1 ? settles : {};
        const id = Number(
          this.db
            .prepare("INSERT INTO watch_writes (idempotency_key, status, rows, skus, created_at) VALUES (?, 'sent', ?, ?, ?)")
            .run(key, JSON.stringify({ levels, rows }), JSON.stringify(skus), new Date().toISOString()).lastInsertRowid,
        );
        records.push({ id, key, levels, rows, skus, accepted, reread: new Set(reread) });
      });
      if (calls.length === 0) clearDirty(this.db, settles);
    })();
    for (const record of records) await this.settle(record, false);
  }

  /**
   * Sends one write until every level is settled, with apply's step (send, re-read what came back stale,
   * decide): a lost answer goes again under the same key, rows carried forward after a compare-and-swap
   * miss (a sale meanwhile is kept) under the next one. Each attempt's rows and key are recorded before
   * it is sent, with the outcome of the one before, in one transaction.
   */
  private async settle(record: WriteRecord, uncertainBefore: boolean): Promise<void> {
    let uncertain = uncertainBefore;
    for (let attempt = 0; ; attempt++) {
      const sentAt = new Date().toISOString();
      expectEchoes(
        this.db,
        record.rows.map((row) => ({ level: record.levels[row.change]!, value: row.value })),
      );
      let decision: Decision;
      try {
        ({ decision } = await this.gate.hold(() =>
          writeStep(this.client, {
            mode: 'set',
            rows: record.rows,
            level: (change) => record.levels[change]!,
            key: record.key,
            uncertain,
            maxMisses: MAX_MISSES,
            maxSize: MAX_ROWS_PER_CALL,
            referenceDocumentUri: `invrecon://watch/${record.id}`,
          }),
        ));
      } catch (error) {
        // The call never ran (refused as a whole, or Shopify unreachable before it could have): nothing applied.
        this.failure(`write #${record.id}: ${errorMessage(error)}`);
        if (error instanceof ShopifyGraphQLError) {
          this.finishRefused(record, `refused: ${errorMessage(error)}`);
          return;
        }
        // Stopping: left as it is, sent again under its key at the next start.
        if (this.stopping && attempt >= 2) return;
        await sleep(Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
        continue;
      }
      // A compare-and-swap miss is not carried forward here (apply's plan is fixed; watch's targets are not):
      // the level is read again and its target recomputed from the live state, as a new event would be.
      const carried = new Set((decision.outcome.carried ?? []).map((c) => c.change));
      decision.next = decision.next.filter((row) => !carried.has(row.change));
      const again = decision.next.length > 0 && decision.key !== 'none';
      if (decision.refused) this.failure(`write #${record.id} refused: ${decision.refused}`);
      else if (decision.verdict !== 'unknown') this.consecutiveFailures = 0;
      if (decision.key === 'same') {
        // Lost (or still running at Shopify): the same call again; its outcome stays unknown until answered.
        if (this.stopping && attempt >= 2) return;
        uncertain = true;
        this.record(record, decision, sentAt, record.key, decision.next);
        await sleep(decision.waitMs || Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
        continue;
      }
      const key = again ? newKey() : record.key;
      this.record(record, decision, sentAt, key, again ? decision.next : []);
      if (!again) return;
      record.key = key;
      record.rows = decision.next;
      uncertain = false;
    }
  }

  /** A re-read found an item untracked or a location deactivated (or back): said once, and the left-out count taken again. */
  private flagsChanged(changes: FlagChanges): void {
    const are = (n: number) => `${plural(n, 'level')} ${n === 1 ? 'is' : 'are'}`;
    const lines = [
      ...changes.untracked.map(
        (sku) =>
          `${sku}: Shopify does not track its quantities any more (read again): its ${are(levelsOf(this.db, { sku }))} left out, nothing is written for it (as diff and plan leave untracked items out)`,
      ),
      ...changes.trackedAgain.map((sku) => `${sku}: Shopify tracks its quantities again (read again): written from its next event on`),
      ...changes.deactivated.map(
        (name) =>
          `location ${JSON.stringify(name)} is inactive in Shopify (read again): its ${are(levelsOf(this.db, { locationName: name }))} left out, nothing is written there; reactivate it, or remove it from "locations"`,
      ),
      ...changes.reactivated.map((name) => `location ${JSON.stringify(name)} is active in Shopify again (read again): written from each level's next event on`),
    ];
    if (lines.length === 0) return;
    for (const line of lines) this.log.warn(line, { event: 'left-out' });
    this.metrics.setLeftOut(leftOutLevels(this.db, this.config));
  }

  private record(record: WriteRecord, decision: Decision, sentAt: string, nextKey: string, next: BatchRow[]): void {
    recordOutcome({ db: this.db, metrics: this.metrics, log: this.log }, record, decision, sentAt, nextKey, next);
  }

  private failure(message: string): void {
    this.consecutiveFailures++;
    this.metrics.error(message);
    this.log.error(message, { event: 'write-error', consecutive: this.consecutiveFailures });
    this.options.onWriteFailure?.(this.consecutiveFailures, message);
  }

  /** Finishes a write whose call was refused before it ran: nothing applied, its SKUs left for their next event. */
  private finishRefused(record: WriteRecord, why: string): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE watch_writes SET status = 'failed', finished_at = ?, result = ? WHERE id = ?").run(new Date().toISOString(), why, record.id);
      clearDirty(this.db, record.skus);
    })();
    for (const row of record.rows) forgetEcho(this.db, record.levels[row.change]!, row.value);
    this.metrics.write('failed', record.rows.length);
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
