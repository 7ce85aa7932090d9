import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { readLog } from '../../store/audit.js';
import { renderLog } from '../../views/apply.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

export function registerLog(program: Command, setExitCode: ExitCodeSink): void {
  formatOption(configOption(program.command('log')), ['table', 'json', 'csv'])
    .description('show the audit log: every call to Shopify (with what it came to) and every level change')
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
