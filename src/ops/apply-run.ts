import type { LoadedConfig } from '../config/load.js';
import { InvreconError, errorMessage } from '../errors.js';
import { applyPlan, undone, type ApplyOptions, type ApplyResult } from '../plan/apply.js';
import { guardRefusal } from '../plan/guards.js';
import type { PlanSource } from '../plan/verify.js';
import { redactSecrets } from '../secrets.js';
import type { Db } from '../store/db.js';
import { recordPlan } from '../store/plans.js';
import { finishRun, startRun, type RunOutcome, type RunSummary } from './runs.js';

/**
 * `invrecon apply`: refuses a plan its guards refused (exit 1), then applies it (which verifies it
 * against its baseline snapshots: a plan whose snapshots were pruned is refused there). A commit is recorded as a run (command "apply"), so status and report show manual applies too.
 */
export async function applyRecorded(db: Db, config: LoadedConfig, source: PlanSource, options: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const plan = source.header;
  const summary: RunSummary = {
    command: 'apply',
    dryRun: false,
    outcome: 'running',
    planFile: options.planPath,
    planDigest: plan.digest,
    snapshots: { erp: plan.baseline.erp.snapshotId, shopify: plan.baseline.shopify.snapshotId },
    guards: plan.guards,
    levelsCompared: plan.summary.levelsCompared,
    drifting: plan.summary.changes,
    totalAbsDrift: plan.summary.byLocation.reduce((n, l) => n + l.totalAbsDelta, 0),
    erpCorrections: plan.summary.erpCorrections,
    reportedConflicts: plan.summary.conflicts,
    phases: {},
    warnings: plan.guards.forced ? ['guards failed but the plan was forced (--force)'] : [],
  };
  const runId = options.commit ? startRun(db, 'apply', summary) : undefined;
  const finish = (outcome: RunOutcome) => {
    summary.outcome = outcome;
    summary.durationMs = Math.round(performance.now() - started);
    if (runId !== undefined) finishRun(db, runId, outcome, summary);
  };
  try {
    const refusal = guardRefusal(plan, 'apply', '"invrecon plan --force"');
    if (refusal) {
      summary.error = [refusal.message, ...refusal.details].join('; ');
      finish('refused');
      throw refusal;
    }
    if (options.commit) {
      recordPlan(db, {
        digest: plan.digest,
        path: options.planPath,
        erpSnapshotId: plan.baseline.erp.snapshotId,
        shopifySnapshotId: plan.baseline.shopify.snapshotId,
        guardsPassed: plan.guards.checks.every((c) => c.ok),
        forced: plan.guards.forced,
      });
    }
    const applyStarted = performance.now();
    const result = await applyPlan(db, config, source, options);
    summary.phases = { apply: Math.round(performance.now() - applyStarted) };
    Object.assign(summary, {
      applied: result.applied,
      skipped: result.skipped,
      // As sync counts them: a row left unresolved is not applied either.
      conflicts: result.conflicts + result.unresolved,
      failed: result.failed,
      remaining: undone(result),
      calls: result.calls,
      retries: result.retries,
      throttledWaits: result.throttledWaits,
    });
    finish(undone(result) > 0 ? 'conflicts' : 'ok');
    return result;
  } catch (error) {
    if (summary.outcome === 'running') {
      summary.error = redactSecrets(error instanceof InvreconError ? [error.message, ...error.details].join('; ') : errorMessage(error));
      finish('error');
    }
    throw error;
  }
}
