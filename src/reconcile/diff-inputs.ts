// What a diff reads: the snapshots it compares, and a refusal when there is nothing to compare.
import { InputError, UsageError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getSnapshot, latestSnapshot, type SnapshotInfo, type Side } from '../store/snapshots.js';
import { type ResolvedLocation } from './locations.js';

export function pickSnapshot(db: Db, side: Side, id: number | undefined): SnapshotInfo {
  if (id !== undefined) {
    const snapshot = getSnapshot(db, id);
    if (!snapshot) throw new UsageError(`--${side}-snapshot ${id}: no such snapshot (see "invrecon snapshots")`);
    if (snapshot.side !== side) throw new UsageError(`--${side}-snapshot ${id}: snapshot ${id} is a ${snapshot.side} snapshot`);
    return snapshot;
  }
  const latest = latestSnapshot(db, side);
  if (!latest) throw new InputError(`no ${side === 'erp' ? 'ERP' : 'Shopify'} snapshot yet: run "invrecon pull ${side}" first`);
  return latest;
}

/**
 * A mapping that matches no Shopify location, or a shop with no levels at any mapped one (an empty
 * shop, every location renamed), compares nothing: that must fail, not pass as "no drift".
 */
export function refuseEmptyComparison(
  db: Db,
  shopify: SnapshotInfo,
  locations: { id: string; name: string }[],
  resolved: ResolvedLocation[],
  problems: string[],
): void {
  const known = locations.length
    ? locations
        .slice(0, 10)
        .map((l) => JSON.stringify(l.name))
        .join(', ') + (locations.length > 10 ? ', …' : '')
    : 'none';
  if (resolved.length === 0) {
    throw new InputError(`no entry of locations matches a Shopify location of snapshot #${shopify.id} (Shopify has: ${known}); nothing to compare`, problems);
  }
  const ids = resolved.map((l) => l.locationId);
  const stocked = db
    .prepare(`SELECT 1 FROM shopify_levels WHERE snapshot_id = ? AND location_id IN (${ids.map(() => '?').join(', ')}) LIMIT 1`)
    .get(shopify.id, ...ids);
  if (stocked === undefined) {
    throw new InputError(
      `Shopify snapshot #${shopify.id} has no inventory levels at any mapped location (${resolved.map((l) => JSON.stringify(l.locationName)).join(', ')}): an empty shop, or the wrong shop; nothing to compare`,
      problems,
    );
  }
}
