import { Option, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { prune } from '../../ops/prune.js';
import { listSnapshots } from '../../store/snapshots.js';
import { renderPrune, renderSnapshots } from '../../views/snapshots.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

export function registerSnapshots(program: Command, setExitCode: ExitCodeSink): void {
  formatOption(configOption(program.command('snapshots')))
    .description('list the snapshot history')
    .addOption(new Option('--side <side>', 'only this side').choices(['erp', 'shopify']))
    .action((options: { config: string; format: Format; side?: 'erp' | 'shopify' }) =>
      withWorkspace(options, (_config, db) => {
        write.out(renderSnapshots(listSnapshots(db, options.side), options.format));
        setExitCode(EXIT.ok);
      }),
    );
  formatOption(configOption(program.command('prune')))
    .description('drop old snapshots (and the plans made from them), keeping the newest N of each side and every snapshot still referred to')
    .requiredOption('--keep <n>', 'snapshots to keep per side')
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('--force', 'allow --keep 0')
    .action((options: { config: string; format: Format; keep: string; dryRun?: boolean; force?: boolean }) =>
      withWorkspace(options, (config, db) => {
        const result = prune(db, config, { keep: parseCount(options.keep, '--keep'), dryRun: options.dryRun, force: options.force });
        write.out(renderPrune(result, options.format));
        setExitCode(EXIT.ok);
      }),
    );
}
