import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { recentRuns, REPORTED_COMMANDS, type PhaseTimes } from './runs.js';
import { buildStatus, runLine, type DriftNow, type RunLine, type Status } from './status.js';

/** A run as status shows it, plus what the report's charts need. */
export interface ReportRun extends RunLine {
  phases: PhaseTimes;
  totalAbsDrift: number | null;
  /** Levels still off after the sync. */
  remaining: number | null;
}

export interface SkuDrift {
  sku: string;
  locationName: string;
  /** Syncs that found it drifting, of the runs in the report. */
  times: number;
  totalAbsDelta: number;
  lastDelta: number;
  lastStatus: string;
}

export interface ReportData {
  formatVersion: 1;
  generatedAt: string;
  shop: string;
  /** Oldest first: the chart's x axis. */
  runs: ReportRun[];
  /** Drift per location found by the newest sync that planned. */
  byLocation: {
    runId: number | null;
    /** leftOut: levels left out there (untracked items, an inactive location); null for runs recorded before it was. */
    locations: { locationName: string; levelsCompared: number; drifting: number; totalAbsDrift: number; leftOut: number | null }[];
  };
  topDrifting: SkuDrift[];
  driftNow: DriftNow | null;
  driftNote: string | null;
  lastSuccess: { runId: number; command: string; finishedAt: string } | null;
  syncLatencyMs: number | null;
  /** `invrecon watch` figures, when it ever ran on this database. */
  watch: Status['watch'];
}

const TOP_SKUS = 15;

/** Everything the HTML report shows, from the runs table and the newest snapshots. */
export function buildReportData(db: Db, config: LoadedConfig, options: { runs: number; now?: () => number }): ReportData {
  const status = buildStatus(db, config, { runs: options.runs, now: options.now });
  const records = recentRuns(db, REPORTED_COMMANDS, options.runs).reverse();
  const runs: ReportRun[] = records.map((run) => {
    const s = run.summary;
    const planned = s.guards !== undefined;
    return {
      ...runLine(run),
      phases: s.phases ?? {},
      totalAbsDrift: planned ? (s.totalAbsDrift ?? null) : null,
      remaining: planned && run.finishedAt ? (s.remaining ?? null) : null,
    };
  });

  const newestPlanned = [...records].reverse().find((run) => run.summary.byLocation && run.summary.guards);
  const byLocation = newestPlanned
    ? {
        runId: newestPlanned.id,
        locations: (newestPlanned.summary.byLocation ?? []).map(({ locationName, levelsCompared, drifting, totalAbsDrift, leftOut }) => ({
          locationName,
          levelsCompared,
          drifting,
          totalAbsDrift,
          leftOut: leftOut ?? null,
        })),
      }
    : {
        runId: null,
        locations: (status.driftNow?.byLocation ?? []).map((l) => ({
          locationName: l.locationName,
          levelsCompared: l.levelsCompared,
          drifting: l.levelsDrifting,
          totalAbsDrift: l.totalAbsDrift,
          leftOut: l.leftOut,
        })),
      };

  const skus = new Map<string, SkuDrift>();
  for (const run of records) {
    for (const level of run.summary.topDrifting ?? []) {
      const key = `${level.sku}\u0000${level.locationName}`;
      const entry = skus.get(key) ?? { sku: level.sku, locationName: level.locationName, times: 0, totalAbsDelta: 0, lastDelta: 0, lastStatus: level.status };
      entry.times++;
      entry.totalAbsDelta += Math.abs(level.delta);
      entry.lastDelta = level.delta;
      entry.lastStatus = level.status;
      skus.set(key, entry);
    }
  }
  const topDrifting = [...skus.values()]
    .sort((a, b) => b.totalAbsDelta - a.totalAbsDelta || b.times - a.times || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, TOP_SKUS);

  return {
    formatVersion: 1,
    generatedAt: status.generatedAt,
    shop: config.shopify.shop,
    runs,
    byLocation,
    topDrifting,
    driftNow: status.driftNow,
    driftNote: status.driftNote,
    lastSuccess: status.lastSuccess
      ? { runId: status.lastSuccess.runId, command: status.lastSuccess.command, finishedAt: status.lastSuccess.finishedAt }
      : null,
    syncLatencyMs: status.syncLatencyMs,
    watch: status.watch,
  };
}
