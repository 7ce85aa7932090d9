// The apply loop: batches run side by side (as many as the lanes allow), each a sequence of attempts.
// Every attempt is recorded before it is sent and closed, with the next one, in one transaction after:
// a killed apply resumes each open attempt under its own key. The decisions are decide.ts's.
import type { LoadedConfig } from '../../config/load.js';
import { InvreconError, SourceError } from '../../errors.js';
import { createShopifyClient, DEFAULT_EXPECTED_COST, type CallEvent, type ShopifyClient, type ShopifyClientOptions } from '../../sources/shopify/client.js';
import {
  applyStatus,
  batchOutcomes,
  closeAttempt,
  finishApply,
  latestAttempt,
  openAttempt,
  startApply,
  type BatchAttempt,
  type BatchOutcome,
  type BatchRow,
} from '../../store/applies.js';
import { recordCall, recordChanges, type AuditChange } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import { planReferenceUri, type PlanChange, type PlanHeader } from '../model.js';
import { verifyPlan, type PlanSource } from '../verify.js';
import { BATCH_SIZE, idempotencyKey, initialRows, streamBatches, type PlannedBatch } from './batches.js';
import { checkPlan, otherPlanChangesLookup, otherWriter } from './checks.js';
import { ShopFinish } from './finish.js';
import { claimShop, heldRecord, installId, keepRecord } from './installs.js';
import { carriedTarget, describeDecision, type Decision, type LevelFacts } from './decide.js';
import { Lanes, runPool } from './lanes.js';
import { GroupWriter } from './group-writer.js';
import { countBatchOutcomes, emptyResult, previewBatch, reconciledWriter, undone, type ApplyResult } from './outcomes.js';
import { readAvailable, writeStep, type SentCall } from './send.js';

/** Compare-and-swap misses after which a row is reported as a conflict instead of retried. */
export const DEFAULT_MAX_MISSES = 5;
/** Waits for Shopify to finish a call with the same key (IDEMPOTENCY_CONCURRENT_REQUEST) before giving up. */
const MAX_CONCURRENT_WAITS = 30;
/**
 * Pages the write-ahead log may hold before a checkpoint while an apply writes (~40 MB at 4 KB pages). A
 * checkpoint runs inside a commit and nothing is sent while it does: at 50,000 pages each held the apply
 * for about a second (a Plus apply sent 90 calls in such a second instead of 250); at 10,000 the stalls are
 * short and the CPU the same.
 */
const WAL_PAGES_WHILE_APPLYING = 10_000;
const MUTATIONS = new Set(['InventorySetQuantities', 'InventoryAdjustQuantities']);

export interface ApplyOptions {
  commit: boolean;
  planPath: string;
  maxMisses?: number;
  /** Dry run only: read each level's current available to show which changes are already stale. */
  live?: boolean;
  /** Most calls in flight at once (default DEFAULT_MAX_IN_FLIGHT; the lanes adapt below it). */
  maxInFlight?: number;
  clientOptions?: ShopifyClientOptions;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** Apply a plan that verify.ts finds is not what its baseline gives (recorded). */
  unverified?: boolean;
}

