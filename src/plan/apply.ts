import type { LoadedConfig } from '../config/load.js';
import { InputError, SourceError, StaleError } from '../errors.js';
import { createShopifyClient, type CallEvent, type ShopifyClient, type ShopifyClientOptions } from '../sources/shopify/client.js';
import {
  AVAILABLE_AT_LOCATION,
  INVENTORY_ADJUST_QUANTITIES,
  INVENTORY_SET_QUANTITIES,
  type AvailableAtLocationData,
  type InventoryAdjustQuantitiesData,
  type InventoryChangeNode,
  type InventorySetQuantitiesData,
  type UserError,
} from '../sources/shopify/documents.js';
import {
  allOutcomes,
  applyStatus,
  closeAttempt,
  finishApply,
  latestAttempt,
  openAttempt,
  startApply,
  type BatchAttempt,
  type BatchOutcome,
  type BatchRow,
} from '../store/applies.js';
import { recordCall, recordChanges } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { latestSnapshot } from '../store/snapshots.js';
import { planReferenceUri, type Plan, type PlanChange } from './model.js';
import { verifyPlan } from './verify.js';

/** Shopify takes at most 250 rows per inventory mutation. */
export const BATCH_SIZE = 250;
/** Compare-and-swap misses after which a row is reported as a conflict instead of retried. */
export const DEFAULT_MAX_MISSES = 5;

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

export interface ApplyOptions {
  commit: boolean;
  planPath: string;
  maxMisses?: number;
  /** Dry run only: read each level's current available to show which changes are already stale. */
  live?: boolean;
  clientOptions?: ShopifyClientOptions;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
  /** Apply a plan that verify.ts finds is not what its baseline gives (recorded). */
  unverified?: boolean;
}

export interface RowReport {
  sku: string;
  locationName: string;
  from: number;
  to: number;
  current: number | null;
  message: string;
}

export interface PreviewRow {
  sku: string;
  locationName: string;
  inventoryItemId: string;
  locationId: string;
  from: number;
  to: number;
  /** With a live dry run: Shopify's available now (null: not stocked), and the value that would be sent. */
  current?: number | null;
  wouldSend?: number | null;
}

export interface ApplyResult {
  planDigest: string;
  dryRun: boolean;
  applied: number;
  skipped: number;
  conflicts: number;
  failed: number;
  alreadyApplied: boolean;
  resumed: boolean;
  /** Differences from its baseline that --unverified let through (empty when verified). */
  unverified: string[];
  batches: { batchNo: number; mode: PlanChange['mode']; rows: PreviewRow[] }[];
  conflictRows: RowReport[];
  failedRows: RowReport[];
  calls: number;
  retries: number;
  throttledWaits: number;
  durationMs: number;
}

/** Refuses a plan that may no longer be applied: another shop, not applyable, or stale. */
export function checkPlan(db: Db, config: LoadedConfig, plan: Plan, resuming: boolean): void {
  if (plan.shop !== config.shopify.shop) {
    throw new StaleError(`the plan was made for ${plan.shop}, but the config is for ${config.shopify.shop}: make a plan with this config`);
  }
  if (!plan.guards.applyable) {
    const failed = plan.guards.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
    throw new InputError('the plan is not applyable: its guards failed (check the ERP export; "invrecon plan --force" overrides)', failed);
  }
  // invrecon's own writes since the baseline are not sales: carrying them forward would apply a change twice.
  const changedByUs = levelsChangedByOtherPlans(db, plan);
  if (changedByUs.length > 0) {
    throw new StaleError(
      `the plan is stale: invrecon has changed ${changedByUs.length} of its levels since its baseline (another plan was applied); run "invrecon pull shopify" and "invrecon plan" again`,
      changedByUs.slice(0, 10).map((c) => `${c.sku} at ${c.locationName}: set by plan ${c.byPlan.slice(0, 12)}`),
    );
  }
  if (resuming) return;
  const newest = latestSnapshot(db, 'shopify');
  if (!newest || newest.id <= plan.baseline.shopify.snapshotId) return;
  // A newer snapshot that still shows the plan's `from` for every level does not make it stale.
  const read = db.prepare('SELECT available FROM shopify_levels WHERE snapshot_id = ? AND inventory_item_id = ? AND location_id = ?').pluck();
  const moved = plan.changes.filter((c) => read.get(newest.id, c.inventoryItemId, c.locationId) !== c.from);
  if (moved.length > 0) {
    throw new StaleError(
      `the plan is stale: Shopify snapshot #${newest.id} is newer than its baseline #${plan.baseline.shopify.snapshotId} and shows other values for ${moved.length} of its levels; run "invrecon plan" again`,
      moved.slice(0, 10).map((c) => `${c.sku} at ${c.locationName}: planned from ${c.from}, now ${read.get(newest.id, c.inventoryItemId, c.locationId) ?? 'not stocked'}`),
    );
  }
}

