import { Option, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { DEFAULT_GATE, driftCounts, GATES, gateFails, prepareDiff, type DiffOptions, type DiffResult, type Gate } from '../../reconcile/diff.js';
import { diffCsvChunks, diffJsonChunks, diffTableChunks, renderDiffTableFirst } from '../../views/diff.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

/** The table's rows per location unless --limit says otherwise: the first screen, whatever the drift. */
export const TABLE_ROWS_PER_LOCATION = 20;

export interface GateOptions {
  detailedExitcode?: boolean;
  gate?: Gate;
}

/** The CI gate: 2 when drift the gate looks at (or a conflict) remains above the threshold, else 0. */
export function driftExitCode(summary: DiffResult['summary'], options: GateOptions): number {
  if (!options.detailedExitcode) return EXIT.ok;
  return gateFails(driftCounts(summary), options.gate ?? DEFAULT_GATE) ? EXIT.drift : EXIT.ok;
}

export function gateOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--gate <drift>',
      'what --detailed-exitcode fails on: shopify (levels invrecon would write), erp (corrections the ERP must take) or all; conflicts always',
    )
      .choices(GATES)
      .default(DEFAULT_GATE),
  );
}

/** The flags diff and plan share: which snapshots, which SKUs and locations, what counts as drift. */
export interface SelectionFlags {
  erpSnapshot?: string;
  shopifySnapshot?: string;
  sku?: string;
  location?: string;
  threshold: string;
}

export function selectionOptions(command: Command, thresholdHelp: string): Command {
  return command
    .option('--erp-snapshot <id>', 'ERP snapshot to use (default: the newest)')
    .option('--shopify-snapshot <id>', 'Shopify snapshot to use (default: the newest)')
    .option('--sku <pattern>', 'only SKUs matching this glob (TEE-*)')
    .option('--location <name>', 'only this Shopify location (name or id)')
    .option('--threshold <n>', thresholdHelp, '0');
}

export function parseSelection(flags: SelectionFlags): Pick<DiffOptions, 'erpSnapshotId' | 'shopifySnapshotId' | 'sku' | 'location' | 'threshold'> {
  return {
    sku: flags.sku,
    location: flags.location,
    threshold: parseCount(flags.threshold, '--threshold'),
    erpSnapshotId: flags.erpSnapshot === undefined ? undefined : parseCount(flags.erpSnapshot, '--erp-snapshot'),
    shopifySnapshotId: flags.shopifySnapshot === undefined ? undefined : parseCount(flags.shopifySnapshot, '--shopify-snapshot'),
  };
}

export function registerDiff(program: Command, setExitCode: ExitCodeSink): void {
  gateOption(selectionOptions(formatOption(configOption(program.command('diff')), ['table', 'json', 'csv']), 'ignore |delta| at or below n'))
    .description('per SKU per location: target, observed, delta and the rule that decided')
    .option('--all', 'include levels with nothing to change (the table shows every row)')
    .option('--limit <n>', `table: rows shown per location (0: all)`, String(TABLE_ROWS_PER_LOCATION))
    .option('--detailed-exitcode', 'exit 2 when drift remains (the CI gate; see --gate), 0 when none')
    .action((options: SelectionFlags & { config: string; format: Format; all?: boolean; limit: string; detailedExitcode?: boolean; gate: Gate }) =>
      withWorkspace(options, async (config, db) => {
        const limit = options.all ? 0 : parseCount(options.limit, '--limit');
        const diff = prepareDiff(db, config, { ...parseSelection(options), all: options.all });
        // Rows go out as they are read from SQL: a diff where every level drifts prints in flat memory.
        if (options.format === 'json') await write.chunks(diffJsonChunks(diff, diff.rows()));
        else if (options.format === 'csv') {
          await write.chunks(diffCsvChunks(diff.rows()));
          // CSV has rows only: the mapping's problems go to stderr, so they are not lost.
          for (const issue of diff.issues) write.err(`warning: ${issue}`);
        } else if (limit === 0) await write.chunks(diffTableChunks(diff, diff.rows()));
        else {
          const first = diff.firstRowsByLocation(limit);
          write.out(renderDiffTableFirst(diff, first.rows, first.counts, limit));
        }
        setExitCode(driftExitCode(diff.summary, options));
      }),
    );
}
