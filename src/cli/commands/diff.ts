import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { computeDiff, type DiffResult } from '../../reconcile/diff.js';
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

export function snapshotOptions(command: Command): Command {
  return command
    .option('--erp-snapshot <id>', 'ERP snapshot to use (default: the newest)')
    .option('--shopify-snapshot <id>', 'Shopify snapshot to use (default: the newest)');
}

export function registerDiff(program: Command, setExitCode: ExitCodeSink): void {
  snapshotOptions(formatOption(configOption(program.command('diff')), ['table', 'json', 'csv']))
    .description('per SKU per location: target, observed, delta and the rule that decided')
    .option('--all', 'include levels with nothing to change')
    .option('--sku <pattern>', 'only SKUs matching this glob (TEE-*)')
    .option('--location <name>', 'only this Shopify location (name or id)')
    .option('--threshold <n>', 'ignore |delta| at or below n', '0')
    .option('--detailed-exitcode', 'exit 2 when drift remains (the CI gate), 0 when none')
    .action(
      (options: {
        config: string;
        format: Format;
        all?: boolean;
        sku?: string;
        location?: string;
        threshold: string;
        detailedExitcode?: boolean;
        erpSnapshot?: string;
        shopifySnapshot?: string;
      }) =>
        withWorkspace(options, (config, db) => {
          const result = computeDiff(db, config, {
            all: options.all,
            sku: options.sku,
            location: options.location,
            threshold: parseCount(options.threshold, '--threshold'),
            erpSnapshotId: options.erpSnapshot === undefined ? undefined : parseCount(options.erpSnapshot, '--erp-snapshot'),
            shopifySnapshotId: options.shopifySnapshot === undefined ? undefined : parseCount(options.shopifySnapshot, '--shopify-snapshot'),
          });
          write.out(renderDiff(result, options.format));
          setExitCode(driftExitCode(result.summary, options));
        }),
    );
}
