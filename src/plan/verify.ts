// A plan file is data a person (or anyone with write access to it) can edit, and its digest is only a
// checksum: whoever edits `to: 999` can recompute it. Before a plan is applied, its baseline snapshots
// must be the ones it names and its changes must be what the rules give for them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { StaleError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getSnapshot } from '../store/snapshots.js';
import { buildPlan } from './build.js';
import { openPlan } from './file.js';
import { madeHere } from './made.js';
import type { HybridBase, Plan, PlanChange, PlanHeader } from './model.js';

export interface VerifyOptions {
  /** Apply anyway (`apply --unverified`): recorded in plan_verifications, never silent. */
  force?: boolean;
  /** A commit is recorded when forced; a dry run only reports. */
  commit?: boolean;
}

/** Guards that depend only on the plan's own snapshots and config (not on what was applied since). */
const STATIC_GUARDS = new Set(['emptyErp', 'maxChanges', 'maxZeroedShare', 'emptiedLocations']);

function describeChange(c: Pick<PlanChange, 'from' | 'to' | 'inventoryItemId' | 'mode'> | undefined): string {
  return c ? `${c.from} → ${c.to} (${c.mode}, ${c.inventoryItemId})` : 'no change';
}

/** The rows of a plan as verify reads them: a plan file, or a whole plan in memory (planSource). */
export interface PlanSource {
  header: PlanHeader;
  changes(): Iterable<PlanChange>;
  hybridBaseline(): Iterable<HybridBase>;
}

/** A whole plan in memory as a PlanSource. */
export function planSource(plan: Plan): PlanSource {
  return { header: plan, changes: () => plan.changes, hybridBaseline: () => plan.hybridBaseline };
}

/** Plan order as SQLite sorts it (BINARY: UTF-8 bytes): sets before adjusts, then location id, then SKU. */
function compareKeys(a: { mode?: string; locationId: string; sku: string }, b: { mode?: string; locationId: string; sku: string }): number {
  const rank = (c: { mode?: string }) => (c.mode === 'adjust' ? 1 : 0);
  return rank(a) - rank(b) || Buffer.compare(Buffer.from(a.locationId), Buffer.from(b.locationId)) || Buffer.compare(Buffer.from(a.sku), Buffer.from(b.sku));
}

/**
 * Walks the plan's rows beside the recomputed ones (both in plan order), calling `check` with each plan
 * row and the recomputed row of the same level, if any: memory stays flat in the number of changes.
 */
function mergeWalk<T extends { locationId: string; sku: string; mode?: string }>(
  plan: Iterable<T>,
  again: Iterable<T>,
  check: (row: T, want: T | undefined) => void,
  outOfOrder: () => void,
): void {
  const recomputed = again[Symbol.iterator]();
  let next = recomputed.next();
  let previous: T | undefined;
  for (const row of plan) {
    if (previous && compareKeys(previous, row) >= 0) {
      outOfOrder();
      return;
    }
    previous = row;
    // A recomputed adjust and a plan set of the same level are both looked at: compare by level, not by mode.
    while (!next.done && compareKeys(next.value, row) < 0 && !sameLevel(next.value, row)) next = recomputed.next();
    check(row, !next.done && sameLevel(next.value, row) ? next.value : undefined);
  }
}

const sameLevel = (a: { locationId: string; sku: string }, b: { locationId: string; sku: string }) => a.locationId === b.locationId && a.sku === b.sku;

/**
 * The reasons this plan cannot be trusted, or none: a baseline snapshot missing or with another
 * content hash, a change or hybrid base that the rules do not give for those snapshots, a guard the
 * plan claims passed but fails. The plan is recomputed, unless this database wrote it from the same
 * config (plans_made).
 */
export function planMismatches(db: Db, config: LoadedConfig, source: PlanSource): string[] {
  const problems = baselineMismatches(db, source.header);
  if (problems.length > 0) return problems;
  // Written by this database from the same config: the rules gave exactly this. Only for a plan file:
  // openPlan checked its rows against the digest; a plan in memory may hold rows the digest does not cover.
  if ('path' in source && madeHere(db, config, source.header.digest)) return [];
  return recomputedMismatches(db, config, source);
}

