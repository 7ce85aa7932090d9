import type { LoadedConfig } from '../config/load.js';
import { EXIT, InputError, errorMessage } from '../errors.js';
import { undone, type ApplyResult } from '../plan/apply.js';
import type { CallEvent } from '../sources/shopify/client.js';
import type { Db } from '../store/db.js';
import { resolveWebhookUrl, type AlertDecision } from './alerts.js';
import { LockWaitAborted, releaseLock, setLockRun, withLock, type HeldLock, type LockRow } from './lock.js';
import type { Logger } from './log.js';
import { finishRun, markInterrupted, startRun, type SyncSummary } from './runs.js';
import { alertPhase, applyPhase, guardsVerdict, planPhase, pullErpPhase, pullShopifyPhase, SyncRun, type SyncPlan } from './sync-phases.js';
import { emptySummary } from './sync-summary.js';

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
  /** How long to wait while another process holds the lock (an apply, watch's writes, another sync); 0: not at all. */
  lockWaitMs?: number;
  /** Told who holds the lock when the sync starts waiting for it. */
  onLockWait?: (holder: LockRow) => void;
  /** Webhook transport (tests). */
  fetch?: typeof fetch;
  /**
   * On SIGINT/SIGTERM the run is closed as interrupted and the lock released (or, while still waiting for
   * the lock, the waiting mark released; runId null), then this is called (the CLI exits there). Unset: no
   * signal handlers.
   */
  onSignal?: (signal: NodeJS.Signals, stopped: { runId: number | null }) => void;
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

/**
 * The nightly job: take the lock (waiting up to lockWaitMs while another process holds it), pull ERP, pull
 * Shopify, plan, check the guards, apply (dry run unless commit), record the run, raise alerts. Throws
 * LockHeldError when the lock stays held; other failures are recorded in the run and returned in `error`.
 */
export async function runSync(db: Db, config: LoadedConfig, options: SyncOptions): Promise<SyncResult> {
  const log = options.logger;
  const env = options.env ?? process.env;
  // A bad webhook setting is a config error: report it before anything runs.
  const webhookUrl = resolveWebhookUrl(config.alerts, env);
  let runId: number | undefined;
  const lockOptions = {
    command: 'sync' as const,
    staleMs: options.staleMs,
    heartbeatMs: options.heartbeatMs,
    waitMs: options.lockWaitMs,
    onWait: options.onLockWait,
    onHeartbeatError: (error: unknown) => log.warn(`could not refresh the lock heartbeat: ${errorMessage(error)}`, { event: 'heartbeat-failed', runId }),
  };
  // Installed before the wait for the lock: a signal then stops the wait and releases the waiting mark.
  const signals = new SignalHandlers(log, options.onSignal);
  try {
    return await withLock(db, { ...lockOptions, signal: signals.waiting }, (held) =>
      runHolding(db, config, options, held, env, signals, webhookUrl, (id) => (runId = id)),
    );
  } catch (error) {
    if (error instanceof LockWaitAborted) signals.stoppedWaiting(error);
    throw error;
  } finally {
    signals.done();
  }
}

/** The run itself, once the lock is held. */
async function runHolding(
  db: Db,
  config: LoadedConfig,
  options: SyncOptions,
  held: HeldLock,
  env: NodeJS.ProcessEnv,
  signals: SignalHandlers,
  webhookUrl: ReturnType<typeof resolveWebhookUrl>,
  opened: (runId: number) => void,
): Promise<SyncResult> {
  const log = options.logger;
  // The run's duration starts once it holds the lock: a wait for it is not the run's.
  const started = performance.now();
  const run = openRun(db, config, options, held, env);
  opened(run.runId);
  signals.running(run, held);

  let error: unknown;
  let planned: SyncPlan | undefined;
  let apply: ApplyResult | undefined;
  try {
    await pullErpPhase(run);
    await pullShopifyPhase(run);
    planned = await planPhase(run);
    error = guardsVerdict(run, planned);
    if (!error) {
      if (!held.held()) throw new InputError('the sync lock was taken over by another process during the run: stopping before apply');
      apply = await applyPhase(run, planned);
      run.summary.outcome = undone(apply) > 0 ? 'conflicts' : apply.dryRun && planned.plan.summary.changes > 0 ? 'drift' : 'ok';
    }
  } catch (caught) {
    error = caught;
    run.fail(caught);
  } finally {
    run.countCalls();
  }
  const summary = run.summary;
  // Shopify changes still to make: all of them unless an apply sent them, less those it could not apply.
  summary.remaining = !planned ? 0 : apply && !apply.dryRun ? undone(apply) : planned.plan.summary.changes;
  const decision = await alertPhase(run, webhookUrl, planned, apply);

  const exitCode = syncExitCode(summary, decision, options.detailedExitcode);
  summary.exitCode = exitCode;
  summary.durationMs = Math.round(performance.now() - started);
  signals.done();
  finishRun(db, run.runId, summary.outcome, summary);
  log.info(`sync #${run.runId} finished: ${summary.outcome} in ${summary.durationMs} ms`, {
    event: 'finish',
    runId: run.runId,
    outcome: summary.outcome,
    exitCode,
    ms: summary.durationMs,
  });
  return { runId: run.runId, summary, exitCode, error };
}

