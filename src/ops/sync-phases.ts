// The phases of a sync run, each timed and logged and written into the run's summary as it ends: pull ERP,
// pull Shopify, plan, the guards' verdict, apply; then the alert, if the run deserves one.
import type { LoadedConfig } from '../config/load.js';
import { errorMessage, InvreconError, type InputError } from '../errors.js';
import { applyPlan, type ApplyResult } from '../plan/apply.js';
import { buildPlan, recordBuiltPlan } from '../plan/build.js';
import { openPlan } from '../plan/file.js';
import { guardRefusal } from '../plan/guards.js';
import type { PreparedDiff } from '../reconcile/diff.js';
import { redactSecrets } from '../secrets.js';
import { pullErp } from '../sources/erp/pull.js';
import type { CallEvent } from '../sources/shopify/client.js';
import { pullShopify } from '../sources/shopify/pull.js';
import type { Db } from '../store/db.js';
import { plural } from '../text.js';
import { alertPayload, decideAlert, postWebhook, type AlertDecision } from './alerts.js';
import type { Logger } from './log.js';
import { startPeakMemory } from './memory.js';
import { updateRun, type PhaseTimes, type SyncSummary } from './runs.js';
import { locationDrift, remainingDeviations, retryTracker, topDrifting, TOP_DRIFTING } from './sync-summary.js';

export interface SyncRunOptions {
  commit: boolean;
  force?: boolean;
  csvPath?: string;
  api?: boolean;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  onCall?: (event: CallEvent) => void;
}

/** A plan the run made: its file, its header and the diff it came from. */
export interface SyncPlan {
  plan: ReturnType<typeof buildPlan>['header'];
  planFile: string;
  diff: PreparedDiff;
}

/** One sync run under way: its summary, its log, the phase it is in, and the Shopify calls it counts. */
export class SyncRun {
  /** The phase running now; a failure leaves it set, so the run records where it stopped. */
  currentPhase: keyof PhaseTimes | undefined;
  private readonly tracker = retryTracker();

  constructor(
    readonly db: Db,
    readonly config: LoadedConfig,
    readonly runId: number,
    readonly summary: SyncSummary,
    readonly log: Logger,
    readonly options: SyncRunOptions,
  ) {}

  /** Told of every Shopify call: counted for the summary, and passed on (the CLI's --verbose). */
  readonly onCall = (event: CallEvent) => {
    this.tracker.onCall(event);
    this.options.onCall?.(event);
  };

  async phase<T>(name: keyof PhaseTimes, work: () => Promise<T> | T): Promise<T> {
    this.currentPhase = name;
    const at = performance.now();
    const memory = startPeakMemory();
    try {
      const result = await work();
      this.currentPhase = undefined;
      return result;
    } finally {
      this.summary.phases[name] = Math.round(performance.now() - at);
      (this.summary.phasePeakRssMb ??= {})[name] = memory.peakMb();
    }
  }

  warn(text: string, phaseName: keyof PhaseTimes): void {
    this.summary.warnings.push(text);
    this.log.warn(text, { runId: this.runId, phase: phaseName });
  }

  /** Writes the summary so far into the run (a monitor sees the run advance). */
  save(): void {
    updateRun(this.db, this.runId, this.summary);
  }

  /** The run failed: outcome error, the phase it was in, the message without secrets. */
  fail(caught: unknown): void {
    const summary = this.summary;
    summary.outcome = 'error';
    summary.failedPhase = this.currentPhase;
    summary.error = redactSecrets(caught instanceof InvreconError ? [caught.message, ...caught.details].join('; ') : errorMessage(caught));
    this.log.error(`sync #${this.runId} failed${this.currentPhase ? ` in ${this.currentPhase}` : ''}: ${summary.error}`, {
      runId: this.runId,
      phase: this.currentPhase,
      event: 'failed',
    });
  }

  /** The Shopify calls counted so far, into the summary. */
  countCalls(): void {
    const counts = this.tracker.counts;
    Object.assign(this.summary, {
      calls: counts.calls,
      retries: counts.retries,
      retriedRequests: counts.retriedRequests,
      recoveredRequests: counts.recoveredRequests,
      throttled: counts.throttled,
      waitedMs: Math.round(counts.waitedMs),
    });
  }
}

export async function pullErpPhase(run: SyncRun): Promise<void> {
  const { summary, runId } = run;
  const erp = await run.phase('pullErp', () => pullErp(run.db, run.config, { csvPath: run.options.csvPath, api: run.options.api }));
  summary.snapshots.erp = erp.snapshot.id;
  summary.erpRows = erp.rows;
  for (const w of erp.warnings) run.warn(w, 'pullErp');
  run.log.info(`pulled ERP: snapshot #${erp.snapshot.id}, ${plural(erp.rows, 'row')} in ${summary.phases.pullErp} ms`, {
    runId,
    phase: 'pullErp',
    snapshotId: erp.snapshot.id,
    rows: erp.rows,
    ms: summary.phases.pullErp,
  });
  run.save();
}

