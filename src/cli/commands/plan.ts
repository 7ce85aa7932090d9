import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { writeFileAtomic } from '../../files.js';
import { buildPlan, recordBuiltPlan } from '../../plan/build.js';
import { guardRefusal } from '../../plan/guards.js';
import { DEFAULT_GATE, gateFails, type Gate } from '../../reconcile/diff.js';
import { openPlan } from '../../plan/file.js';
import type { PlanHeader } from '../../plan/model.js';
import { pagePlan, planFilter } from '../../plan/show.js';
import { plural, renderJson } from '../../views/common.js';
import { erpCorrectionsCsv, planJson, renderGuardRefusal, renderPlanText } from '../../views/plan.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, noteWritten, parseCount, withWorkspace, write, type Format } from '../shared.js';
import { gateOption, parseSelection, selectionOptions, type SelectionFlags } from './diff.js';

/** 2 when the plan has drift the gate looks at (changes for Shopify, ERP corrections for the ERP; conflicts always). */
export function planExitCode(plan: PlanHeader, detailed: boolean | undefined, gate: Gate = DEFAULT_GATE): number {
  if (!detailed) return EXIT.ok;
  return gateFails({ shopify: plan.summary.changes, erp: plan.summary.erpCorrections, conflicts: plan.summary.conflicts }, gate) ? EXIT.drift : EXIT.ok;
}

/** Changes `plan` prints per location; `plan show` pages through the rest. */
const PLAN_ROWS_PER_LOCATION = 20;

function* filtered<T>(rows: Iterable<T>, keep: (row: T) => boolean): Generator<T> {
  for (const row of rows) if (keep(row)) yield row;
}

const quote = (text: string) => (/^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

export function registerPlanCommands(program: Command, setExitCode: ExitCodeSink): void {
  const planCommand = gateOption(selectionOptions(formatOption(configOption(program.command('plan'))), 'leave out changes with |delta| at or below n'))
    .description('write the correction plan (review it, then apply it)')
    .option('-o, --out <file>', 'plan file (default: plans/ beside the snapshot database)')
    .option('--erp-out <file>', 'write the ERP corrections (Shopify-authoritative levels) as CSV')
    .option('--force', 'make the plan applyable even when a guard fails (recorded in the plan)')
    .option('--detailed-exitcode', 'exit 2 when the plan has changes (see --gate), 0 when none; a refused plan exits 1')
    .action(
      (options: SelectionFlags & { config: string; format: Format; out?: string; erpOut?: string; force?: boolean; detailedExitcode?: boolean; gate: Gate }) =>
        withWorkspace(options, (config, db) => {
          const built = buildPlan(db, config, { ...parseSelection(options), force: options.force }, { out: options.out ? resolve(options.out) : undefined });
          // A refused plan is written too, for review; apply refuses it.
          recordBuiltPlan(db, built.header, built.path);
          const file = openPlan(built.path);
          noteWritten('the plan', file.path);
          const refusal = guardRefusal(file.header, 'plan', '"invrecon plan --force"');
          const erpOut = options.erpOut ? resolve(options.erpOut) : undefined;
          if (erpOut) {
            writeFileAtomic(erpOut, [...erpCorrectionsCsv(file.erpCorrections())].join(''), { what: 'ERP corrections file' });
            noteWritten(`the ERP corrections (${plural(file.header.summary.erpCorrections, 'row')})`, erpOut);
          }
          if (options.format === 'json')
            write.out(
              renderJson({
                ...(refusal ? { error: { message: refusal.message, details: refusal.details } } : {}),
                ...planJson(file.header, file.path, erpOut),
              }),
            );
          else {
            const more = (location: string) => `invrecon plan show ${quote(file.path)} --location ${quote(location)}`;
            write.out(
              renderPlanText(file.header, file.changes(), file.erpCorrections(), file.path, { perLocation: PLAN_ROWS_PER_LOCATION, limit: Infinity, more }),
            );
          }
          if (refusal) {
            write.err(renderGuardRefusal(refusal));
            setExitCode(EXIT.error);
          } else setExitCode(planExitCode(file.header, options.detailedExitcode, options.gate));
        }),
    );

  formatOption(planCommand.command('show'))
    .description('page through a plan file: its summary, guards and the changes that match (reads the file only)')
    .argument('<file>', 'plan file written by "invrecon plan"')
    .option('--sku <pattern>', 'only SKUs matching this glob (TEE-*)')
    .option('--location <name>', 'only this Shopify location (name or id)')
    .option('--limit <n>', 'changes to show (0: all)', '100')
    .action((path: string, own: { format: Format; sku?: string; location?: string; limit: string }) => {
      // Commander hands --sku, --location and --format to `plan`, which has them too, wherever they stand.
      const options = { ...own };
      for (const key of ['sku', 'location', 'format'] as const) {
        if (planCommand.getOptionValueSource(key) === 'cli') Object.assign(options, { [key]: planCommand.getOptionValue(key) as unknown });
      }
      const file = openPlan(resolve(path));
      const limit = parseCount(options.limit, '--limit') || Infinity;
      if (options.format === 'json') {
        const page = pagePlan(file, options, limit);
        write.out(renderJson({ ...planJson(file.header, file.path), locations: file.header.locations, ...page }));
      } else {
        const keep = planFilter(file, options);
        const filter = <T extends { sku: string; locationId: string; locationName: string }>(rows: Iterable<T>) => filtered(rows, keep);
        write.out(renderPlanText(file.header, filter(file.changes()), filter(file.erpCorrections()), undefined, { perLocation: Infinity, limit }));
      }
      setExitCode(EXIT.ok);
    });
}
