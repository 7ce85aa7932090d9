import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { writeFileAtomic } from '../../files.js';
import { applyPlan } from '../../plan/apply.js';
import { acquireLock, heartbeat, releaseLock } from '../../ops/lock.js';
import { buildPlan } from '../../plan/build.js';
import { readPlan, serializePlan, type Plan } from '../../plan/model.js';
import { readLog } from '../../store/audit.js';
import { plural } from '../../views/common.js';
import { renderApply, renderErpCorrections, renderLog, renderPlan } from '../../views/plan.js';
import type { ExitCodeSink } from '../main.js';
import { callReporter, configOption, formatOption, noteWritten, parseCount, withWorkspace, write, type Format } from '../shared.js';
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

  formatOption(configOption(program.command('apply')))
    .description('apply a plan to Shopify: a dry run unless --commit')
    .argument('<file>', 'plan file written by "invrecon plan"')
    .option('--commit', 'send the changes (without it nothing is sent)')
    .option('--live', 'dry run: read each level from Shopify now and show which changes are already stale')
    .option('--max-misses <n>', 'compare-and-swap misses per level before it is reported as a conflict', '5')
    .option('--unverified', 'apply even if the plan is not what its baseline snapshots give (edited, or the config changed); recorded')
    .action(async (file: string, options: { config: string; format: Format; commit?: boolean; live?: boolean; maxMisses: string; unverified?: boolean }) => {
      const plan = readPlan(resolve(file));
      await withWorkspace(options, async (config, db) => {
        // One writer at a time: an apply and a sync (or two applies) must not move the same levels at once.
        const held = options.commit ? acquireLock(db) : undefined;
        if (held?.tookOver) write.warn(`took over a stale lock from ${held.tookOver.holder.owner}: ${held.tookOver.reason}`);
        let result;
        try {
          result = await applyPlan(db, config, plan, {
            commit: Boolean(options.commit),
            live: options.live,
            planPath: resolve(file),
            maxMisses: Math.max(1, parseCount(options.maxMisses, '--max-misses')),
            unverified: options.unverified,
            onProgress: () => held && heartbeat(db, held.lock),
            clientOptions: callReporter(),
          });
        } finally {
          if (held) releaseLock(db, held.lock);
        }
        if (result.unverified.length > 0) write.err(`warning: applying an unverified plan (--unverified, recorded): ${result.unverified.length} difference(s) from its baseline, first: ${result.unverified[0]}`);
        write.out(renderApply(result, options.format));
        setExitCode(result.conflicts + result.failed > 0 ? EXIT.conflicts : EXIT.ok);
      });
    });

  formatOption(configOption(program.command('log')), ['table', 'json', 'csv'])
    .description('show the audit log: every call to Shopify and every level change')
    .option('--plan <digest>', 'only this plan (digest or its first characters)')
    .option('--sku <sku>', 'only changes of this SKU')
    .option('--limit <n>', 'newest entries to show', '1000')
    .action((options: { config: string; format: Format; plan?: string; sku?: string; limit: string }) =>
      withWorkspace(options, (_config, db) => {
        write.out(renderLog(readLog(db, { plan: options.plan, sku: options.sku, limit: parseCount(options.limit, '--limit') }), options.format));
        setExitCode(EXIT.ok);
      }),
    );
}
