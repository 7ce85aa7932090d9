import chalk from 'chalk';
import type { ApplyResult, PreviewRow } from '../plan/apply.js';
import type { Plan } from '../plan/model.js';
import type { LogEntries } from '../store/audit.js';
import { renderCsv } from './csv.js';
import { formatMs, num, plural, renderJson, renderTable, signed } from './common.js';

export function guardLines(plan: Plan): string[] {
  return plan.guards.checks.map((c) => `${c.ok ? chalk.green('✓') : chalk.red('✗')} ${c.name}: ${c.message}`);
}

/** Like a terraform plan: per location, `~ SKU  from → to (±delta)  reason`, then a summary. */
export function renderPlanText(plan: Plan, planFile: string | undefined): string {
  const out: string[] = [];
  out.push(`Plan ${plan.digest.slice(0, 12)} for ${plan.shop}: ERP snapshot #${plan.baseline.erp.snapshotId} → Shopify snapshot #${plan.baseline.shopify.snapshotId}`);
  for (const issue of plan.issues) out.push(chalk.yellow(`! ${issue}`));
  let location = '';
  for (const c of plan.changes) {
    if (c.locationName !== location) {
      location = c.locationName;
      out.push('', chalk.bold(location));
    }
    const colour = c.delta < 0 ? chalk.red : chalk.green;
    out.push(`  ${chalk.yellow('~')} ${c.sku}  ${c.from} → ${c.to} (${colour(signed(c.delta))})${c.mode === 'adjust' ? ' [adjust]' : ''}  ${chalk.dim(c.reason)}`);
  }
  if (plan.erpCorrections.length) {
    out.push('', chalk.bold('ERP corrections (Shopify is the authority there)'));
    for (const e of plan.erpCorrections) out.push(`  ${chalk.cyan('←')} ${e.sku} @ ${e.warehouse}: on hand ${e.current} → ${e.proposed} (${signed(e.delta)})  ${chalk.dim(e.reason)}`);
  }
  out.push('');
  const s = plan.summary;
  out.push(
    `Plan: ${plural(s.changes, 'change')} (${plural(s.unitsUp, 'unit')} up, ${num(s.unitsDown)} down, ${num(s.zeroed)} to zero) of ${plural(s.levelsCompared, 'level')} compared` +
      `${s.erpCorrections ? `, ${plural(s.erpCorrections, 'ERP correction')}` : ''}${s.conflicts ? `, ${plural(s.conflicts, 'conflict')} left for a person` : ''}.`,
  );
  out.push(...guardLines(plan));
  if (!plan.guards.applyable) out.push(chalk.red('This plan is NOT applyable: a guard failed. Check the ERP export, or re-plan with --force if the change is intended.'));
  else if (plan.guards.forced) out.push(chalk.yellow('Guards failed but the plan was forced (--force): it is applyable.'));
  if (planFile) out.push(`Saved to ${planFile}. Review it, then: invrecon apply ${planFile} --commit`);
  return out.join('\n') + '\n';
}

export function renderPlan(plan: Plan, planFile: string | undefined, format: string, erpOut?: string): string {
  if (format === 'json') {
    return renderJson({
      planFile: planFile ?? null,
      digest: plan.digest,
      applyable: plan.guards.applyable,
      forced: plan.guards.forced,
      baseline: plan.baseline,
      summary: plan.summary,
      guards: plan.guards.checks,
      issues: plan.issues,
      erpCorrectionsFile: erpOut ?? null,
    });
  }
  return renderPlanText(plan, planFile);
}

export function renderErpCorrections(plan: Plan): string {
  return renderCsv(
    ['sku', 'warehouse', 'current', 'proposed', 'delta'],
    plan.erpCorrections.map((e) => [e.sku, e.warehouse, e.current, e.proposed, e.delta]),
  );
}