interface CallTag {
  batchNo: number;
  key: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Applier {
  readonly client: ShopifyClient;
  readonly lanes: Lanes;
  private readonly maxMisses: number;
  private readonly changedByOtherPlan: ReturnType<typeof otherPlanChangesLookup>;
  private readonly uri: string;
  /** Shopify's time of this run's claim on the shop: an answer older than it is a replay (isReplay). */
  notBefore: string | undefined;
  /** The finish this run promises the shop's record: its writes wait on it, and tell it when they go. */
  finish: ShopFinish | undefined;

  readonly writes: GroupWriter;

  constructor(
    private readonly db: Db,
    config: LoadedConfig,
    private readonly plan: PlanHeader,
    options: ApplyOptions,
  ) {
    this.writes = new GroupWriter(db);
    this.maxMisses = options.maxMisses ?? DEFAULT_MAX_MISSES;
    this.lanes = new Lanes({ max: options.maxInFlight });
    this.changedByOtherPlan = otherPlanChangesLookup(db, plan, { live: true });
    this.uri = planReferenceUri(plan);
    const onCall = options.clientOptions?.onCall;
    this.client = createShopifyClient(config, {
      ...options.clientOptions,
      onCall: (event: CallEvent) => {
        this.observe(event);
        onCall?.(event);
      },
    });
  }

  /** The changes of the batches in flight, by their ordinal in the plan: the rest of the plan stays on disk. */
  private readonly inFlight = new Map<number, PlanChange>();

  readonly level = (change: number): PlanChange & LevelFacts => this.inFlight.get(change)!;

  /** Runs `work` with the batch's changes at hand (level() finds them), and lets them go after. */
  async withBatch<T>(batch: PlannedBatch, work: () => Promise<T>): Promise<T> {
    batch.changes.forEach((change, i) => this.inFlight.set(change, batch.rows[i]!));
    try {
      return await work();
    } finally {
      for (const change of batch.changes) this.inFlight.delete(change);
    }
  }

  private readonly movedBy = (change: number): string | undefined => {
    const digest = this.changedByOtherPlan(this.level(change));
    return digest === undefined ? undefined : otherWriter(digest);
  };

  /** Every HTTP attempt reaches the audit log, but an answered mutation: its real outcome is recorded once decided. */
  private observe(event: CallEvent): void {
    if (event.outcome === 'throttled') this.lanes.throttled();
    if (event.outcome === 'timeout' || event.outcome === 'network') this.lanes.congested();
    if (event.outcome === 'ok') this.lanes.answered(event.waitedMs);
    if (event.outcome === 'ok' && MUTATIONS.has(event.operation)) return;
    const tag = event.tag as CallTag | undefined;
    const lost = MUTATIONS.has(event.operation) && (event.outcome === 'timeout' || event.outcome === 'network' || event.outcome === 'http-5xx');
    const outcome = lost ? `${event.outcome}: outcome unknown` : event.outcome;
    recordCall(this.db, {
      planDigest: this.plan.digest,
      batchNo: tag?.batchNo ?? null,
      idempotencyKey: tag?.key ?? null,
      operation: event.operation,
      cost: event.actualCost ?? event.requestedCost ?? null,
      latencyMs: Math.round(event.latencyMs),
      outcome: event.attempt > 1 ? `${outcome} (attempt ${event.attempt})` : outcome,
      detail: event.message ?? null,
    });
  }

  private recordDecision(attempt: BatchAttempt, mode: PlannedBatch['mode'], call: SentCall, decision: Decision): void {
    recordCall(this.db, {
      planDigest: this.plan.digest,
      batchNo: attempt.batchNo,
      idempotencyKey: attempt.idempotencyKey,
      operation: mode === 'set' ? 'InventorySetQuantities' : 'InventoryAdjustQuantities',
      cost: call.cost,
      latencyMs: Math.round(call.latencyMs),
      outcome: decision.verdict,
      detail: describeDecision(decision) || null,
    });
  }

  /** Current available of these changes' levels (indexes into plan.changes), read from Shopify; null: not stocked. */
  async readCurrent(changes: readonly number[]): Promise<Map<number, number | null>> {
    const now = await readAvailable(this.client, changes.map(this.level), { concurrency: () => this.lanes.limit });
    return new Map(changes.map((change, i) => [change, now[i]!]));
  }

  /**
   * Sends one batch until every row is applied, skipped, given up or left unresolved; then `settle` takes
   * all it did (every attempt, this run's and any earlier run's), in the transaction that closes it.
   */
  async runBatch(batch: PlannedBatch, settle: (outcomes: BatchOutcome[]) => void): Promise<void> {
    let attempt: BatchAttempt | undefined = latestAttempt(this.db, this.plan.digest, batch.batchNo, () => initialRows(batch));
    const recorded = () => batchOutcomes(this.db, this.plan.digest, batch.batchNo);
    // Finished by an earlier run: nothing to send (a resume whose last batch was done writes its finish at the end).
    if (attempt?.status === 'done') return this.writes.run(() => settle(recorded()));
    // An attempt left open by a killed run may have been applied: its answer is unknown.
    let uncertain = attempt !== undefined;
    // What this run's attempts did: all the batch did, unless an earlier run started it.
    const outcomes: BatchOutcome[] | undefined = attempt === undefined ? [] : undefined;
    if (!attempt) {
      const rows = initialRows(batch);
      const key = idempotencyKey(this.plan, batch.batchNo, 0);
      await this.writes.run(() => openAttempt(this.db, this.plan.digest, batch.batchNo, 0, key));
      attempt = { batchNo: batch.batchNo, attempt: 0, idempotencyKey: key, status: 'open', rows, later: [], outcome: null };
    }
    let concurrentWaits = 0;
    while (attempt) {
      const tag: CallTag = { batchNo: batch.batchNo, key: attempt.idempotencyKey };
      const { decision, call } = await writeStep(this.client, {
        mode: batch.mode,
        rows: attempt.rows,
        level: this.level,
        movedBy: this.movedBy,
        key: attempt.idempotencyKey,
        uncertain,
        maxMisses: this.maxMisses,
        referenceDocumentUri: this.uri,
        tag,
        // An attempt this database opened before may have been applied by its killed run: that is no other run's.
        notBefore: uncertain ? undefined : this.notBefore,
        beforeAttempt: this.finish?.beforeWrite,
        onSent: this.finish && (() => this.finish!.sent(batch.batchNo)),
      });
      if (decision.refused || call.answer.kind === 'lost' || decision.key === 'same') this.recordDecision(attempt, batch.mode, call, decision);
      if (decision.refused) throw new SourceError(`Shopify refused batch ${batch.batchNo}: ${decision.refused}`);
      if (call.answer.kind === 'lost') {
        // Left open: a resumed apply sends it again under its key, and treats its rows as unknown.
        throw new SourceError(
          `Shopify's answer to batch ${batch.batchNo} was lost after every retry: its outcome is unknown; run the same apply again to resume`,
        );
      }
      if (decision.key === 'same') {
        if (++concurrentWaits > MAX_CONCURRENT_WAITS)
          throw new SourceError(
            `Shopify kept working on batch ${batch.batchNo} (${attempt.idempotencyKey}) for ${MAX_CONCURRENT_WAITS} s; run the same apply again to resume`,
          );
        await sleep(decision.waitMs);
        continue;
      }
      const answered = attempt;
      outcomes?.push(decision.outcome);
      attempt = await this.close(attempt, decision.outcome, [...decision.next, ...attempt.later], decision.size, (done) => {
        this.recordDecision(answered, batch.mode, call, decision);
        if (done) settle(outcomes ?? recorded());
      });
      uncertain = false;
    }
  }

  /**
   * Closes an attempt and opens the next (the first `size` remaining rows; the rest wait), in one
   * transaction with `also` (its audit call; `done`: nothing is left to send).
   */
  private async close(
    attempt: BatchAttempt,
    outcome: BatchOutcome,
    remaining: BatchRow[],
    size: number,
    also: (done: boolean) => void,
  ): Promise<BatchAttempt | undefined> {
    const next = remaining.slice(0, Math.min(size, BATCH_SIZE));
    const later = remaining.slice(next.length);
    const changes = this.auditChanges(outcome);
    const key = idempotencyKey(this.plan, attempt.batchNo, attempt.attempt + 1);
    await this.writes.run(() => {
      closeAttempt(this.db, this.plan.digest, attempt.batchNo, attempt.attempt, outcome);
      recordChanges(this.db, changes);
      if (next.length > 0) openAttempt(this.db, this.plan.digest, attempt.batchNo, attempt.attempt + 1, key, next, later);
      also(next.length === 0);
    });
    return next.length > 0
      ? { batchNo: attempt.batchNo, attempt: attempt.attempt + 1, idempotencyKey: key, status: 'open', rows: next, later, outcome: null }
      : undefined;
  }

  /** A batch done (now or by an earlier run): its outcomes counted into the result, and the hybrid base it leaves written. */
  settler(batch: PlannedBatch, result: ApplyResult, writer: ReturnType<typeof reconciledWriter>): (outcomes: BatchOutcome[]) => void {
    return (outcomes) => {
      countBatchOutcomes(batch, outcomes, result);
      writer.batch(batch, outcomes);
    };
  }

  private auditChanges(outcome: BatchOutcome): AuditChange[] {
    const change = (index: number, before: number | null, after: number, kind: AuditChange['outcome']): AuditChange => {
      const c = this.level(index);
      return {
        planDigest: this.plan.digest,
        sku: c.sku,
        inventoryItemId: c.inventoryItemId,
        locationId: c.locationId,
        before,
        after,
        rule: c.reason,
        outcome: kind,
      };
    };
    return [
      ...outcome.applied.map((a) => change(a.change, a.before, a.after, a.replayed ? 'replayed' : a.confirmed ? 'confirmed' : 'applied')),
      // Shopify may have moved these: a later plan must not take the move for a sale.
      ...(outcome.unresolved ?? []).flatMap((u) => (u.current === null ? [] : [change(u.change, null, u.current, 'unknown')])),
    ];
  }
}

/**
 * A dry run: counts the batches a commit would send and previews the first rows; with --live, reads every
 * planned level from Shopify, batch by batch, counting the stale ones and marking the previewed rows.
 */
async function preview(source: PlanSource, result: ApplyResult, applier: Applier | undefined): Promise<void> {
  if (applier) result.liveStale = 0;
  for (const batch of streamBatches(source.changes())) {
    const rows = previewBatch(result, batch);
    if (!applier) continue;
    const current = await applier.withBatch(batch, () => applier.readCurrent(batch.changes));
    batch.rows.forEach((c, i) => {
      const now = current.get(batch.changes[i]!) ?? null;
      if (now !== c.from) result.liveStale!++;
      const row = rows?.[i];
      if (row) {
        row.current = now;
        row.wouldSend = now === null ? null : now === row.from ? row.to : carriedTarget(row, now);
      }
    });
  }
  if (applier) result.calls = applier.client.counters.calls;
}

/** Adds up what every batch did, from the attempts recorded, batch by batch as the plan is read again. */
function settle(db: Db, source: PlanSource, result: ApplyResult): void {
  for (const batch of streamBatches(source.changes())) countBatchOutcomes(batch, batchOutcomes(db, source.header.digest, batch.batchNo), result);
}

/**
 * Applies a plan: a dry run by default (nothing is sent); with commit, batches go side by side with
 * compare-and-swap under idempotency keys, stale rows are re-read and carried forward or reported, and
 * progress is recorded so that a killed apply resumes without applying anything twice. The plan's
 * changes are read batch by batch (a plan file streams them): memory stays flat in their number.
 */
export async function applyPlan(db: Db, config: LoadedConfig, source: PlanSource, options: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const plan = source.header;
  const status = applyStatus(db, plan.digest);
  checkPlan(db, config, source, status !== undefined);
  // A resumed plan was verified when it started (its digest still matches); bases it recorded since would differ.
  const unverified = status === undefined ? verifyPlan(db, config, source, { force: options.unverified, commit: options.commit }) : [];
  const result = emptyResult(plan, !options.commit);
  result.unverified = unverified;
  const finish = () => {
    result.durationMs = Math.round(performance.now() - started);
    return result;
  };
  if (!options.commit) {
    await preview(source, result, options.live ? new Applier(db, config, plan, options) : undefined);
    return finish();
  }
  if (status === 'done' || status === 'conflicts') {
    // Everything was sent already; nothing is sent again. What was left unapplied still is, and says so.
    result.alreadyApplied = true;
    settle(db, source, result);
    result.skipped = result.plannedRows - undone(result);
    result.applied = 0;
    result.confirmed = 0;
    result.replayed = 0;
    return finish();
  }
  const applier = new Applier(db, config, plan, options);
  // Other installs sharing this shop: refused if one applied after this plan's baseline, else recorded as running.
  const install = installId(config.snapshot.path);
  let claimDone = false;
  const claim = claimShop(applier.client, plan, install, heldRecord(db, plan.shop));
  claim.then(
    () => (claimDone = true),
    () => (claimDone = true),
  );
  // While the claim is out, the first wave's batches are read from the plan, one per turn of the event
  // loop (the claim's request goes out first); nothing is recorded or sent before the claim is in place.
  const batches = streamBatches(source.changes());
  const ahead: PlannedBatch[] = [];
  let unreadable: { error: unknown } | undefined;
  while (!claimDone && ahead.length < applier.lanes.max) {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const next = batches.next();
      if (next.done) break;
      ahead.push(next.value);
    } catch (error) {
      // Thrown where the apply would have met it: in the batches' loop, once the claim is in place.
      unreadable = { error };
      break;
    }
  }
  const claimed = await claim;
  keepRecord(db, plan.shop, claimed);
  applier.notBefore = claimed.writtenAt;
  const shopFinish = new ShopFinish(applier.client, plan, install, claimed);
  applier.finish = shopFinish;
  // The claim's answer told the bucket: the first wave takes all it holds at once (the pacer keeps each call within it).
  const bucket = applier.client.throttleStatus();
  if (bucket) applier.lanes.widen(bucket.currentlyAvailable / DEFAULT_EXPECTED_COST);
  result.resumed = startApply(db, plan.digest, options.planPath, plan.shop).resumed;
  const total = plan.summary.changes;
  let rowsDone = 0;
  // What each batch did is counted, and the hybrid base it leaves written, as it finishes: no second pass over the plan.
  const writer = reconciledWriter(db, plan);
  // Checkpoints less often while the batches write (each copies the pages written since into the database
  // and syncs both files): with the default 1,000 pages a million changes took twice the CPU.
  const checkpointEvery = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${WAL_PAGES_WHILE_APPLYING}`);
  try {
    await runPool(
      (function* () {
        yield* ahead.splice(0);
        if (unreadable) throw unreadable.error;
        yield* batches;
        // The finish goes to the shop's record once this has run and the last batch's call has gone (ShopFinish).
        shopFinish.allStarted();
      })(),
      () => applier.lanes.limit,
      async (batch) => {
        shopFinish.starting(batch.batchNo);
        await applier.withBatch(batch, () => applier.runBatch(batch, applier.settler(batch, result, writer)));
        rowsDone += batch.changes.length;
        options.onProgress?.(rowsDone, total);
      },
    );
  } catch (error) {
    finishApply(db, plan.digest, 'failed');
    // Left running in the shop's record: a resume finishes it; other installs wait (or take it as dead after 6 h).
    const notTakenBack = await shopFinish.failed();
    if (notTakenBack === undefined) throw error;
    // Said with the error itself, which keeps its type (how it is shown, and its exit code).
    if (error instanceof InvreconError) error.details.push(notTakenBack);
    else if (error instanceof Error) error.message += `\n${notTakenBack}`;
    throw error;
  } finally {
    db.pragma(`wal_autocheckpoint = ${checkpointEvery}`);
    result.calls = applier.client.counters.calls;
    result.retries = applier.client.counters.retries;
    result.throttledWaits = applier.client.counters.throttledWaits;
    result.peakInFlight = applier.lanes.peak;
  }
  // Every write is answered: the finish (promised already, or written now) is settled while the hybrid bases are written here.
  const release = shopFinish.done();
  release.catch(() => undefined); // awaited below, after the local writes
  await new Promise((resolve) => setImmediate(resolve));
  db.transaction(() => writer.bases(source.hybridBaseline()))();
  finishApply(db, plan.digest, undone(result) > 0 ? 'conflicts' : 'done');
  keepRecord(db, plan.shop, await release);
  result.calls = applier.client.counters.calls;
  return finish();
}
