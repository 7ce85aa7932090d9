import chalk from 'chalk';
import type { InvreconError } from '../errors.js';
import type { ErpCorrection, PlanChange, PlanHeader } from '../plan/model.js';
import { csvChunks } from './csv.js';
import { leftOutLine, num, plural, signed } from './common.js';

export function guardLines(plan: Pick<PlanHeader, 'guards'>): string[] {
  return plan.guards.checks.map((c) => `${c.ok ? chalk.green('✓') : chalk.red('✗')} ${c.name}: ${c.message}`);
}

export interface PlanListing {
  /** Changes shown per location (the rest are counted); Infinity shows them all. */
  perLocation: number;
  /** Changes shown in all; Infinity for no limit. */
  limit: number;
  /** The command that shows more, for the "… and N more" line. */
  more?: (locationName: string) => string;
}

/**
 * Like a terraform plan: per location, `~ SKU  from → to (±delta)  reason`, then a summary. The rows are
 * read as they come (a plan file streams them); past the limits they are only counted.
 */
export function renderPlanText(
  header: PlanHeader,
  changes: Iterable<PlanChange>,
  erpCorrections: Iterable<ErpCorrection>,
  planFile: string | undefined,
  listing: PlanListing,
): string {
  const out: string[] = [];
  out.push(
    `Plan ${header.digest.slice(0, 12)} for ${header.shop}: ERP snapshot #${header.baseline.erp.snapshotId} → Shopify snapshot #${header.baseline.shopify.snapshotId}`,
  );
  for (const issue of header.issues) out.push(chalk.yellow(`! ${issue}`));
  let location = '';
  let atLocation = 0;
  let shown = 0;
  const hidden = new Map<string, number>();
  const flushHidden = () => {
    const n = hidden.get(location);
    if (n) out.push(chalk.dim(`  … and ${plural(n, 'more change')} at ${location}${listing.more ? ` (${listing.more(location)})` : ''}`));
  };
  for (const c of changes) {
    if (c.locationName !== location) {
      flushHidden();
      location = c.locationName;
      atLocation = 0;
      if (shown < listing.limit) out.push('', chalk.bold(location));
    }
    if (atLocation >= listing.perLocation || shown >= listing.limit) {
      hidden.set(location, (hidden.get(location) ?? 0) + 1);
      continue;
    }
    atLocation++;
    shown++;
    const colour = c.delta < 0 ? chalk.red : chalk.green;
    out.push(
      `  ${chalk.yellow('~')} ${c.sku}  ${c.from} → ${c.to} (${colour(signed(c.delta))})${c.mode === 'adjust' ? ' [adjust]' : ''}  ${chalk.dim(c.reason)}`,
    );
  }
  flushHidden();
  let corrections = 0;
  for (const e of erpCorrections) {
    if (corrections === 0) out.push('', chalk.bold('ERP corrections (Shopify is the authority there)'));
    if (corrections++ < listing.limit)
      out.push(`  ${chalk.cyan('←')} ${e.sku} @ ${e.warehouse}: on hand ${e.current} → ${e.proposed} (${signed(e.delta)})  ${chalk.dim(e.reason)}`);
  }
  if (corrections > listing.limit) out.push(chalk.dim(`  … and ${plural(corrections - listing.limit, 'more ERP correction')}`));
  out.push('');
  const s = header.summary;
  out.push(
    `Plan: ${plural(s.changes, 'change')} (${plural(s.unitsUp, 'unit')} up, ${num(s.unitsDown)} down, ${num(s.zeroed)} to zero) of ${plural(s.levelsCompared, 'level')} compared` +
      `${s.erpCorrections ? `, ${plural(s.erpCorrections, 'ERP correction')}` : ''}${s.conflicts ? `, ${plural(s.conflicts, 'conflict')} left for a person` : ''}.`,
  );
  if (s.leftOut?.levels) out.push(leftOutLine(s.leftOut) + ' (see the issues above).');
  out.push(...guardLines(header));
  if (!header.guards.applyable) {
    out.push(chalk.red('This plan is NOT applyable: a guard refused it. Check the ERP export, or re-plan with --force if the change is intended.'));
    if (planFile) out.push(`Saved to ${planFile} for review; apply refuses it.`);
  } else {
    if (header.guards.forced) out.push(chalk.yellow('Guards failed but the plan was forced (--force): it is applyable.'));
    if (planFile) out.push(`Saved to ${planFile}. Review it, then: invrecon apply ${planFile} --commit`);
  }
  return out.join('\n') + '\n';
}

/** A guard refusal on stderr: the message, then each failed guard with its value and limit. */
export function renderGuardRefusal(error: InvreconError): string {
  return [`invrecon: ${error.message}`, ...error.details.map((d) => `  ${d}`)].join('\n');
}

/** The plan's header as `plan --format json` prints it. */
export function planJson(header: PlanHeader, planFile: string | undefined, erpOut?: string): Record<string, unknown> {
  return {
    planFile: planFile ?? null,
    digest: header.digest,
    applyable: header.guards.applyable,
    forced: header.guards.forced,
    baseline: header.baseline,
    summary: header.summary,
    guards: header.guards.checks,
    issues: header.issues,
    erpCorrectionsFile: erpOut ?? null,
  };
}

/** The ERP corrections as CSV (for --erp-out), a thousand rows a chunk. */
export function erpCorrectionsCsv(corrections: Iterable<ErpCorrection>): Generator<string> {
  return csvChunks(['sku', 'warehouse', 'current', 'proposed', 'delta'], corrections, (e) => [e.sku, e.warehouse, e.current, e.proposed, e.delta]);
}