/** Records the run (noting a dead holder taken over, whose run is closed as interrupted) and says it started. */
function openRun(db: Db, config: LoadedConfig, options: SyncOptions, held: HeldLock, env: NodeJS.ProcessEnv): SyncRun {
  const { lock, tookOver } = held;
  const log = options.logger;
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
  return new SyncRun(db, config, runId, summary, log, {
    commit: options.commit,
    force: options.force,
    csvPath: options.csvPath,
    api: options.api,
    env,
    fetch: options.fetch,
    onCall: options.onCall,
  });
}

/**
 * SIGINT/SIGTERM for the whole sync, the wait for the lock included. While waiting: the wait stops (its
 * waiting mark released), then `onSignal` with no run. While running: the open transaction rolled back, the
 * run closed as interrupted, the lock released, then `onSignal` (the CLI exits there). Without onSignal, no
 * handlers. `done()` removes them.
 */
class SignalHandlers {
  private readonly abort = new AbortController();
  private signal: NodeJS.Signals | undefined;
  private run: { run: SyncRun; held: HeldLock } | undefined;
  private finished = false;
  private readonly handler = (signal: NodeJS.Signals) => this.stop(signal);

  constructor(
    private readonly log: Logger,
    private readonly onSignal: SyncOptions['onSignal'],
  ) {
    if (!onSignal) return;
    process.once('SIGINT', this.handler);
    process.once('SIGTERM', this.handler);
  }

  /** Aborted by a signal that comes while the sync waits for the lock. */
  get waiting(): AbortSignal {
    return this.abort.signal;
  }

  running(run: SyncRun, held: HeldLock): void {
    this.run = { run, held };
    // A signal that came just as the lock was taken: the wait had ended, so the run stops here.
    if (this.signal) this.stop(this.signal);
  }

  private stop(signal: NodeJS.Signals): void {
    if (this.finished) return;
    this.signal = signal;
    if (!this.run) {
      // The wait ends at once; stoppedWaiting runs once its waiting mark is released.
      this.abort.abort();
      return;
    }
    this.finished = true;
    const { run, held } = this.run;
    const { db, runId } = run;
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
      markInterrupted(db, runId, `stopped by ${signal}`);
      releaseLock(db, held.lock);
    } finally {
      this.log.error(`sync #${runId} stopped by ${signal}; lock released`, { event: 'interrupted', runId, signal });
      this.onSignal?.(signal, { runId });
    }
  }

  /** The wait for the lock was stopped by a signal: nothing ran. */
  stoppedWaiting(error: LockWaitAborted): void {
    if (this.finished || !this.signal) return;
    this.finished = true;
    this.log.error(`sync stopped by ${this.signal} while waiting for the lock (${Math.round(error.waitedMs)} ms); nothing ran`, {
      event: 'interrupted',
      runId: null,
      signal: this.signal,
      waitedMs: error.waitedMs,
    });
    this.onSignal?.(this.signal, { runId: null });
  }

  done(): void {
    this.finished = true;
    if (!this.onSignal) return;
    process.removeListener('SIGINT', this.handler);
    process.removeListener('SIGTERM', this.handler);
  }
}

function syncExitCode(summary: SyncSummary, decision: AlertDecision, detailedExitcode: boolean | undefined): number {
  if (summary.outcome === 'error' || summary.outcome === 'refused') return EXIT.error;
  if (summary.outcome === 'conflicts') return EXIT.conflicts;
  return detailedExitcode && (summary.outcome === 'drift' || decision.deviations.length > 0) ? EXIT.drift : EXIT.ok;
}