/** The plan's baseline snapshots, if missing or not the ones it names. */
function baselineMismatches(db: Db, plan: PlanHeader): string[] {
  const problems: string[] = [];
  for (const side of ['erp', 'shopify'] as const) {
    const ref = plan.baseline[side];
    const snapshot = getSnapshot(db, ref.snapshotId);
    if (!snapshot) problems.push(`baseline ${side} snapshot #${ref.snapshotId} does not exist in ${db.name}`);
    else if (snapshot.side !== side) problems.push(`baseline ${side} snapshot #${ref.snapshotId} is a ${snapshot.side} snapshot`);
    else if (snapshot.contentHash !== ref.contentHash)
      problems.push(
        `baseline ${side} snapshot #${ref.snapshotId} has content hash ${snapshot.contentHash.slice(0, 12)}…, the plan says ${ref.contentHash.slice(0, 12)}…`,
      );
  }
  return problems;
}

/** What differs between the plan and the plan its baseline gives, recomputed into a side file and read in step. */
function recomputedMismatches(db: Db, config: LoadedConfig, source: PlanSource): string[] {
  const plan = source.header;
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'invrecon-verify-'));
  try {
    const built = buildPlan(
      db,
      config,
      { erpSnapshotId: plan.baseline.erp.snapshotId, shopifySnapshotId: plan.baseline.shopify.snapshotId, force: plan.guards.forced },
      { out: join(dir, 'plan.json') },
    );
    const again = openPlan(built.path);
    // A plan made with --sku, --location or --threshold holds a part of the changes: each must be as recomputed.
    mergeWalk(
      source.changes(),
      again.changes(),
      (change, want) => {
        const same =
          want !== undefined &&
          want.inventoryItemId === change.inventoryItemId &&
          want.from === change.from &&
          want.to === change.to &&
          want.delta === change.delta &&
          want.mode === change.mode &&
          want.authority === change.authority &&
          want.erpAvailable === change.erpAvailable;
        if (!same) problems.push(`${change.sku} at ${change.locationName}: the plan has ${describeChange(change)}, its baseline gives ${describeChange(want)}`);
      },
      () => problems.push("the plan's changes are not in plan order (sets before adjusts, then location, then SKU): it was edited"),
    );
    mergeWalk(
      source.hybridBaseline(),
      again.hybridBaseline(),
      (base, want) => {
        if (!want || want.erpAvailable !== base.erpAvailable || want.shopifyAvailable !== base.shopifyAvailable) {
          problems.push(`${base.sku} at ${base.locationId}: the plan records a hybrid base its baseline does not give`);
        }
      },
      () => problems.push("the plan's hybrid base is not in plan order: it was edited"),
    );
    if (!plan.guards.forced) {
      for (const check of again.header.guards.checks.filter((c) => STATIC_GUARDS.has(c.name) && !c.ok)) {
        if (plan.guards.checks.find((c) => c.name === check.name)?.ok !== false)
          problems.push(`guard ${check.name} fails for its baseline (${check.message}) but the plan says it passed`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/**
 * Refuses a plan that is not what `invrecon plan` made from its baseline (an edited file, made-up
 * snapshot ids or hashes, a config changed since), unless forced. Returns the mismatches that were
 * forced through (recorded when committing).
 */
export function verifyPlan(db: Db, config: LoadedConfig, source: PlanSource, options: VerifyOptions = {}): string[] {
  const plan = source.header;
  const problems = planMismatches(db, config, source);
  if (problems.length > 0 && !options.force) {
    throw new StaleError(
      `the plan is not what "invrecon plan" gives for its baseline snapshots (${problems.length} difference${problems.length === 1 ? '' : 's'}): edited, made for another database, or the config changed since; make a new plan (or apply --unverified, recorded)`,
      [...problems.slice(0, 10), ...(problems.length > 10 ? [`… and ${problems.length - 10} more`] : [])],
    );
  }
  if (problems.length > 0 && options.commit) {
    db.prepare('INSERT INTO plan_verifications (plan_digest, forced_at, mismatches) VALUES (?, ?, ?)').run(
      plan.digest,
      new Date().toISOString(),
      JSON.stringify(problems),
    );
  }
  return problems;
}
