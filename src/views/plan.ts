import chalk from 'chalk';
import type { Plan } from '../plan/model.js';
import { renderCsv } from './csv.js';
import { num, plural, renderJson, signed } from './common.js';

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