export function renderApply(result: ApplyResult, format: string): string {
  if (format === 'json') {
    const { batches, ...rest } = result;
    return renderJson({ ...rest, batches: result.dryRun ? batches : batches.length });
  }
  const out: string[] = [];
  if (result.dryRun) {
    out.push(`Dry run: nothing sent. With --commit, ${plural(batches(result), 'row')} would be sent in ${plural(result.batches.length, 'batch', 'batches')}:`);
    const rows = result.batches.flatMap((b) => b.rows);
    if (rows.some((r) => r.current !== undefined)) {
      const stale = rows.filter((r) => r.current !== r.from).length;
      out.push(
        stale === 0
          ? chalk.green(`Live check: Shopify still shows every planned level's "from" value: none of the ${plural(rows.length, 'change')} is stale.`)
          : chalk.yellow(`Live check: ${plural(stale, 'change')} of ${num(rows.length)} ${stale === 1 ? 'is' : 'are'} already stale (marked below).`),
      );
    }
    for (const b of result.batches) {
      out.push('', chalk.bold(`batch ${b.batchNo} (inventory${b.mode === 'set' ? 'SetQuantities' : 'AdjustQuantities'}, ${plural(b.rows.length, 'row')})`));
      for (const r of b.rows) out.push(`  ${r.sku} @ ${r.locationName}: ${r.from} → ${r.to}${liveNote(r)}`);
    }
    return out.join('\n') + '\n';
  }
  if (result.alreadyApplied) return `Plan ${result.planDigest.slice(0, 12)} was already applied: nothing sent (${plural(result.skipped, 'change')} skipped).\n`;
  for (const r of result.conflictRows) out.push(chalk.magenta(`conflict: ${r.sku} @ ${r.locationName}: planned ${r.from} → ${r.to}, now ${r.current ?? '?'}: ${r.message}`));
  for (const r of result.failedRows) out.push(chalk.red(`failed: ${r.sku} @ ${r.locationName}: ${r.message}`));
  out.push(
    `${result.resumed ? 'Resumed and applied' : 'Applied'} ${num(result.applied)}, skipped ${num(result.skipped)}, conflicts ${num(result.conflicts)}, failed ${num(result.failed)} ` +
      `(${plural(result.calls, 'call')}, ${plural(result.retries, 'retry', 'retries')}, ${plural(result.throttledWaits, 'throttle wait')}, ${formatMs(result.durationMs)}).`,
  );
  return out.join('\n') + '\n';
}

/** What a live dry run found for a row: nothing when Shopify still shows `from`. */
function liveNote(row: PreviewRow): string {
  if (row.current === undefined || row.current === row.from) return '';
  if (row.current === null) return chalk.red('  (no longer stocked there)');
  return chalk.yellow(`  (stale: Shopify shows ${row.current} now; a commit would send ${row.wouldSend}, keeping the ${signed(row.current - row.from)} since the plan)`);
}

function batches(result: ApplyResult): number {
  return result.batches.reduce((n, b) => n + b.rows.length, 0);
}

export function renderLog(log: LogEntries, format: string): string {
  if (format === 'json') return renderJson(log);
  if (format === 'csv') {
    return renderCsv(
      ['at', 'plan', 'sku', 'inventory_item_id', 'location_id', 'before', 'after', 'rule'],
      log.changes.map((c) => [c.at, c.planDigest ?? '', c.sku, c.inventoryItemId, c.locationId, c.before ?? '', c.after, c.rule ?? '']),
    );
  }
  const parts: string[] = [];
  if (log.calls.length) {
    parts.push(
      renderTable(
        ['at', 'plan', 'batch', 'operation', 'outcome', 'cost', 'ms'],
        log.calls.map((c) => [c.at, (c.planDigest ?? '').slice(0, 12), c.batchNo ?? '', c.operation, c.outcome, c.cost ?? '', c.latencyMs ?? '']),
        ['left', 'left', 'right', 'left', 'left', 'right', 'right'],
      ),
    );
  }
  parts.push(
    log.changes.length
      ? renderTable(
          ['at', 'plan', 'sku', 'location', 'before', 'after'],
          log.changes.map((c) => [c.at, (c.planDigest ?? '').slice(0, 12), c.sku, c.locationId, c.before ?? '', c.after]),
          ['left', 'left', 'left', 'left', 'right', 'right'],
        )
      : 'No level changes recorded.\n',
  );
  return parts.join('\n');
}
