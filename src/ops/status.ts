import type { LoadedConfig } from '../config/load.js';
import { InvreconError, errorMessage } from '../errors.js';
import { prepareDiff } from '../reconcile/diff.js';
import type { LeftOut } from '../reconcile/diff-model.js';
import type { Db } from '../store/db.js';
import { readWatchStats, type WatchStats } from './watch/stats.js';
import { latestSnapshot } from '../store/snapshots.js';
import { readLock, staleReason, type LockEnvironment, type LockRow } from './lock.js';
import { lastRunWith, recentRuns, REPORTED_COMMANDS, type PhaseTimes, type RunOutcome, type RunRecord } from './runs.js';

export interface RunLine {
  id: number;
  /** sync, or apply (a manual apply --commit). */
  command: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: RunOutcome;
  dryRun: boolean | null;
  durationMs: number | null;
  levelsCompared: number | null;
  drifting: number | null;
  /** Levels the run's plan left out (untracked items, inactive locations); null when it did not plan, or before it was recorded. */
  leftOut: number | null;
  applied: number | null;
  conflicts: number | null;
  retries: number;
  throttledWaits: number;
  alert: boolean;
  error: string | null;
  /** Each phase that ran, in order: its time and peak resident memory (MB; null for runs recorded before it was). */
  phaseFigures: { phase: keyof PhaseTimes; ms: number; peakRssMb: number | null }[];
}

const PHASE_ORDER: (keyof PhaseTimes)[] = ['pullErp', 'pullShopify', 'plan', 'apply'];

export interface DriftNow {
  erpSnapshotId: number;
  shopifySnapshotId: number;
  erpTakenAt: string;
  shopifyTakenAt: string;
  levelsCompared: number;
  /** Shopify drift: levels invrecon would write, and their total |delta| (the sum over byLocation). */
  shopifyChanges: number;
  totalAbsDrift: number;
  /** ERP drift: corrections the ERP must take, and their units. */
  erpCorrections: number;
  erpCorrectionUnits: number;
  conflicts: number;
  /** Levels above alerts.maxDeviation, when it is set. */
  aboveMaxDeviation: number | null;
  /** Levels left out (untracked items, inactive locations): never written, no drift, not compared. */
  leftOut: LeftOut;
  byLocation: {
    locationName: string;
    levelsCompared: number;
    levelsDrifting: number;
    totalAbsDrift: number;
    erpCorrections: number;
    conflicts: number;
    leftOut: number;
  }[];
  /** A committed sync read this Shopify snapshot and then applied changes: the snapshot predates them. */
  appliedSince: { runId: number; applied: number; remaining: number } | null;
}

export interface Status {
  generatedAt: string;
  lock: (LockRow & { stale: string | null }) | null;
  /** The last sync or manual apply that committed and finished cleanly (dry runs change nothing, so they never count). */
  lastSuccess: { runId: number; command: string; finishedAt: string; dryRun: false; ageMs: number } | null;
  /** The same run (kept for readers of the earlier field). */
  lastCommitted: { runId: number; command: string; finishedAt: string; ageMs: number } | null;
  /** The last dry-run sync that finished, for a job that only plans. */
  lastDryRun: { runId: number; finishedAt: string; ageMs: number } | null;
  /** Time since the last successful committed run: how far Shopify may lag the ERP. */
  syncLatencyMs: number | null;
  driftNow: DriftNow | null;
  /** Why driftNow is null (no snapshots yet, a config problem, ...). */
  driftNote: string | null;
  window: {
    runs: number;
    outcomes: Partial<Record<RunOutcome, number>>;
    calls: number;
    retries: number;
    retriedRequests: number;
    recoveredRequests: number;
    /** recovered / retried requests; null when nothing needed a retry. */
    retrySuccessRate: number | null;
    throttled: number;
    throttledWaits: number;
    waitedMs: number;
  };
  runs: RunLine[];
  /** `invrecon watch` figures (events, writes, latency, queue), null when it never ran on this database. */
  watch: WatchStats | null;
}

/** Completed without error (a dry run that found drift completed too). */
export const SUCCESS: RunOutcome[] = ['ok', 'drift'];

/** One run as a line of figures, from its recorded summary. */
export function runLine(run: RunRecord): RunLine {
  const s = run.summary;
  const finished = run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : null;
  return {
    id: run.id,
    command: run.command,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    outcome: run.outcome,
    dryRun: s.dryRun ?? null,
    durationMs: s.durationMs ?? finished,
    levelsCompared: s.guards ? (s.levelsCompared ?? null) : null,
    drifting: s.guards ? (s.drifting ?? null) : null,
    leftOut: s.guards ? (s.leftOut?.levels ?? null) : null,
    applied: s.dryRun === false && s.phases?.apply !== undefined ? (s.applied ?? 0) : null,
    conflicts: s.phases?.apply !== undefined ? (s.conflicts ?? 0) + (s.failed ?? 0) : null,
    retries: s.retries ?? 0,
    throttledWaits: s.throttledWaits ?? 0,
    alert: (s.alert?.reasons.length ?? 0) > 0,
    error: s.error ?? null,
    phaseFigures: PHASE_ORDER.filter((phase) => s.phases?.[phase] !== undefined).map((phase) => ({
      phase,
      ms: s.phases?.[phase] ?? 0,
      peakRssMb: s.phasePeakRssMb?.[phase] ?? null,
    })),
  };
}

