import type { SyncSummary } from '../ops/runs.js';
import { formatMs, leftOutLine, plural, renderJson } from './common.js';

/** The machine summary of `invrecon sync --format json`. */
export function syncJson(runId: number, summary: SyncSummary): Record<string, unknown> {
  const { command: _command, ...rest } = summary;
  // The fields a cron wrapper looks at first (key order), then everything else.
  const first = [
    'outcome',
    'exitCode',
    'dryRun',
    'phases',
    'levelsCompared',
    'drifting',
    'applied',
    'skipped',
    'conflicts',
    'failed',
    'guards',
    'retries',
    'throttledWaits',
    'planFile',
  ] as const;
  return { runId, ...Object.fromEntries(first.map((key) => [key, summary[key]])), ...rest };
}

function guardText(summary: SyncSummary): string {
  if (!summary.guards) return 'guards not checked';
  const failed = summary.guards.checks.filter((c) => !c.ok);
  if (failed.length === 0) return 'guards passed';
  return `guards failed (${failed.map((c) => c.name).join(', ')})${summary.guards.forced ? ', forced' : ''}`;
}

/** One line a cron mail or a log can hold. */
export function renderSyncLine(runId: number, summary: SyncSummary): string {
  const mode = summary.dryRun ? 'dry run' : 'commit';
  const parts = [`${plural(summary.levelsCompared, 'level')} compared`, `${summary.drifting} drifting (|drift| ${summary.totalAbsDrift})`];
  if (summary.dryRun) parts.push(`${summary.drifting} would change (use --commit)`);
  else parts.push(`applied ${summary.applied}`, `conflicts ${summary.conflicts + summary.failed}`);
  if (summary.erpCorrections > 0) parts.push(plural(summary.erpCorrections, 'ERP correction'));
  if (summary.leftOut?.levels) parts.push(leftOutLine(summary.leftOut));
  parts.push(
    guardText(summary),
    `${plural(summary.retries, 'retry', 'retries')}`,
    `${plural(summary.throttledWaits, 'throttle wait')}`,
    formatMs(summary.durationMs),
  );
  let line = `sync #${runId} ${summary.outcome} (${mode}): ${parts.join(', ')}`;
  if (summary.error) line += `; ${summary.failedPhase ? `${summary.failedPhase}: ` : ''}${summary.error}`;
  if (summary.alert) {
    const hook = summary.alert.webhook;
    line += `; ALERT: ${summary.alert.reasons.join('; ')}${hook.configured ? (hook.sent ? ' (webhook notified)' : ` (webhook failed: ${hook.error})`) : ''}`;
  }
  if (summary.planFile) line += `; plan ${summary.planFile}`;
  return line;
}

export function renderSync(runId: number, summary: SyncSummary, format: string): string {
  return format === 'json' ? renderJson(syncJson(runId, summary)) : renderSyncLine(runId, summary) + '\n';
}
