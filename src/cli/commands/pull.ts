import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { pullErp } from '../../sources/erp/pull.js';
import { renderErpPull } from '../../views/pull.js';
import { registerPullShopify } from './pull-shopify.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, withWorkspace, write, type Format } from '../shared.js';

export function registerPull(program: Command, setExitCode: ExitCodeSink): Command {
  const pull = program.command('pull').description('read one side into a new snapshot');
  formatOption(configOption(pull.command('erp')))
    .description('new ERP snapshot from the configured CSV or API source')
    .option('--csv <file>', 'read this CSV export instead of the configured source')
    .option('--api', 'read the configured ERP API (erp.api) even when erp.csv is set')
    .action(async (options: { config: string; format: Format; csv?: string; api?: boolean }) => {
      const result = await withWorkspace(options, (config, db) => pullErp(db, config, { csvPath: options.csv, api: options.api }));
      for (const warning of result.warnings) write.warn(warning);
      write.out(renderErpPull(result, options.format));
      setExitCode(EXIT.ok);
    });
  registerPullShopify(pull, setExitCode);
  return pull;
}
