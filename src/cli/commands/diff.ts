import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { computeDiff, type DiffOptions, type DiffResult } from '../../reconcile/diff.js';
import { renderDiff } from '../../views/diff.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

export interface GateOptions {
  detailedExitcode?: boolean;
}

/** The CI gate: 2 when drift or conflicts remain above the threshold, else 0. */
export function driftExitCode(summary: DiffResult['summary'], options: GateOptions): number {
  if (!options.detailedExitcode) return EXIT.ok;
  return summary.levelsDrifting > 0 || summary.reported.conflict > 0 ? EXIT.drift : EXIT.ok;
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
  selectionOptions(formatOption(configOption(program.command('diff')), ['table', 'json', 'csv']), 'ignore |delta| at or below n')
    .description('per SKU per location: target, observed, delta and the rule that decided')
    .option('--all', 'include levels with nothing to change')
    .option('--detailed-exitcode', 'exit 2 when drift remains (the CI gate), 0 when none')
    .action(
      (options: SelectionFlags & { config: string; format: Format; all?: boolean; detailedExitcode?: boolean }) =>
        withWorkspace(options, (config, db) => {
          const result = computeDiff(db, config, { ...parseSelection(options), all: options.all });
          write.out(renderDiff(result, options.format));
          setExitCode(driftExitCode(result.summary, options));
        }),
    );
}
