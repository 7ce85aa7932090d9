// What makes a plan unfit to apply: another shop, failed guards, levels another plan changed since its
// baseline, or a newer snapshot that shows other values.
import type { LoadedConfig } from '../../config/load.js';
import { InputError, StaleError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { latestSnapshot } from '../../store/snapshots.js';
import type { Plan, PlanChange } from '../model.js';

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

/** The digest of another plan that changed (or may have changed) this level after `plan`'s Shopify baseline was read, if any. */
export function otherPlanChangesLookup(db: Db, plan: Plan): (change: PlanChange) => string | undefined {
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
