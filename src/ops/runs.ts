import type { Db } from '../store/db.js';
import type { LeftOut } from '../reconcile/diff-model.js';

export type RunOutcome = 'running' | 'ok' | 'drift' | 'conflicts' | 'refused' | 'error' | 'interrupted';

export interface PhaseTimes {
  pullErp?: number;
  pullShopify?: number;
  plan?: number;
  apply?: number;
}

export interface GuardSummary {
  applyable: boolean;
  forced: boolean;
  checks: { name: string; ok: boolean; limit: number; value: number; message: string }[];
}

export interface LocationDrift {
  locationId: string;
  locationName: string;
  levelsCompared: number;
  drifting: number;
  totalAbsDrift: number;
  erpCorrections?: number;
  /** Levels left out here (untracked items, an inactive location); absent from runs recorded before. */
  leftOut?: number;
}

export interface DriftingLevel {
  sku: string;
  locationName: string;
  target: number | null;
  observed: number | null;
  delta: number;
  status: string;
}

export interface AlertRecord {
  /** Why an alert was raised; empty when none was. */
  reasons: string[];
  deviations: number;
  webhook: { configured: boolean; sent: boolean; attempts: number; status?: number; error?: string; durationMs?: number };
}

/** Everything a sync records; the JSON summary of `invrecon sync --format json` is this plus runId. */
export interface SyncSummary {
  command: 'sync';
  dryRun: boolean;
  outcome: RunOutcome;
  exitCode?: number;
  owner: string;
  phases: PhaseTimes;
  /** Peak resident memory of each phase, MB (a phase's own peak on Linux). */
  phasePeakRssMb?: PhaseTimes;
  failedPhase?: keyof PhaseTimes;
  error?: string;
  snapshots: { erp?: number; shopify?: number };
  erpRows?: number;
  shopifyLevels?: number;
  levelsCompared: number;
  /** Levels where Shopify must change (the plan's changes). */
  drifting: number;
  /** Levels left out of the plan (untracked items, inactive locations); absent from runs recorded before. */
  leftOut?: LeftOut;
  totalAbsDrift: number;
  /** Levels the ERP should change (Shopify is the authority there), and hybrid conflicts. */
  erpCorrections: number;
  reportedConflicts: number;
  applied: number;
  skipped: number;
  conflicts: number;
  failed: number;
  /** Levels that still differ after the sync (dry run: all drifting ones). */
  remaining: number;
  guards?: GuardSummary;
  planFile?: string;
  planDigest?: string;
  calls: number;
  retries: number;
  /** Requests that needed a retry, and how many of those finally succeeded. */
  retriedRequests: number;
  recoveredRequests: number;
  throttled: number;
  throttledWaits: number;
  waitedMs: number;
  byLocation: LocationDrift[];
  topDrifting: DriftingLevel[];
  alert?: AlertRecord;
  tookOverLock?: { owner: string; since: string; runId: number | null; reason: string };
  warnings: string[];
  durationMs: number;
}

/** What any run records: a sync's whole summary, or the part of it a manual `apply --commit` has. */
export type RunSummary = Partial<Omit<SyncSummary, 'command'>> & { command: 'sync' | 'apply' };

export interface RunRecord {
  id: number;
  command: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: RunOutcome;
  summary: Partial<RunSummary>;
}

interface RawRun {
  id: number;
  command: string;
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  summary: string;
}

function toRecord(raw: RawRun): RunRecord {
  let summary: Partial<RunSummary> = {};
  try {
    summary = JSON.parse(raw.summary) as Partial<RunSummary>;
  } catch {
    // A damaged summary still lists the run.
  }
  return {
    id: raw.id,
    command: raw.command,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    outcome: (raw.outcome ?? 'running') as RunOutcome,
    summary,
  };
}

export function startRun(db: Db, command: string, summary: object, at = new Date()): number {
  return Number(
    db.prepare("INSERT INTO runs (command, started_at, outcome, summary) VALUES (?, ?, 'running', ?)").run(command, at.toISOString(), JSON.stringify(summary))
      .lastInsertRowid,
  );
}

/** Stores progress while the run goes on (a killed run keeps what it had done). */
export function updateRun(db: Db, id: number, summary: object): void {
  db.prepare('UPDATE runs SET summary = ? WHERE id = ?').run(JSON.stringify(summary), id);
}

export function finishRun(db: Db, id: number, outcome: RunOutcome, summary: object, at = new Date()): void {
  db.prepare('UPDATE runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?').run(at.toISOString(), outcome, JSON.stringify(summary), id);
}

/** A run whose process died: it never finishes by itself. */
export function markInterrupted(db: Db, id: number, reason: string, at = new Date()): void {
  const raw = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
  if (!raw || raw.finished_at !== null) return;
  const summary = { ...toRecord(raw).summary, outcome: 'interrupted', error: reason };
  finishRun(db, id, 'interrupted', summary, at);
}

export function getRun(db: Db, id: number): RunRecord | undefined {
  const raw = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
  return raw ? toRecord(raw) : undefined;
}

/** Commands whose runs status and report show: the nightly sync and manual applies with --commit. */
export const REPORTED_COMMANDS = ['sync', 'apply'] as const;

/** The newest runs of these commands, newest first. */
export function recentRuns(db: Db, commands: string | readonly string[], limit: number): RunRecord[] {
  const list = typeof commands === 'string' ? [commands] : [...commands];
  return (db.prepare(`SELECT * FROM runs WHERE command IN (${list.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT ?`).all(...list, limit) as RawRun[]).map(
    toRecord,
  );
}

/** The newest finished run of these commands with one of these outcomes (and, when `committed` is given, committed or a dry run). */
export function lastRunWith(
  db: Db,
  commands: string | readonly string[],
  outcomes: RunOutcome[],
  options: { committed?: boolean } = {},
): RunRecord | undefined {
  const list = typeof commands === 'string' ? [commands] : [...commands];
  const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ');
  const committed = options.committed === undefined ? '' : `AND json_extract(summary, '$.dryRun') = ${options.committed ? 0 : 1}`;
  const raw = db
    .prepare(
      `SELECT * FROM runs WHERE command IN (${placeholders(list)}) AND finished_at IS NOT NULL AND outcome IN (${placeholders(outcomes)}) ${committed} ORDER BY id DESC LIMIT 1`,
    )
    .get(...list, ...outcomes) as RawRun | undefined;
  return raw ? toRecord(raw) : undefined;
}
