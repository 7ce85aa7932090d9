// Problems of the mapping as a whole: unmapped warehouses and locations.
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { type ResolvedLocation } from './locations.js';
import { plural } from '../text.js';

export function locationIssues(db: Db, config: LoadedConfig, resolved: ResolvedLocation[], shopifyId: number, erpId: number, problems: string[]): string[] {
  const issues = [...problems];
  // Warehouses of a config entry that could not be used (location missing, ambiguous or mapped twice): mapped, but to nothing.
  const resolvedEntries = new Set(resolved.map((l) => l.configIndex));
  const unusedEntry = new Map<string, number>();
  config.locations.forEach((entry, index) => {
    if (!resolvedEntries.has(index)) for (const warehouse of entry.warehouses) unusedEntry.set(warehouse, index);
  });
  const unmappedWarehouses = db
    .prepare(
      'SELECT warehouse, COUNT(*) AS n FROM erp_levels WHERE snapshot_id = ? AND warehouse NOT IN (SELECT warehouse FROM t_wh) GROUP BY warehouse ORDER BY warehouse',
    )
    .all(erpId) as { warehouse: string; n: number }[];
  for (const w of unmappedWarehouses) {
    const entry = unusedEntry.get(w.warehouse);
    issues.push(
      entry === undefined
        ? `ERP warehouse ${JSON.stringify(w.warehouse)} is not mapped to a Shopify location (${plural(w.n, 'row')} ignored)`
        : `ERP warehouse ${JSON.stringify(w.warehouse)} belongs to locations[${entry}], which cannot be used (see above) (${plural(w.n, 'row')} ignored)`,
    );
  }
  const unmappedLocations = db
    .prepare(
      // Counts levels only at unmapped locations (usually none), not over the whole snapshot. A deactivated
      // location that nobody maps is nothing to act on.
      `SELECT l.location_id, l.name,
         (SELECT COUNT(*) FROM shopify_levels sl WHERE sl.snapshot_id = l.snapshot_id AND sl.location_id = l.location_id) AS n
       FROM shopify_locations l
       WHERE l.snapshot_id = ? AND l.is_active <> 0 AND l.location_id NOT IN (SELECT location_id FROM t_loc) ORDER BY l.name`,
    )
    .all(shopifyId) as { location_id: string; name: string; n: number }[];
  for (const l of unmappedLocations.filter((l) => l.n > 0))
    issues.push(
      `Shopify location ${JSON.stringify(l.name)} (${l.location_id}) stocks ${plural(l.n, 'item')} but no ERP warehouse is mapped to it: left as it is`,
    );
  return issues;
}
