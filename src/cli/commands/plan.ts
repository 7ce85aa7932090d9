import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { writeFileAtomic } from '../../files.js';
import { buildPlan } from '../../plan/build.js';
import { serializePlan, type Plan } from '../../plan/model.js';
import { plural } from '../../views/common.js';
import { renderErpCorrections, renderPlan } from '../../views/plan.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, noteWritten, withWorkspace, write, type Format } from '../shared.js';
import { parseSelection, selectionOptions, type SelectionFlags } from './diff.js';

export function defaultPlanPath(snapshotPath: string, plan: Plan): string {
  return join(dirname(snapshotPath), 'plans', `plan-${plan.digest.slice(0, 12)}.json`);
}

export function planExitCode(plan: Plan, detailed: boolean | undefined): number {
  if (!detailed) return EXIT.ok;
  return plan.changes.length + plan.erpCorrections.length + plan.summary.conflicts > 0 ? EXIT.drift : EXIT.ok;
}

export function registerPlanCommands(program: Command, setExitCode: ExitCodeSink): void {
  selectionOptions(formatOption(configOption(program.command('plan'))), 'leave out changes with |delta| at or below n')
    .description('write the correction plan (review it, then apply it)')
    .option('-o, --out <file>', 'plan file (default: plans/ beside the snapshot database)')
    .option('--erp-out <file>', 'write the ERP corrections (Shopify-authoritative levels) as CSV')
    .option('--force', 'make the plan applyable even when a guard fails (recorded in the plan)')
    .option('--detailed-exitcode', 'exit 2 when the plan has changes, 0 when none')
    .action(
      (options: SelectionFlags & { config: string; format: Format; out?: string; erpOut?: string; force?: boolean; detailedExitcode?: boolean }) =>
        withWorkspace(options, (config, db) => {
          const { plan } = buildPlan(db, config, { ...parseSelection(options), force: options.force });
          const planFile = options.out ? resolve(options.out) : defaultPlanPath(config.snapshot.path, plan);
          writeFileAtomic(planFile, serializePlan(plan), { what: 'plan file' });
          noteWritten('the plan', planFile);
          const erpOut = options.erpOut ? resolve(options.erpOut) : undefined;
          if (erpOut) {
            writeFileAtomic(erpOut, renderErpCorrections(plan), { what: 'ERP corrections file' });
            noteWritten(`the ERP corrections (${plural(plan.erpCorrections.length, 'row')})`, erpOut);
          }
          write.out(renderPlan(plan, planFile, options.format, erpOut));
          if (!plan.guards.applyable) write.err('invrecon: the plan is not applyable: a guard failed (see above)');
          setExitCode(planExitCode(plan, options.detailedExitcode));
        }),
    );
}
