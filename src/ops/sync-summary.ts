// What a sync run records of itself: its summary to start from, the Shopify calls it made, the largest drifts,
// per-location drift, and the levels still off once it is done (for alerts).
import type { ApplyResult } from '../plan/apply.js';
import type { DiffRow, PreparedDiff } from '../reconcile/diff.js';
import type { CallEvent } from '../sources/shopify/client.js';
import type { LockRow } from './lock.js';
import type { DriftingLevel, LocationDrift, SyncSummary } from './runs.js';

/** How many of the largest drifts a run's summary lists. */
export const TOP_DRIFTING = 20;

/** Counts requests that needed a retry and those whose retry got through, from the client's call events. */
export function retryTracker() {
  const counts = { calls: 0, retries: 0, retriedRequests: 0, recoveredRequests: 0, throttled: 0, waitedMs: 0 };
  const onCall = (event: CallEvent) => {
    counts.calls++;
    counts.waitedMs += event.waitedMs;
    if (event.outcome === 'throttled') counts.throttled++;
    if (event.attempt > 1) counts.retries++;
    if (event.attempt === 2) counts.retriedRequests++;
    // A retry succeeded when it got past the transient failure: an answer, even a GraphQL error the caller handles.
    if (event.attempt > 1 && (event.outcome === 'ok' || event.outcome === 'error')) counts.recoveredRequests++;
  };
  return { counts, onCall };
}

const levelKey = (sku: string, locationName: string) => `${sku}\u0000${locationName}`;

const drifting = (row: DiffRow): DriftingLevel => ({
  sku: row.sku,
  locationName: row.locationName,
  target: row.target,
  observed: row.observed,
  delta: row.delta!,
  status: row.status,
});

/** The largest drifts, read from SQL: a first sync where every level drifts never lists them all. */
export function topDrifting(diff: PreparedDiff, count: number): DriftingLevel[] {
  const top: DriftingLevel[] = [];
  for (const row of diff.driftingRows(0)) {
    top.push(drifting(row));
    if (top.length === count) break;
  }
  return top;
}

/** Per location, Shopify drift as diff counts it (the plan's changes are those levels). */
export function locationDrift(diff: PreparedDiff): LocationDrift[] {
  return diff.summary.byLocation.map((location) => ({
    locationId: location.locationId,
    locationName: location.locationName,
    levelsCompared: location.levelsCompared,
    drifting: location.levelsDrifting,
    totalAbsDrift: location.totalAbsDrift,
    erpCorrections: location.erpDrift.levels,
    leftOut: location.leftOut,
  }));
}

/** Keeps the largest deviations for the alert, and counts them all. */
const MAX_DEVIATIONS_KEPT = 100;

/**
 * Levels still off by more than `limit` once the apply is done (everything in a dry run, else what was
 * not applied), largest first: the first MAX_DEVIATIONS_KEPT, and how many in all. Streamed from SQL.
 */
export function remainingDeviations(diff: PreparedDiff, apply: ApplyResult | undefined, limit: number): { levels: DriftingLevel[]; count: number } {
  const unapplied = new Set(
    [...(apply?.conflictRows ?? []), ...(apply?.unresolvedRows ?? []), ...(apply?.failedRows ?? [])].map((r) => levelKey(r.sku, r.locationName)),
  );
  const applied = apply !== undefined && !apply.dryRun;
  const levels: DriftingLevel[] = [];
  let count = 0;
  for (const row of diff.driftingRows(limit)) {
    if (applied && row.status === 'change' && !unapplied.has(levelKey(row.sku, row.locationName))) continue;
    if (count++ < MAX_DEVIATIONS_KEPT) levels.push(drifting(row));
  }
  return { levels, count };
}

export function emptySummary(commit: boolean, lock: LockRow): SyncSummary {
  return {
    command: 'sync',
    dryRun: !commit,
    outcome: 'running',
    owner: lock.owner,
    phases: {},
    snapshots: {},
    levelsCompared: 0,
    drifting: 0,
    totalAbsDrift: 0,
    erpCorrections: 0,
    reportedConflicts: 0,
    applied: 0,
    skipped: 0,
    conflicts: 0,
    failed: 0,
    remaining: 0,
    calls: 0,
    retries: 0,
    retriedRequests: 0,
    recoveredRequests: 0,
    throttled: 0,
    throttledWaits: 0,
    waitedMs: 0,
    byLocation: [],
    topDrifting: [],
    warnings: [],
    durationMs: 0,
  };
}