function appliedSince(db: Db, shopifySnapshotId: number): DriftNow['appliedSince'] {
  const run = recentRuns(db, REPORTED_COMMANDS, 20).find(
    (r) => r.summary.snapshots?.shopify === shopifySnapshotId && r.summary.dryRun === false && (r.summary.applied ?? 0) > 0,
  );
  return run ? { runId: run.id, applied: run.summary.applied ?? 0, remaining: run.summary.remaining ?? 0 } : null;
}

function driftNow(db: Db, config: LoadedConfig): { drift: DriftNow | null; note: string | null } {
  const erp = latestSnapshot(db, 'erp');
  const shopify = latestSnapshot(db, 'shopify');
  if (!erp || !shopify) return { drift: null, note: `no ${!erp ? 'ERP' : 'Shopify'} snapshot yet` };
  try {
    // Counted in SQL: a first sync where every level drifts must not load them all to show three numbers.
    const diff = prepareDiff(db, config, {});
    const limit = config.alerts?.maxDeviation;
    const totals = diff.changeTotals(limit);
    const summary = diff.summary;
    return {
      note: null,
      drift: {
        erpSnapshotId: diff.erpSnapshot.id,
        shopifySnapshotId: diff.shopifySnapshot.id,
        erpTakenAt: diff.erpSnapshot.takenAt,
        shopifyTakenAt: diff.shopifySnapshot.takenAt,
        levelsCompared: summary.levelsCompared,
        shopifyChanges: summary.levelsDrifting,
        totalAbsDrift: summary.totalAbsDrift,
        erpCorrections: summary.erpDrift.levels,
        erpCorrectionUnits: summary.erpDrift.units,
        conflicts: summary.conflicts,
        aboveMaxDeviation: limit === undefined ? null : totals.aboveLimit,
        leftOut: summary.leftOut,
        byLocation: summary.byLocation.map((l) => ({
          locationName: l.locationName,
          levelsCompared: l.levelsCompared,
          levelsDrifting: l.levelsDrifting,
          totalAbsDrift: l.totalAbsDrift,
          erpCorrections: l.erpDrift.levels,
          conflicts: l.conflicts,
          leftOut: l.leftOut,
        })),
        appliedSince: appliedSince(db, diff.shopifySnapshot.id),
      },
    };
  } catch (error) {
    // Status must still show the runs when the snapshots cannot be compared.
    return { drift: null, note: error instanceof InvreconError ? error.message : errorMessage(error) };
  }
}

/** The last runs, the lock, drift now, sync latency, retry success and throttling over the last N runs. */
export function buildStatus(db: Db, config: LoadedConfig, options: { runs: number; now?: () => number; lockEnv?: LockEnvironment }): Status {
  const now = (options.now ?? Date.now)();
  const runs = recentRuns(db, REPORTED_COMMANDS, options.runs);
  const lock = readLock(db);
  const committed = lastRunWith(db, REPORTED_COMMANDS, ['ok'], { committed: true });
  const dryRun = lastRunWith(db, 'sync', SUCCESS, { committed: false });
  const { drift, note } = driftNow(db, config);
  const window: Status['window'] = {
    runs: runs.length,
    outcomes: {},
    calls: 0,
    retries: 0,
    retriedRequests: 0,
    recoveredRequests: 0,
    retrySuccessRate: null,
    throttled: 0,
    throttledWaits: 0,
    waitedMs: 0,
  };
  for (const run of runs) {
    window.outcomes[run.outcome] = (window.outcomes[run.outcome] ?? 0) + 1;
    const s = run.summary;
    window.calls += s.calls ?? 0;
    window.retries += s.retries ?? 0;
    window.retriedRequests += s.retriedRequests ?? 0;
    window.recoveredRequests += s.recoveredRequests ?? 0;
    window.throttled += s.throttled ?? 0;
    window.throttledWaits += s.throttledWaits ?? 0;
    window.waitedMs += s.waitedMs ?? 0;
  }
  if (window.retriedRequests > 0) window.retrySuccessRate = window.recoveredRequests / window.retriedRequests;
  const age = (at: string) => Math.max(0, now - Date.parse(at));
  return {
    generatedAt: new Date(now).toISOString(),
    lock: lock ? { ...lock, stale: staleReason(lock, { ...options.lockEnv, now: () => now }) ?? null } : null,
    lastSuccess: committed?.finishedAt
      ? { runId: committed.id, command: committed.command, finishedAt: committed.finishedAt, dryRun: false, ageMs: age(committed.finishedAt) }
      : null,
    lastCommitted: committed?.finishedAt
      ? { runId: committed.id, command: committed.command, finishedAt: committed.finishedAt, ageMs: age(committed.finishedAt) }
      : null,
    lastDryRun: dryRun?.finishedAt ? { runId: dryRun.id, finishedAt: dryRun.finishedAt, ageMs: age(dryRun.finishedAt) } : null,
    syncLatencyMs: committed?.finishedAt ? age(committed.finishedAt) : null,
    driftNow: drift,
    driftNote: note,
    window,
    runs: runs.map(runLine),
    watch: readWatchStats(db, now),
  };
}
