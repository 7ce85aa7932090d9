// What makes a plan unfit to apply: another shop, failed guards, levels another plan changed since its
// baseline, or a newer snapshot that shows other values. The changes are read as they come.
import type { LoadedConfig } from '../../config/load.js';
import { InputError, StaleError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { latestSnapshot } from '../../store/snapshots.js';
import type { PlanChange, PlanHeader } from '../model.js';
import type { PlanSource } from '../verify.js';

/** Examples a refusal lists (the count covers them all). */
const EXAMPLES = 10;

/** Refuses a plan that may no longer be applied: another shop, not applyable, or stale. */
export function checkPlan(db: Db, config: LoadedConfig, source: PlanSource, resuming: boolean): void {
  const plan = source.header;
  if (plan.shop !== config.shopify.shop) {
    throw new StaleError(`the plan was made for ${plan.shop}, but the config is for ${config.shopify.shop}: make a plan with this config`);
  }
  if (!plan.guards.applyable) {
    const failed = plan.guards.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
    throw new InputError('the plan is not applyable: its guards failed (check the ERP export; "invrecon plan --force" overrides)', failed);
  }
  // invrecon's own writes since the baseline are not sales: carrying them forward would apply a change twice.
  const changedByUs = levelsChangedByOtherPlans(db, source);
  if (changedByUs.count > 0) {
    throw new StaleError(
      `the plan is stale: invrecon has changed ${changedByUs.count} of its levels since its baseline (another plan was applied); run "invrecon pull shopify" and "invrecon plan" again`,
      changedByUs.examples.map((c) => `${c.sku} at ${c.locationName}: set by plan ${c.byPlan.slice(0, 12)}`),
    );
  }
  if (resuming) return;
  const newest = latestSnapshot(db, 'shopify');
  if (!newest || newest.id <= plan.baseline.shopify.snapshotId) return;
  // A newer snapshot that still shows the plan's `from` for every level does not make it stale.
  const read = db.prepare('SELECT available FROM shopify_levels WHERE snapshot_id = ? AND inventory_item_id = ? AND location_id = ?').pluck();
  let moved = 0;
  const examples: string[] = [];
  for (const c of source.changes()) {
    const now = read.get(newest.id, c.inventoryItemId, c.locationId) as number | undefined;
    if (now === c.from) continue;
    if (moved++ < EXAMPLES) examples.push(`${c.sku} at ${c.locationName}: planned from ${c.from}, now ${now ?? 'not stocked'}`);
  }
  if (moved > 0) {
    throw new StaleError(
      `the plan is stale: Shopify snapshot #${newest.id} is newer than its baseline #${plan.baseline.shopify.snapshotId} and shows other values for ${moved} of its levels; run "invrecon plan" again`,
      examples,
    );
  }
}

/** The digest of another plan that changed (or may have changed) this level after `plan`'s Shopify baseline was read, if any. */
export function otherPlanChangesLookup(
  db: Db,
  plan: Pick<PlanHeader, 'baseline' | 'digest'>,
): (change: Pick<PlanChange, 'inventoryItemId' | 'locationId'>) => string | undefined {
  const lookup = db
    .prepare("SELECT plan_digest FROM audit_changes WHERE inventory_item_id = ? AND location_id = ? AND at >= ? AND COALESCE(plan_digest, '') <> ? LIMIT 1")
    .pluck();
  return (c) => lookup.get(c.inventoryItemId, c.locationId, plan.baseline.shopify.takenAt, plan.digest) as string | undefined;
}

/**
 * Whether anything but this plan wrote a level after its baseline (most often nothing did: the plan was
 * made from a pull after the last apply). The newest rows are looked at, not just the last one: rows are
 * appended in time order, give or take the few milliseconds watch's times run behind.
 */
function othersWroteSince(db: Db, plan: Pick<PlanHeader, 'baseline' | 'digest'>): boolean {
  const newest = db
    .prepare("SELECT MAX(at) FROM (SELECT at FROM audit_changes WHERE COALESCE(plan_digest, '') <> ? ORDER BY id DESC LIMIT 1000)")
    .pluck()
    .get(plan.digest) as string | null;
  return newest !== null && newest >= plan.baseline.shopify.takenAt;
}

/** How many levels of this plan another plan changed after this plan's Shopify baseline was read, and the first few. */
export function levelsChangedByOtherPlans(db: Db, source: PlanSource): { count: number; examples: (PlanChange & { byPlan: string })[] } {
  let count = 0;
  if (!othersWroteSince(db, source.header)) return { count, examples: [] };
  const changedBy = otherPlanChangesLookup(db, source.header);
  const examples: (PlanChange & { byPlan: string })[] = [];
  for (const c of source.changes()) {
    const byPlan = changedBy(c);
    if (byPlan === undefined) continue;
    if (count++ < EXAMPLES) examples.push({ ...c, byPlan });
  }
  return { count, examples };
}