/** The digest of another plan that changed this level after `plan`'s Shopify baseline was read, if any. */
function otherPlanChangesLookup(db: Db, plan: Plan): (change: PlanChange) => string | undefined {
  const lookup = db
    .prepare("SELECT plan_digest FROM audit_changes WHERE inventory_item_id = ? AND location_id = ? AND at >= ? AND COALESCE(plan_digest, '') <> ? LIMIT 1")
    .pluck();
  return (c) => lookup.get(c.inventoryItemId, c.locationId, plan.baseline.shopify.takenAt, plan.digest) as string | undefined;
}

/** Levels of this plan that another plan changed after this plan's Shopify baseline was read. */
export function levelsChangedByOtherPlans(db: Db, plan: Plan): (PlanChange & { byPlan: string })[] {
  const changedBy = otherPlanChangesLookup(db, plan);
  return plan.changes.flatMap((c) => {
    const byPlan = changedBy(c);
    return byPlan === undefined ? [] : [{ ...c, byPlan }];
  });
}

function previewBatches(plan: Plan, batches: PlannedBatch[]): ApplyResult['batches'] {
  return batches.map((b) => ({
    batchNo: b.batchNo,
    mode: b.mode,
    rows: b.changes.map((i) => {
      const c = plan.changes[i]!;
      return { sku: c.sku, locationName: c.locationName, inventoryItemId: c.inventoryItemId, locationId: c.locationId, from: c.from, to: c.to };
    }),
  }));
}

function initialRows(plan: Plan, batch: PlannedBatch): BatchRow[] {
  return batch.changes.map((i) => {
    const c = plan.changes[i]!;
    return { change: i, changeFromQuantity: c.from, value: c.mode === 'set' ? c.to : c.to - c.from, misses: 0 };
  });
}

