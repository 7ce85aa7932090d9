// What makes a plan unfit to apply: another shop, failed guards, levels another plan changed since its
// baseline, or a newer snapshot that shows other values. The changes are read as they come.
import type { LoadedConfig } from '../../config/load.js';
import { InputError, StaleError } from '../../errors.js';
import { changesByOthersSince, newestChangeByOthers } from '../../store/audit.js';
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
      changedByUs.examples.map((c) => `${c.sku} at ${c.locationName}: set by ${otherWriter(c.byPlan)}`),
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

/**
 * The digest of another plan that changed (or may have changed) a level after `plan`'s Shopify baseline was
 * read, if any ('' for watch). What others recorded since is read once; `live`: before each answer, what
 * they added since too (an apply asks while others may write; a check of the whole plan asks at one time).
 */
export function otherPlanChangesLookup(
  db: Db,
  plan: Pick<PlanHeader, 'baseline' | 'digest'>,
  { live }: { live: boolean },
): (change: Pick<PlanChange, 'inventoryItemId' | 'locationId'>) => string | undefined {
  const byLevel = new Map<string, string>();
  let seen: number | undefined;
  return (c) => {
    if (seen === undefined || live) {
      const added = changesByOthersSince(db, plan.digest, plan.baseline.shopify.takenAt, seen ?? 0);
      seen = added.lastId;
      for (const o of added.changes) {
        const key = `${o.inventoryItemId} ${o.locationId}`;
        if (!byLevel.has(key)) byLevel.set(key, o.planDigest ?? '');
      }
    }
    return byLevel.get(`${c.inventoryItemId} ${c.locationId}`);
  };
}

/** Who a digest from otherPlanChangesLookup names. */
export function otherWriter(digest: string): string {
  return digest === '' ? 'invrecon watch' : `another invrecon plan (${digest.slice(0, 12)})`;
}

/**
 * Whether anything but this plan wrote a level after its baseline (most often nothing did: the plan was
 * made from a pull after the last apply). The newest sets are looked at, not just the last one: rows are
 * appended in time order, give or take the few milliseconds watch's times run behind.
 */
function othersWroteSince(db: Db, plan: Pick<PlanHeader, 'baseline' | 'digest'>): boolean {
  const newest = newestChangeByOthers(db, plan.digest);
  return newest !== null && newest >= plan.baseline.shopify.takenAt;
}

/** How many levels of this plan another plan changed after this plan's Shopify baseline was read, and the first few. */
export function levelsChangedByOtherPlans(db: Db, source: PlanSource): { count: number; examples: (PlanChange & { byPlan: string })[] } {
  let count = 0;
  if (!othersWroteSince(db, source.header)) return { count, examples: [] };
  const changedBy = otherPlanChangesLookup(db, source.header, { live: false });
  const examples: (PlanChange & { byPlan: string })[] = [];
  for (const c of source.changes()) {
    const byPlan = changedBy(c);
    if (byPlan === undefined) continue;
    if (count++ < EXAMPLES) examples.push({ ...c, byPlan });
  }
  return { count, examples };
}
