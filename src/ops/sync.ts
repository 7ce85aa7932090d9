import type { LoadedConfig } from '../config/load.js';
import { EXIT, InputError, InvreconError, errorMessage } from '../errors.js';
import { applyPlan, undone, type ApplyResult } from '../plan/apply.js';
import { buildPlan, recordBuiltPlan } from '../plan/build.js';
import { openPlan } from '../plan/file.js';
import { guardRefusal } from '../plan/guards.js';
import type { DiffRow, PreparedDiff } from '../reconcile/diff.js';
import { redactSecrets } from '../secrets.js';
import { pullErp } from '../sources/erp/pull.js';
import type { CallEvent } from '../sources/shopify/client.js';
import { pullShopify } from '../sources/shopify/pull.js';
import type { Db } from '../store/db.js';
import { alertPayload, decideAlert, postWebhook, resolveWebhookUrl } from './alerts.js';
import { acquireLock, DEFAULT_HEARTBEAT_MS, heartbeat, releaseLock, setLockRun, stillHeld, type LockRow } from './lock.js';
import type { Logger } from './log.js';
import { startPeakMemory } from './memory.js';
import { plural } from '../text.js';
import { finishRun, markInterrupted, startRun, updateRun, type DriftingLevel, type LocationDrift, type PhaseTimes, type SyncSummary } from './runs.js';

