// A plan file is data a person (or anyone with write access to it) can edit, and its digest is only a
// checksum: whoever edits `to: 999` can recompute it. Before a plan is applied, its baseline snapshots
// must be the ones it names and its changes must be what the rules give for them.
import type { LoadedConfig } from '../config/load.js';
import { StaleError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getSnapshot } from '../store/snapshots.js';
import { buildPlan } from './build.js';
import type { Plan, PlanChange } from './model.js';

export interface VerifyOptions {
  /** Apply anyway (`apply --unverified`): recorded in plan_verifications, never silent. */
  force?: boolean;
  /** A commit is recorded when forced; a dry run only reports. */
  commit?: boolean;
}

/** Guards that depend only on the plan's own snapshots and config (not on what was applied since). */
const STATIC_GUARDS = new Set(['emptyErp', 'maxChanges', 'maxZeroedShare']);

const key = (c: { locationId: string; sku: string }) => `${c.locationId}\u0000${c.sku}`;

function describeChange(c: Pick<PlanChange, 'from' | 'to' | 'inventoryItemId' | 'mode'> | undefined): string {
  return c ? `${c.from} → ${c.to} (${c.mode}, ${c.inventoryItemId})` : 'no change';
}

/**
 * The reasons this plan cannot be trusted, or none: a baseline snapshot missing or with another
 * content hash, a change or hybrid base that the rules do not give for those snapshots, a guard the
 * plan claims passed but fails.
 */
export function planMismatches(db: Db, config: LoadedConfig, plan: Plan): string[] {
  const problems: string[] = [];
  for (const side of ['erp', 'shopify'] as const) {
    const ref = plan.baseline[side];
    const snapshot = getSnapshot(db, ref.snapshotId);
    if (!snapshot) problems.push(`baseline ${side} snapshot #${ref.snapshotId} does not exist in ${db.name}`);
    else if (snapshot.side !== side) problems.push(`baseline ${side} snapshot #${ref.snapshotId} is a ${snapshot.side} snapshot`);
    else if (snapshot.contentHash !== ref.contentHash) problems.push(`baseline ${side} snapshot #${ref.snapshotId} has content hash ${snapshot.contentHash.slice(0, 12)}…, the plan says ${ref.contentHash.slice(0, 12)}…`);
  }
  if (problems.length > 0) return problems;

  const { plan: again } = buildPlan(db, config, { erpSnapshotId: plan.baseline.erp.snapshotId, shopifySnapshotId: plan.baseline.shopify.snapshotId, force: plan.guards.forced });
  // A plan made with --sku, --location or --threshold holds a part of the changes: each must be as recomputed.
  const expected = new Map(again.changes.map((c) => [key(c), c]));
  for (const change of plan.changes) {
    const want = expected.get(key(change));
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
  }
  const bases = new Map(again.hybridBaseline.map((b) => [key(b), b]));
  for (const base of plan.hybridBaseline) {
    const want = bases.get(key(base));
    if (!want || want.erpAvailable !== base.erpAvailable || want.shopifyAvailable !== base.shopifyAvailable) {
      problems.push(`${base.sku} at ${base.locationId}: the plan records a hybrid base its baseline does not give`);
    }
  }
  if (!plan.guards.forced) {
    for (const check of again.guards.checks.filter((c) => STATIC_GUARDS.has(c.name) && !c.ok)) {
      if (plan.guards.checks.find((c) => c.name === check.name)?.ok !== false) problems.push(`guard ${check.name} fails for its baseline (${check.message}) but the plan says it passed`);
    }
  }
  return problems;
}

/**
 * Refuses a plan that is not what `invrecon plan` made from its baseline (an edited file, made-up
 * snapshot ids or hashes, a config changed since), unless forced. Returns the mismatches that were
 * forced through (recorded when committing).
 */
export function verifyPlan(db: Db, config: LoadedConfig, plan: Plan, options: VerifyOptions = {}): string[] {
  const problems = planMismatches(db, config, plan);
  if (problems.length > 0 && !options.force) {
    throw new StaleError(
      `the plan is not what "invrecon plan" gives for its baseline snapshots (${problems.length} difference${problems.length === 1 ? '' : 's'}): edited, made for another database, or the config changed since; make a new plan (or apply --unverified, recorded)`,
      [...problems.slice(0, 10), ...(problems.length > 10 ? [`… and ${problems.length - 10} more`] : [])],
    );
  }
  if (problems.length > 0 && options.commit) {
    db.prepare('INSERT INTO plan_verifications (plan_digest, forced_at, mismatches) VALUES (?, ?, ?)').run(plan.digest, new Date().toISOString(), JSON.stringify(problems));
  }
  return problems;
}