export async function pullShopifyPhase(run: SyncRun): Promise<void> {
  const { summary, runId } = run;
  const shopify = await run.phase('pullShopify', () => pullShopify(run.db, run.config, { clientOptions: { onCall: run.onCall, env: run.options.env } }));
  summary.snapshots.shopify = shopify.snapshot.id;
  summary.shopifyLevels = shopify.rows;
  summary.throttledWaits += shopify.throttledWaits;
  for (const w of shopify.warnings) run.warn(w, 'pullShopify');
  run.log.info(
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
  run.save();
}

export async function planPhase(run: SyncRun): Promise<SyncPlan> {
  const { summary, runId } = run;
  const {
    header: plan,
    path: planFile,
    diff,
  } = await run.phase('plan', () => {
    const built = buildPlan(run.db, run.config, { force: run.options.force });
    recordBuiltPlan(run.db, built.header, built.path);
    return built;
  });
  summary.planFile = planFile;
  summary.planDigest = plan.digest;
  summary.levelsCompared = plan.summary.levelsCompared;
  summary.drifting = plan.summary.changes;
  summary.leftOut = diff.summary.leftOut;
  summary.totalAbsDrift = diff.summary.totalAbsDrift;
  summary.erpCorrections = plan.summary.erpCorrections;
  summary.reportedConflicts = plan.summary.conflicts;
  summary.guards = plan.guards;
  summary.byLocation = locationDrift(diff);
  summary.topDrifting = topDrifting(diff, TOP_DRIFTING);
  run.log.info(
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
  run.save();
  return { plan, planFile, diff };
}

/** The guards' verdict: a refusal is recorded and returned (nothing is applied); --force is noted and goes on. */
export function guardsVerdict(run: SyncRun, { plan }: SyncPlan): InputError | undefined {
  const refusal = guardRefusal(plan, 'sync refused, nothing was applied', '"invrecon sync --force"');
  if (!refusal) {
    if (plan.guards.forced) run.warn('guards failed but --force was given: applying anyway', 'plan');
    return undefined;
  }
  run.summary.outcome = 'refused';
  run.summary.error = [refusal.message, ...refusal.details].join('; ');
  run.log.error(`sync #${run.runId} refused: a guard refused the plan, nothing was applied (check the ERP export; --force overrides it once)`, {
    runId: run.runId,
    event: 'refused',
    failedGuards: refusal.details,
  });
  for (const line of refusal.details) run.log.error(`  ${line}`, { runId: run.runId, event: 'guard-failed' });
  return refusal;
}

export async function applyPhase(run: SyncRun, { plan, planFile }: SyncPlan): Promise<ApplyResult> {
  const { summary, runId } = run;
  const apply = await run.phase('apply', () =>
    applyPlan(run.db, run.config, openPlan(planFile), {
      commit: run.options.commit,
      planPath: planFile,
      clientOptions: { onCall: run.onCall, env: run.options.env },
    }),
  );
  summary.applied = apply.applied;
  summary.skipped = apply.skipped;
  // A level whose outcome stayed unknown is left for the next plan, as a conflict is.
  summary.conflicts = apply.conflicts + apply.unresolved;
  summary.failed = apply.failed;
  summary.throttledWaits += apply.throttledWaits;
  run.log.info(
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
  return apply;
}

/**
 * Decides whether the run deserves an alert and posts it to the webhook. Alerts never change the outcome:
 * a failed webhook is logged and recorded, nothing more.
 */
export async function alertPhase(
  run: SyncRun,
  webhookUrl: URL | undefined,
  planned: SyncPlan | undefined,
  apply: ApplyResult | undefined,
): Promise<AlertDecision> {
  const { summary, runId, config, log } = run;
  const maxDeviation = config.alerts?.maxDeviation;
  const deviations = planned && maxDeviation !== undefined ? remainingDeviations(planned.diff, apply, maxDeviation) : { levels: [], count: 0 };
  const decision = decideAlert(config.alerts, summary, deviations.levels, deviations.count);
  if (decision.reasons.length === 0) return decision;
  summary.alert = {
    reasons: decision.reasons,
    deviations: decision.deviationCount,
    webhook: { configured: webhookUrl !== undefined, sent: false, attempts: 0 },
  };
  for (const reason of decision.reasons) log.warn(`ALERT: ${reason}`, { runId, event: 'alert' });
  if (!webhookUrl || !config.alerts) return decision;
  const hook = await postWebhook(webhookUrl, alertPayload(config, runId, summary, decision), {
    timeoutMs: config.alerts.timeoutMs,
    retries: config.alerts.retries,
    fetch: run.options.fetch,
  });
  summary.alert.webhook = hook;
  if (hook.sent)
    log.info(`alert posted to the webhook (HTTP ${hook.status}, ${plural(hook.attempts, 'attempt')})`, {
      runId,
      event: 'alert-posted',
      attempts: hook.attempts,
    });
  else
    log.warn(`alert webhook failed after ${plural(hook.attempts, 'attempt')}: ${hook.error}; the sync goes on`, {
      runId,
      event: 'alert-failed',
      attempts: hook.attempts,
      error: hook.error,
    });
  return decision;
}