export interface SyncOptions {
  commit: boolean;
  /** Apply even when a guard fails (recorded in the plan and the run). */
  force?: boolean;
  csvPath?: string;
  api?: boolean;
  detailedExitcode?: boolean;
  logger: Logger;
  /** Where the Shopify token, endpoint and webhook URL are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  staleMs?: number;
  heartbeatMs?: number;
  /** Webhook transport (tests). */
  fetch?: typeof fetch;
  /**
   * On SIGINT/SIGTERM the run is closed as interrupted and the lock released, then this is called (the
   * CLI exits there). Unset: no signal handlers.
   */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Told of every Shopify call too (the CLI's --verbose). */
  onCall?: (event: CallEvent) => void;
}

export interface SyncResult {
  runId: number;
  summary: SyncSummary;
  exitCode: number;
  /** Set when the outcome is error or refused: the CLI reports it after the summary. */
  error?: unknown;
}

const TOP_DRIFTING = 20;

/** Counts requests that needed a retry and those whose retry got through, from the client's call events. */
function retryTracker() {
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
function topDrifting(diff: PreparedDiff, count: number): DriftingLevel[] {
  const top: DriftingLevel[] = [];
  for (const row of diff.driftingRows(0)) {
    top.push(drifting(row));
    if (top.length === count) break;
  }
  return top;
}

/** Per location, Shopify drift as diff counts it (the plan's changes are those levels). */
function locationDrift(diff: PreparedDiff): LocationDrift[] {
  return diff.summary.byLocation.map((location) => ({
    locationId: location.locationId,
    locationName: location.locationName,
    levelsCompared: location.levelsCompared,
    drifting: location.levelsDrifting,
    totalAbsDrift: location.totalAbsDrift,
    erpCorrections: location.erpDrift.levels,
  }));
}

/** Keeps the largest deviations for the alert, and counts them all. */
const MAX_DEVIATIONS_KEPT = 100;

/**
 * Levels still off by more than `limit` once the apply is done (everything in a dry run, else what was
 * not applied), largest first: the first MAX_DEVIATIONS_KEPT, and how many in all. Streamed from SQL.
 */
function remainingDeviations(diff: PreparedDiff, apply: ApplyResult | undefined, limit: number): { levels: DriftingLevel[]; count: number } {
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

function emptySummary(commit: boolean, lock: LockRow): SyncSummary {
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

/**
 * The nightly job: take the lock, pull ERP, pull Shopify, plan, check the guards, apply (dry run unless
 * commit), record the run, raise alerts. Throws LockHeldError when another sync runs; other failures are
 * recorded in the run and returned in `error`.
 */
export async function runSync(db: Db, config: LoadedConfig, options: SyncOptions): Promise<SyncResult> {
  const started = performance.now();
  const log = options.logger;
  const env = options.env ?? process.env;
  // A bad webhook setting is a config error: report it before anything runs.
  const webhookUrl = resolveWebhookUrl(config.alerts, env);

  const { lock, tookOver } = acquireLock(db, { staleMs: options.staleMs });
  if (tookOver) {
    const { holder, reason } = tookOver;
    log.warn(
      `took over the sync lock of ${holder.owner} (held since ${holder.acquiredAt}${holder.runId !== null ? `, run #${holder.runId}` : ''}): ${reason}`,
      {
        event: 'lock-takeover',
        previousOwner: holder.owner,
        since: holder.acquiredAt,
        previousRunId: holder.runId,
      },
    );
    if (holder.runId !== null) markInterrupted(db, holder.runId, `its process stopped (${reason}); lock taken over by ${lock.owner}`);
  }
  const summary = emptySummary(options.commit, lock);
  if (tookOver)
    summary.tookOverLock = { owner: tookOver.holder.owner, since: tookOver.holder.acquiredAt, runId: tookOver.holder.runId, reason: tookOver.reason };
  const runId = startRun(db, 'sync', summary);
  setLockRun(db, lock, runId);
  log.info(`sync #${runId} started (${options.commit ? 'commit' : 'dry run'}) by ${lock.owner}`, { event: 'start', runId, dryRun: !options.commit });

  let lockLost = false;
  const beat = setInterval(() => {
    try {
      if (!heartbeat(db, lock)) lockLost = true;
    } catch (error) {
      log.warn(`could not refresh the lock heartbeat: ${errorMessage(error)}`, { event: 'heartbeat-failed', runId });
    }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  beat.unref();

  let finished = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (finished) return;
    finished = true;
    clearInterval(beat);
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
      markInterrupted(db, runId, `stopped by ${signal}`);
      releaseLock(db, lock);
    } finally {
      log.error(`sync #${runId} stopped by ${signal}; lock released`, { event: 'interrupted', runId, signal });
      options.onSignal?.(signal);
    }
  };
  if (options.onSignal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  const tracker = retryTracker();
  const onCall = (event: CallEvent) => {
    tracker.onCall(event);
    options.onCall?.(event);
  };
  let currentPhase: keyof PhaseTimes | undefined;
  const phase = async <T>(name: keyof PhaseTimes, work: () => Promise<T> | T): Promise<T> => {
    currentPhase = name;
    const at = performance.now();
    const memory = startPeakMemory();
    try {
      const result = await work();
      currentPhase = undefined; // a failure keeps it: the run records where it stopped
      return result;
    } finally {
      summary.phases[name] = Math.round(performance.now() - at);
      (summary.phasePeakRssMb ??= {})[name] = memory.peakMb();
    }
  };
  const warn = (text: string, phaseName: keyof PhaseTimes) => {
    summary.warnings.push(text);
    log.warn(text, { runId, phase: phaseName });
  };

  let error: unknown;
  let planned: { diff: PreparedDiff; changes: number } | undefined;
  let apply: ApplyResult | undefined;
  try {
    const erp = await phase('pullErp', () => pullErp(db, config, { csvPath: options.csvPath, api: options.api }));
    summary.snapshots.erp = erp.snapshot.id;
    summary.erpRows = erp.rows;
    for (const w of erp.warnings) warn(w, 'pullErp');
    log.info(`pulled ERP: snapshot #${erp.snapshot.id}, ${plural(erp.rows, 'row')} in ${summary.phases.pullErp} ms`, {
      runId,
      phase: 'pullErp',
      snapshotId: erp.snapshot.id,
      rows: erp.rows,
      ms: summary.phases.pullErp,
    });
    updateRun(db, runId, summary);

    const shopify = await phase('pullShopify', () => pullShopify(db, config, { clientOptions: { onCall: onCall, env } }));
    summary.snapshots.shopify = shopify.snapshot.id;
    summary.shopifyLevels = shopify.rows;
    summary.throttledWaits += shopify.throttledWaits;
    for (const w of shopify.warnings) warn(w, 'pullShopify');
    log.info(
      `pulled Shopify: snapshot #${shopify.snapshot.id}, ${plural(shopify.rows, 'level')} (${shopify.mode}, ${plural(shopify.calls, 'call')}, ${plural(shopify.retries, 'retry', 'retries')}, ${plural(shopify.throttledWaits, 'throttle wait')}) in ${summary.phases.pullShopify} ms`,
      {
        runId,
        phase: 'pullShopify',
        snapshotId: shopify.snapshot.id,
        levels: shopify.rows,
        mode: shopify.mode,
        calls: shopify.calls,
        retries: shopify.retries,
        throttledWaits: shopify.throttledWaits,
        ms: summary.phases.pullShopify,
      },
    );
    updateRun(db, runId, summary);

    const {
      header: plan,
      path: planFile,
      diff,
    } = await phase('plan', () => {
      const built = buildPlan(db, config, { force: options.force });
      recordBuiltPlan(db, built.header, built.path);
      return built;
    });
    planned = { diff, changes: plan.summary.changes };
    summary.planFile = planFile;
    summary.planDigest = plan.digest;
    summary.levelsCompared = plan.summary.levelsCompared;
    summary.drifting = plan.summary.changes;
    summary.totalAbsDrift = diff.summary.totalAbsDrift;
    summary.erpCorrections = plan.summary.erpCorrections;
    summary.reportedConflicts = plan.summary.conflicts;
    summary.guards = plan.guards;
    summary.byLocation = locationDrift(diff);
    summary.topDrifting = topDrifting(diff, TOP_DRIFTING);
    log.info(
      `planned: ${plural(plan.summary.changes, 'change')} of ${plural(plan.summary.levelsCompared, 'level')}, ${plural(plan.summary.erpCorrections, 'ERP correction')}; plan ${summary.planFile}`,
      {
        runId,
        phase: 'plan',
        changes: plan.summary.changes,
        levelsCompared: plan.summary.levelsCompared,
        planFile: summary.planFile,
        guardsPassed: plan.guards.checks.every((c) => c.ok),
        ms: summary.phases.plan,
      },
    );
    updateRun(db, runId, summary);

    const refusal = guardRefusal(plan, 'sync refused, nothing was applied', '"invrecon sync --force"');
    if (refusal) {
      summary.outcome = 'refused';
      summary.error = [refusal.message, ...refusal.details].join('; ');
      error = refusal;
      log.error(`sync #${runId} refused: a guard refused the plan, nothing was applied (check the ERP export; --force overrides it once)`, {
        runId,
        event: 'refused',
        failedGuards: refusal.details,
      });
      for (const line of refusal.details) log.error(`  ${line}`, { runId, event: 'guard-failed' });
    } else {
      if (plan.guards.forced) warn('guards failed but --force was given: applying anyway', 'plan');
      if (lockLost || !stillHeld(db, lock)) throw new InputError('the sync lock was taken over by another process during the run: stopping before apply');
      apply = await phase('apply', () =>
        applyPlan(db, config, openPlan(planFile), { commit: options.commit, planPath: planFile, clientOptions: { onCall: onCall, env } }),
      );
      summary.applied = apply.applied;
      summary.skipped = apply.skipped;
      // A level whose outcome stayed unknown is left for the next plan, as a conflict is.
      summary.conflicts = apply.conflicts + apply.unresolved;
      summary.failed = apply.failed;
      summary.throttledWaits += apply.throttledWaits;
      log.info(
        apply.dryRun
          ? `dry run: ${plural(plan.summary.changes, 'change')} not sent (use --commit)`
          : `applied ${apply.applied}, skipped ${apply.skipped}, conflicts ${apply.conflicts}, failed ${apply.failed} in ${summary.phases.apply} ms`,
        {
          runId,
          phase: 'apply',
          dryRun: apply.dryRun,
          applied: apply.applied,
          skipped: apply.skipped,
          conflicts: apply.conflicts,
          failed: apply.failed,
          ms: summary.phases.apply,
        },
      );
      summary.outcome = undone(apply) > 0 ? 'conflicts' : apply.dryRun && plan.summary.changes > 0 ? 'drift' : 'ok';
    }
  } catch (caught) {
    error = caught;
    summary.outcome = 'error';
    summary.failedPhase = currentPhase;
    summary.error = redactSecrets(caught instanceof InvreconError ? [caught.message, ...caught.details].join('; ') : errorMessage(caught));
    log.error(`sync #${runId} failed${currentPhase ? ` in ${currentPhase}` : ''}: ${summary.error}`, { runId, phase: currentPhase, event: 'failed' });
  } finally {
    clearInterval(beat);
    Object.assign(summary, {
      calls: tracker.counts.calls,
      retries: tracker.counts.retries,
      retriedRequests: tracker.counts.retriedRequests,
      recoveredRequests: tracker.counts.recoveredRequests,
      throttled: tracker.counts.throttled,
      waitedMs: Math.round(tracker.counts.waitedMs),
    });
  }
  // Shopify changes still to make: all of them unless an apply sent them, less those it could not apply.
  summary.remaining = !planned ? 0 : apply && !apply.dryRun ? undone(apply) : planned.changes;
  const maxDeviation = config.alerts?.maxDeviation;
  const deviations = planned && maxDeviation !== undefined ? remainingDeviations(planned.diff, apply, maxDeviation) : { levels: [], count: 0 };

  // Alerts never change the outcome: a failed webhook is logged and recorded, nothing more.
  const decision = decideAlert(config.alerts, summary, deviations.levels, deviations.count);
  if (decision.reasons.length > 0) {
    summary.alert = {
      reasons: decision.reasons,
      deviations: decision.deviationCount,
      webhook: { configured: webhookUrl !== undefined, sent: false, attempts: 0 },
    };
    for (const reason of decision.reasons) log.warn(`ALERT: ${reason}`, { runId, event: 'alert' });
    if (webhookUrl && config.alerts) {
      summary.alert.webhook = await postWebhook(webhookUrl, alertPayload(config, runId, summary, decision), {
        timeoutMs: config.alerts.timeoutMs,
        retries: config.alerts.retries,
        fetch: options.fetch,
      });
      const hook = summary.alert.webhook;
      if (hook.sent)
        log.info(`alert posted to the webhook (HTTP ${hook.status}, ${hook.attempts} attempt${hook.attempts === 1 ? '' : 's'})`, {
          runId,
          event: 'alert-posted',
          attempts: hook.attempts,
        });
      else
        log.warn(`alert webhook failed after ${hook.attempts} attempt${hook.attempts === 1 ? '' : 's'}: ${hook.error}; the sync goes on`, {
          runId,
          event: 'alert-failed',
          attempts: hook.attempts,
          error: hook.error,
        });
    }
  }

  const exitCode =
    summary.outcome === 'error' || summary.outcome === 'refused'
      ? EXIT.error
      : summary.outcome === 'conflicts'
        ? EXIT.conflicts
        : options.detailedExitcode && (summary.outcome === 'drift' || decision.deviations.length > 0)
          ? EXIT.drift
          : EXIT.ok;
  summary.exitCode = exitCode;
  summary.durationMs = Math.round(performance.now() - started);
  finished = true;
  if (options.onSignal) {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  finishRun(db, runId, summary.outcome, summary);
  releaseLock(db, lock);
  log.info(`sync #${runId} finished: ${summary.outcome} in ${summary.durationMs} ms`, {
    event: 'finish',
    runId,
    outcome: summary.outcome,
    exitCode,
    ms: summary.durationMs,
  });
  return { runId, summary, exitCode, error };
}