/** The row index a user error points at: field ["input", "quantities" | "changes", "3", ...]. */
function rowIndexOf(error: UserError): number | undefined {
  const index = error.field?.[2];
  return index !== undefined && /^\d+$/.test(index) ? Number(index) : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Applier {
  private context: { batchNo: number | null; key: string | null } = { batchNo: null, key: null };
  readonly client: ShopifyClient;
  private readonly maxMisses: number;
  private readonly changedByOtherPlan: (change: PlanChange) => string | undefined;

  constructor(
    private readonly db: Db,
    config: LoadedConfig,
    private readonly plan: Plan,
    options: ApplyOptions,
  ) {
    this.maxMisses = options.maxMisses ?? DEFAULT_MAX_MISSES;
    this.changedByOtherPlan = otherPlanChangesLookup(db, plan);
    const onCall = options.clientOptions?.onCall;
    this.client = createShopifyClient(config, {
      ...options.clientOptions,
      onCall: (event: CallEvent) => {
        this.audit(event);
        onCall?.(event);
      },
    });
  }

  private audit(event: CallEvent): void {
    recordCall(this.db, {
      planDigest: this.plan.digest,
      batchNo: this.context.batchNo,
      idempotencyKey: this.context.key,
      operation: event.operation,
      cost: event.actualCost ?? event.requestedCost ?? null,
      latencyMs: Math.round(event.latencyMs),
      outcome: event.attempt > 1 ? `${event.outcome} (attempt ${event.attempt})` : event.outcome,
      detail: event.message ?? null,
    });
  }

  private async send(mode: PlanChange['mode'], rows: BatchRow[], key: string): Promise<{ userErrors: UserError[]; changes: InventoryChangeNode[] }> {
    const uri = planReferenceUri(this.plan);
    if (mode === 'set') {
      const { data } = await this.client.request<InventorySetQuantitiesData>(INVENTORY_SET_QUANTITIES, {
        idempotencyKey: key,
        referenceDocumentUri: uri,
        quantities: rows.map((r) => {
          const c = this.plan.changes[r.change]!;
          return { inventoryItemId: c.inventoryItemId, locationId: c.locationId, quantity: r.value, changeFromQuantity: r.changeFromQuantity };
        }),
      });
      const payload = data.inventorySetQuantities;
      return { userErrors: payload?.userErrors ?? [], changes: payload?.inventoryAdjustmentGroup?.changes ?? [] };
    }
    const { data } = await this.client.request<InventoryAdjustQuantitiesData>(INVENTORY_ADJUST_QUANTITIES, {
      idempotencyKey: key,
      referenceDocumentUri: uri,
      changes: rows.map((r) => {
        const c = this.plan.changes[r.change]!;
        return { inventoryItemId: c.inventoryItemId, locationId: c.locationId, delta: r.value, changeFromQuantity: r.changeFromQuantity };
      }),
    });
    const payload = data.inventoryAdjustQuantities;
    return { userErrors: payload?.userErrors ?? [], changes: payload?.inventoryAdjustmentGroup?.changes ?? [] };
  }

  /** Current available of these changes' levels (indexes into plan.changes), read from Shopify; null: not stocked. */
  async readCurrent(changes: readonly number[]): Promise<Map<number, number | null>> {
    const current = new Map<number, number | null>();
    const byLocation = new Map<string, number[]>();
    for (const change of changes) {
      const locationId = this.plan.changes[change]!.locationId;
      const group = byLocation.get(locationId);
      if (group) group.push(change);
      else byLocation.set(locationId, [change]);
    }
    for (const [locationId, all] of byLocation) {
      for (let at = 0; at < all.length; at += BATCH_SIZE) {
        const group = all.slice(at, at + BATCH_SIZE);
        const ids = group.map((change) => this.plan.changes[change]!.inventoryItemId);
        const { data } = await this.client.request<AvailableAtLocationData>(AVAILABLE_AT_LOCATION, { ids, locationId });
        const byItem = new Map(data.nodes.filter((n) => n !== null).map((n) => [n!.id, n!.inventoryLevel?.quantities.find((q) => q.name === 'available')?.quantity ?? null]));
        for (const change of group) current.set(change, byItem.get(this.plan.changes[change]!.inventoryItemId) ?? null);
      }
    }
    return current;
  }

  /**
   * Sends one batch until every row is applied, skipped, failed or given up. Each attempt is recorded
   * before it is sent and closed after, together with the next attempt, in one transaction.
   */
  async runBatch(batch: PlannedBatch): Promise<void> {
    let attempt: BatchAttempt | undefined = latestAttempt(this.db, this.plan.digest, batch.batchNo);
    if (attempt?.status === 'done') return;
    if (!attempt) {
      const rows = initialRows(this.plan, batch);
      const key = idempotencyKey(this.plan, batch.batchNo, 0);
      openAttempt(this.db, this.plan.digest, batch.batchNo, 0, key, rows);
      attempt = { batchNo: batch.batchNo, attempt: 0, idempotencyKey: key, status: 'open', rows, later: [], outcome: null };
    }
    let concurrentWaits = 0;
    for (;;) {
      this.context = { batchNo: batch.batchNo, key: attempt.idempotencyKey };
      const response = await this.send(batch.mode, attempt.rows, attempt.idempotencyKey);
      const outcome: BatchOutcome = { applied: [], conflicts: [], failed: [], skipped: [] };
      if (response.userErrors.length === 0) {
        const changesByLevel = new Map(response.changes.filter((c) => c.name === 'available').map((c) => [`${c.item?.id} ${c.location?.id}`, c]));
        for (const row of attempt.rows) {
          const c = this.plan.changes[row.change]!;
          const change = changesByLevel.get(`${c.inventoryItemId} ${c.locationId}`);
          const target = batch.mode === 'set' ? row.value : row.changeFromQuantity + row.value;
          const after = change?.quantityAfterChange ?? target;
          outcome.applied.push({ change: row.change, before: change ? after - change.delta : row.changeFromQuantity, after });
        }
        // It went through: send more at once again, up to a full batch.
        attempt = this.close(attempt, outcome, attempt.later, Math.min(BATCH_SIZE, attempt.rows.length * 2));
        if (!attempt) return;
        continue;
      }
      const unplaced = response.userErrors.filter((e) => rowIndexOf(e) === undefined || rowIndexOf(e)! >= attempt!.rows.length);
      // Shopify is still working on this very request (sent by an earlier, killed run): wait for it.
      if (unplaced.some((e) => e.code === 'IDEMPOTENCY_CONCURRENT_REQUEST') && concurrentWaits++ < 30) {
        await sleep(1000);
        continue;
      }
      // Shopify keeps a failed attempt's answer under its key; that attempt changed nothing (all or
      // nothing), so the same rows go again under the next key.
      if (unplaced.length > 0 && unplaced.every((e) => e.code === 'IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED')) {
        attempt = this.close(attempt, outcome, [...attempt.rows, ...attempt.later], attempt.rows.length);
        if (!attempt) return;
        continue;
      }
      if (unplaced.length > 0) {
        throw new SourceError(`Shopify refused batch ${batch.batchNo}: ${unplaced.map((e) => `${e.code ?? 'error'}: ${e.message}`).join('; ')}`);
      }
      // All or nothing: nothing of this attempt was applied. Keep the good rows, re-plan the stale ones.
      const errorsByRow = new Map<number, UserError>();
      for (const error of response.userErrors) errorsByRow.set(rowIndexOf(error)!, error);
      const stale = attempt.rows.filter((_, i) => errorsByRow.get(i)?.code === 'CHANGE_FROM_QUANTITY_STALE');
      const current = stale.length > 0 ? await this.readCurrent(stale.map((row) => row.change)) : new Map<number, number | null>();
      const next: BatchRow[] = [];
      attempt.rows.forEach((row, i) => {
        const error = errorsByRow.get(i);
        const c = this.plan.changes[row.change]!;
        if (!error) return next.push(row);
        if (error.code !== 'CHANGE_FROM_QUANTITY_STALE') return outcome.failed.push({ change: row.change, code: error.code ?? 'error', message: error.message });
        const now = current.get(row.change) ?? null;
        if (now === null) return outcome.failed.push({ change: row.change, code: 'ITEM_NOT_STOCKED_AT_LOCATION', message: 'the level is gone' });
        // A move made by another invrecon plan is not a sale to carry forward: that would apply a change twice.
        if (this.changedByOtherPlan(c) !== undefined) {
          return outcome.conflicts.push({ change: row.change, current: now, message: 'another invrecon plan changed this level since the snapshot' });
        }
        // What sold (or arrived) since the snapshot is carried into the target, never overwritten.
        const target = Math.max(0, c.to + (now - c.from));
        if (now === target) return outcome.skipped.push({ change: row.change, current: now });
        if (row.misses + 1 >= this.maxMisses) {
          return outcome.conflicts.push({ change: row.change, current: now, message: `the level kept changing (${row.misses + 1} compare-and-swap miss${row.misses === 0 ? '' : 'es'})` });
        }
        next.push({ change: row.change, changeFromQuantity: now, value: batch.mode === 'set' ? target : target - now, misses: row.misses + 1 });
      });
      // One moved level fails the whole call: while levels keep moving, send fewer at a time so calls go through.
      attempt = this.close(attempt, outcome, [...next, ...attempt.later], Math.max(1, Math.floor(attempt.rows.length / 2)));
      if (!attempt) return;
    }
  }

  /**
   * Closes an attempt and opens the next one, sending the first `size` of the remaining rows and keeping
   * the rest for later, in one transaction.
   */
  private close(attempt: BatchAttempt, outcome: BatchOutcome, remaining: BatchRow[], size: number): BatchAttempt | undefined {
    const next = remaining.slice(0, size);
    const later = remaining.slice(size);
    let opened: BatchAttempt | undefined;
    this.db.transaction(() => {
      closeAttempt(this.db, this.plan.digest, attempt.batchNo, attempt.attempt, outcome);
      recordChanges(
        this.db,
        outcome.applied.map((a) => {
          const c = this.plan.changes[a.change]!;
          return { planDigest: this.plan.digest, sku: c.sku, inventoryItemId: c.inventoryItemId, locationId: c.locationId, before: a.before, after: a.after, rule: c.reason };
        }),
      );
      if (next.length > 0) {
        const key = idempotencyKey(this.plan, attempt.batchNo, attempt.attempt + 1);
        openAttempt(this.db, this.plan.digest, attempt.batchNo, attempt.attempt + 1, key, next, later);
        opened = { batchNo: attempt.batchNo, attempt: attempt.attempt + 1, idempotencyKey: key, status: 'open', rows: next, later, outcome: null };
      }
    })();
    return opened;
  }
}

function rowReport(plan: Plan, change: number, current: number | null, message: string): RowReport {
  const c = plan.changes[change]!;
  return { sku: c.sku, locationName: c.locationName, from: c.from, to: c.to, current, message };
}

/** Marks each previewed row with Shopify's value now and what a commit would send for it (reads only). */
async function previewLive(applier: Applier, plan: Plan, batches: PlannedBatch[], result: ApplyResult): Promise<void> {
  const current = await applier.readCurrent(plan.changes.map((_, i) => i));
  for (const [b, batch] of result.batches.entries()) {
    for (const [r, row] of batch.rows.entries()) {
      const now = current.get(batches[b]!.changes[r]!) ?? null;
      row.current = now;
      row.wouldSend = now === null ? null : now === row.from ? row.to : Math.max(0, row.to + (now - row.from));
    }
  }
  result.calls = applier.client.counters.calls;
}

function countOutcomes(plan: Plan, outcomes: BatchOutcome[], result: ApplyResult): void {
  for (const outcome of outcomes) {
    result.applied += outcome.applied.length;
    result.skipped += outcome.skipped.length;
    for (const c of outcome.conflicts) result.conflictRows.push(rowReport(plan, c.change, c.current, c.message));
    for (const f of outcome.failed) result.failedRows.push(rowReport(plan, f.change, null, `${f.code}: ${f.message}`));
  }
  result.conflicts = result.conflictRows.length;
  result.failed = result.failedRows.length;
}

/** The hybrid base: what both sides agreed on once this plan is applied. */
function recordReconciled(db: Db, plan: Plan, outcomes: BatchOutcome[]): void {
  const upsert = db.prepare(
    `INSERT INTO reconciled_levels (sku, location_id, erp_available, shopify_available, erp_snapshot_id, shopify_snapshot_id, plan_digest, reconciled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sku, location_id) DO UPDATE SET erp_available = excluded.erp_available, shopify_available = excluded.shopify_available,
       erp_snapshot_id = excluded.erp_snapshot_id, shopify_snapshot_id = excluded.shopify_snapshot_id, plan_digest = excluded.plan_digest, reconciled_at = excluded.reconciled_at`,
  );
  const at = new Date().toISOString();
  const put = (sku: string, locationId: string, erp: number, shopify: number) =>
    upsert.run(sku, locationId, erp, shopify, plan.baseline.erp.snapshotId, plan.baseline.shopify.snapshotId, plan.digest, at);
  db.transaction(() => {
    for (const b of plan.hybridBaseline) put(b.sku, b.locationId, b.erpAvailable, b.shopifyAvailable);
    for (const outcome of outcomes) {
      for (const a of outcome.applied) put(plan.changes[a.change]!.sku, plan.changes[a.change]!.locationId, plan.changes[a.change]!.erpAvailable, a.after);
      for (const s of outcome.skipped) put(plan.changes[s.change]!.sku, plan.changes[s.change]!.locationId, plan.changes[s.change]!.erpAvailable, s.current);
    }
  })();
}

/**
 * Applies a plan: a dry run by default (nothing is sent), with commit every batch is sent with
 * compare-and-swap under an idempotency key, stale rows are re-read and re-planned, and progress is
 * recorded so that a killed apply resumes without applying anything twice.
 */
export async function applyPlan(db: Db, config: LoadedConfig, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const batches = planBatches(plan);
  const status = applyStatus(db, plan.digest);
  checkPlan(db, config, plan, status !== undefined);
  // A resumed plan was verified when it started (its digest still matches); bases it recorded since would differ.
  const unverified = status === undefined ? verifyPlan(db, config, plan, { force: options.unverified, commit: options.commit }) : [];
  const result: ApplyResult = {
    planDigest: plan.digest,
    dryRun: !options.commit,
    applied: 0,
    skipped: 0,
    conflicts: 0,
    failed: 0,
    alreadyApplied: false,
    resumed: false,
    unverified,
    batches: previewBatches(plan, batches),
    conflictRows: [],
    failedRows: [],
    calls: 0,
    retries: 0,
    throttledWaits: 0,
    durationMs: 0,
  };
  if (!options.commit) {
    if (options.live) await previewLive(new Applier(db, config, plan, options), plan, batches, result);
    result.durationMs = Math.round(performance.now() - started);
    return result;
  }
  if (status === 'done' || status === 'conflicts') {
    // Everything was sent already; nothing is sent again. What was left unapplied still is, and says so.
    result.alreadyApplied = true;
    countOutcomes(plan, allOutcomes(db, plan.digest), result);
    result.skipped = plan.changes.length - result.conflicts - result.failed;
    result.applied = 0;
    result.durationMs = Math.round(performance.now() - started);
    return result;
  }
  const { resumed } = startApply(db, plan.digest, options.planPath, plan.shop);
  result.resumed = resumed;
  const applier = new Applier(db, config, plan, options);
  let rowsDone = 0;
  try {
    for (const batch of batches) {
      await applier.runBatch(batch);
      rowsDone += batch.changes.length;
      options.onProgress?.(rowsDone, plan.changes.length);
    }
  } catch (error) {
    finishApply(db, plan.digest, 'failed');
    throw error;
  } finally {
    result.calls = applier.client.counters.calls;
    result.retries = applier.client.counters.retries;
    result.throttledWaits = applier.client.counters.throttledWaits;
  }
  const outcomes = allOutcomes(db, plan.digest);
  countOutcomes(plan, outcomes, result);
  recordReconciled(db, plan, outcomes);
  finishApply(db, plan.digest, result.conflicts + result.failed > 0 ? 'conflicts' : 'done');
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
