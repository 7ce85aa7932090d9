// Levels Shopify has but does not count (untracked items, inactive locations): named in the diff's
// issues, so that a merchant finds them without reading every row.
import type { Db } from '../store/db.js';
import { plural } from '../text.js';
import { type ResolvedLocation } from './locations.js';

/** At most this many untracked SKUs are named in the issue line; `diff --sku` or the rows show the rest. */
export const UNTRACKED_SKUS_NAMED = 10;

/** Reads t_diff once the join has filled it. */
export function leftOutIssues(db: Db, resolved: readonly ResolvedLocation[]): string[] {
  const issues: string[] = [];
  const atLocation = db.prepare(`SELECT COUNT(*) FROM t_diff WHERE status = 'inactive-location' AND location_id = ?`).pluck();
  for (const location of resolved.filter((l) => !l.isActive)) {
    const levels = atLocation.get(location.locationId) as number;
    issues.push(
      `locations[${location.configIndex}].shopifyLocation: ${JSON.stringify(location.locationName)} is inactive in Shopify (deactivated): nothing is written there, ` +
        `${plural(levels, 'level')} left out; reactivate it, or remove this entry from "locations" ` +
        // Mapping a closed store's warehouse to another location would add stock that is not on that location's shelves.
        `(map ${location.warehouses.map((w) => JSON.stringify(w)).join(', ')} to another location only if that stock has really moved there)`,
    );
  }
  const untracked = db.prepare(`SELECT COUNT(DISTINCT sku) AS skus, COUNT(*) AS levels FROM t_diff WHERE status = 'untracked'`).get() as {
    skus: number;
    levels: number;
  };
  if (untracked.skus > 0) {
    const named = db.prepare(`SELECT DISTINCT sku FROM t_diff WHERE status = 'untracked' ORDER BY sku LIMIT ?`).pluck().all(UNTRACKED_SKUS_NAMED) as string[];
    const more = untracked.skus > named.length ? ` and ${untracked.skus - named.length} more` : '';
    issues.push(
      `${plural(untracked.skus, 'SKU')} left out (${plural(untracked.levels, 'level')}): Shopify does not track ${untracked.skus === 1 ? 'its' : 'their'} quantities, so nothing is written for ${untracked.skus === 1 ? 'it' : 'them'}: ` +
        `${named.map((s) => JSON.stringify(s)).join(', ')}${more}; turn on "Track quantity" in Shopify to reconcile ${untracked.skus === 1 ? 'it' : 'them'}`,
    );
  }
  return issues;
}
