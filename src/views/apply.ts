import chalk from 'chalk';
import type { ApplyResult, PreviewRow } from '../plan/apply.js';
import type { LogEntries } from '../store/audit.js';
import { renderCsv } from './csv.js';
import { formatMs, num, plural, renderJson, renderTable, signed } from './common.js';

const NEW_PLAN = 'run "invrecon pull shopify" and "invrecon plan" for a new plan (this plan sends nothing again)';

function undoneCount(result: ApplyResult): number {
  return result.conflicts + result.unresolved + result.failed;
}

/** Every row that was not applied as planned: carried forward, given up, unresolved, failed. */
function rowLines(result: ApplyResult): string[] {
  const out: string[] = [];
  for (const r of result.carriedRows)
    out.push(chalk.yellow(`carried: ${r.sku} @ ${r.locationName}: planned ${r.from} → ${r.to}, sent ${r.sentFrom} → ${r.sentTo} (${r.why})`));
  for (const r of result.conflictRows)
    out.push(chalk.magenta(`conflict: ${r.sku} @ ${r.locationName}: planned ${r.from} → ${r.to}, now ${r.current ?? '?'}: ${r.message}`));
  for (const r of result.unresolvedRows)
    out.push(chalk.red(`unresolved: ${r.sku} @ ${r.locationName}: planned ${r.from} → ${r.to}, now ${r.current ?? '?'}: ${r.message}`));
  for (const r of result.failedRows) out.push(chalk.red(`failed: ${r.sku} @ ${r.locationName}: planned ${r.from} → ${r.to}: ${r.message}`));
  return out;
}

export function renderApply(result: ApplyResult, format: string): string {
  if (format === 'json') {
    const { batches, ...rest } = result;
    return renderJson({ ...rest, batches: result.dryRun ? batches : result.plannedBatches });
  }
  const out: string[] = [];
  if (result.dryRun) {
    out.push(
      `Dry run: nothing sent. With --commit, ${plural(result.plannedRows, 'row')} would be sent in ${plural(result.plannedBatches, 'batch', 'batches')}:`,
    );
    if (result.liveStale !== undefined) {
      const stale = result.liveStale;
      out.push(
        stale === 0
          ? chalk.green(`Live check: Shopify still shows every planned level's "from" value: none of the ${plural(result.plannedRows, 'change')} is stale.`)
          : chalk.yellow(`Live check: ${plural(stale, 'change')} of ${num(result.plannedRows)} ${stale === 1 ? 'is' : 'are'} already stale (marked below).`),
      );
    }
    let shown = 0;
    for (const b of result.batches) {
      out.push('', chalk.bold(`batch ${b.batchNo} (inventory${b.mode === 'set' ? 'SetQuantities' : 'AdjustQuantities'}, ${plural(b.rows.length, 'row')})`));
      for (const r of b.rows) out.push(`  ${r.sku} @ ${r.locationName}: ${r.from} → ${r.to}${liveNote(r)}`);
      shown += b.rows.length;
    }
    if (shown < result.plannedRows) {
      out.push(
        '',
        chalk.dim(
          `… and ${plural(result.plannedRows - shown, 'more row')} (the first ${num(shown)} are shown; "invrecon plan show FILE" pages through them all)`,
        ),
      );
    }
    return out.join('\n') + '\n';
  }
  const left = undoneCount(result);
  if (result.alreadyApplied) {
    if (left === 0) return `Plan ${result.planDigest.slice(0, 12)} was already applied: nothing sent (${plural(result.skipped, 'change')} skipped).\n`;
    out.push(...rowLines(result).filter((line) => !line.includes('carried: ')));
    out.push(
      `Plan ${result.planDigest.slice(0, 12)} was applied before and left ${plural(left, 'level')} undone (${result.conflicts} conflicts, ${result.unresolved} unresolved, ${result.failed} failed); nothing sent: ${NEW_PLAN}.`,
    );
    return out.join('\n') + '\n';
  }
  out.push(...rowLines(result));
  const confirmed = result.confirmed > 0 ? ` (${result.confirmed} confirmed at target after a lost answer)` : '';
  out.push(
    `${result.resumed ? 'Resumed and applied' : 'Applied'} ${num(result.applied)}${confirmed}, carried forward ${num(result.carried)}, skipped ${num(result.skipped)}, ` +
      `conflicts ${num(result.conflicts)}, unresolved ${num(result.unresolved)}, failed ${num(result.failed)} ` +
      `(${plural(result.calls, 'call')}, up to ${num(result.peakInFlight)} in flight, ${plural(result.retries, 'retry', 'retries')}, ${plural(result.throttledWaits, 'throttle wait')}, ${formatMs(result.durationMs)}).`,
  );
  if (result.replayed > 0)
    out.push(
      `${plural(result.replayed, 'level')} had been applied earlier by another run of this plan (another install, or a database since lost): ` +
        "Shopify replayed that run's answer to the same idempotency key; not counted as applied by this run.",
    );
  if (left > 0) out.push(`${plural(left, 'level')} left undone: ${NEW_PLAN}.`);
  return out.join('\n') + '\n';
}

/** What a live dry run found for a row: nothing when Shopify still shows `from`. */
function liveNote(row: PreviewRow): string {
  if (row.current === undefined || row.current === row.from) return '';
  if (row.current === null) return chalk.red('  (no longer stocked there)');
  return chalk.yellow(
    `  (stale: Shopify shows ${row.current} now; a commit would send ${row.wouldSend}, keeping the ${signed(row.current - row.from)} since the plan)`,
  );
}

export function renderLog(log: LogEntries, format: string): string {
  if (format === 'json') return renderJson(log);
  if (format === 'csv') {
    return renderCsv(
      ['at', 'plan', 'sku', 'inventory_item_id', 'location_id', 'location', 'before', 'after', 'outcome', 'rule'],
      log.changes.map((c) => [
        c.at,
        c.planDigest ?? '',
        c.sku,
        c.inventoryItemId,
        c.locationId,
        c.locationName ?? '',
        c.before ?? '',
        c.after,
        c.outcome ?? 'applied',
        c.rule ?? '',
      ]),
    );
  }
  const parts: string[] = [];
  if (log.calls.length) {
    parts.push(
      renderTable(
        ['at', 'plan', 'batch', 'operation', 'outcome', 'cost', 'ms', 'detail'],
        log.calls.map((c) => [
          c.at,
          (c.planDigest ?? '').slice(0, 12),
          c.batchNo ?? '',
          c.operation,
          c.outcome,
          c.cost ?? '',
          c.latencyMs ?? '',
          c.detail ?? '',
        ]),
        ['left', 'left', 'right', 'left', 'left', 'right', 'right', 'left'],
      ),
    );
  }
  parts.push(
    log.changes.length
      ? renderTable(
          ['at', 'plan', 'sku', 'location', 'before', 'after', 'outcome'],
          log.changes.map((c) => [
            c.at,
            (c.planDigest ?? '').slice(0, 12),
            c.sku,
            c.locationName ?? c.locationId,
            c.before ?? '',
            c.after,
            c.outcome ?? 'applied',
          ]),
          ['left', 'left', 'left', 'left', 'right', 'right', 'left'],
        )
      : 'No level changes recorded.\n',
  );
  return parts.join('\n');
}
