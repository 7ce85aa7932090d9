import { Option, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { listSnapshots, pruneSnapshots } from '../../store/snapshots.js';
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
    .description('drop old snapshots, keeping the newest N of each side')
    .requiredOption('--keep <n>', 'snapshots to keep per side')
    .action((options: { config: string; format: Format; keep: string }) =>
      withWorkspace(options, (_config, db) => {
        const removed = pruneSnapshots(db, parseCount(options.keep, '--keep'));
        write.out(renderPrune(removed, listSnapshots(db).length, options.format));
        setExitCode(EXIT.ok);
      }),
    );
}
