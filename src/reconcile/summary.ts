// The diff's summary, per location and in all, from one grouped pass over t_diff.
import type { Db } from '../store/db.js';
import { type ResolvedLocation } from './locations.js';
import { type DiffSummary, LEFT_OUT_STATUSES, type LocationSummary, type RowStatus, driftKind } from './diff-model.js';

function emptyLocationSummary(locationId: string, locationName: string): LocationSummary {
  return {
    locationId,
    locationName,
    levelsCompared: 0,
    levelsDrifting: 0,
    totalAbsDrift: 0,
    oversell: { levels: 0, units: 0 },
    lostSales: { levels: 0, units: 0 },
    erpDrift: { levels: 0, units: 0 },
    conflicts: 0,
    stocked: 0,
    leftOut: 0,
  };
}

/** Plain `ok` levels counted (not stored) by the join, per location: all of them, and those with stock in Shopify. */
export type DroppedOk = Map<string, { levels: number; stocked: number }>;

export function summarize(
  db: Db,
  locations: readonly ResolvedLocation[],
  where: string,
  params: Record<string, unknown>,
  threshold: number,
  droppedOk: DroppedOk,
): DiffSummary {
  // One pass over t_diff, grouped by (location, status); the rest is added up here. Drift is beyond the
  // threshold: Shopify drift for a change (oversell when observed is above target, lost sales below),
  // ERP drift for an ERP correction.
  const groups = db
    .prepare(
      `SELECT location_id AS locationId, status, COUNT(*) AS n,
         SUM(observed IS NOT NULL AND (target IS NOT NULL OR status = 'conflict')) AS compared,
         SUM(observed > 0 AND (target IS NOT NULL OR status = 'conflict')) AS stocked,
         SUM(observed - target > @threshold) AS oversellLevels, SUM(CASE WHEN observed - target > @threshold THEN observed - target ELSE 0 END) AS oversellUnits,
         SUM(target - observed > @threshold) AS lostLevels, SUM(CASE WHEN target - observed > @threshold THEN target - observed ELSE 0 END) AS lostUnits,
         SUM(clamped) AS clamped
       FROM t_diff d ${where}
       GROUP BY location_id, status`,
    )
    .all({ ...params, threshold }) as {
    locationId: string;
    status: RowStatus;
    n: number;
    compared: number | null;
    stocked: number | null;
    oversellLevels: number | null;
    oversellUnits: number | null;
    lostLevels: number | null;
    lostUnits: number | null;
    clamped: number | null;
  }[];
  const names = new Map(locations.map((l) => [l.locationId, l.locationName]));
  const byId = new Map<string, LocationSummary>();
  const locationOf = (locationId: string) => {
    let location = byId.get(locationId);
    if (!location) {
      location = emptyLocationSummary(locationId, names.get(locationId) ?? locationId);
      byId.set(locationId, location);
    }
    return location;
  };
  const counts = new Map<string, number>();
  let clamped = 0;
  for (const g of groups) {
    counts.set(g.status, (counts.get(g.status) ?? 0) + g.n);
    clamped += g.clamped ?? 0;
    const location = locationOf(g.locationId);
    // Left-out levels are not compared: counted there, they would dilute the zeroed share and keep a
    // location that the plan empties looking stocked (see docs/reconcile.md, "Left out").
    if (LEFT_OUT_STATUSES.includes(g.status)) location.leftOut += g.n;
    else if (g.status !== 'ambiguous-sku') {
      location.levelsCompared += g.compared ?? 0;
      location.stocked += g.stocked ?? 0;
    }
    const levels = (g.oversellLevels ?? 0) + (g.lostLevels ?? 0);
    const units = (g.oversellUnits ?? 0) + (g.lostUnits ?? 0);
    if (driftKind(g.status) === 'shopify') {
      location.oversell.levels += g.oversellLevels ?? 0;
      location.oversell.units += g.oversellUnits ?? 0;
      location.lostSales.levels += g.lostLevels ?? 0;
      location.lostSales.units += g.lostUnits ?? 0;
      location.levelsDrifting += levels;
      location.totalAbsDrift += units;
    } else if (driftKind(g.status) === 'erp') {
      location.erpDrift.levels += levels;
      location.erpDrift.units += units;
    } else if (g.status === 'conflict') location.conflicts += g.n;
  }
  for (const [locationId, dropped] of droppedOk) {
    const location = locationOf(locationId);
    location.levelsCompared += dropped.levels;
    location.stocked += dropped.stocked;
    counts.set('ok', (counts.get('ok') ?? 0) + dropped.levels);
  }
  const byLocation = [...byId.values()].sort((a, b) => (a.locationName < b.locationName ? -1 : a.locationName > b.locationName ? 1 : 0));
  // Every total is the sum of its locations.
  const sum = (pick: (l: LocationSummary) => number) => byLocation.reduce((total, l) => total + pick(l), 0);
  return {
    threshold,
    levelsCompared: sum((l) => l.levelsCompared),
    levelsDrifting: sum((l) => l.levelsDrifting),
    totalAbsDrift: sum((l) => l.totalAbsDrift),
    oversell: { levels: sum((l) => l.oversell.levels), units: sum((l) => l.oversell.units) },
    lostSales: { levels: sum((l) => l.lostSales.levels), units: sum((l) => l.lostSales.units) },
    erpDrift: { levels: sum((l) => l.erpDrift.levels), units: sum((l) => l.erpDrift.units) },
    conflicts: sum((l) => l.conflicts),
    stocked: sum((l) => l.stocked),
    byLocation,
    reported: {
      'erp-correction': counts.get('erp-correction') ?? 0,
      conflict: counts.get('conflict') ?? 0,
      'not-in-shopify': counts.get('not-in-shopify') ?? 0,
      'not-stocked': counts.get('not-stocked') ?? 0,
      'not-in-erp': counts.get('not-in-erp') ?? 0,
      'ambiguous-sku': counts.get('ambiguous-sku') ?? 0,
      untracked: counts.get('untracked') ?? 0,
      'inactive-location': counts.get('inactive-location') ?? 0,
      clamped,
    },
    leftOut: {
      levels: (counts.get('untracked') ?? 0) + (counts.get('inactive-location') ?? 0),
      ofUntrackedItems: counts.get('untracked') ?? 0,
      atInactiveLocations: counts.get('inactive-location') ?? 0,
    },
  };
}

/** The counts a gate looks at, from a diff summary. */
export function driftCounts(summary: DiffSummary): { shopify: number; erp: number; conflicts: number } {
  return { shopify: summary.levelsDrifting, erp: summary.erpDrift.levels, conflicts: summary.conflicts };
}
