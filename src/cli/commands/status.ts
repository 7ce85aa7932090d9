import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { buildStatus } from '../../ops/status.js';
import { renderStatus } from '../../views/status.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

export function registerStatus(program: Command, setExitCode: ExitCodeSink): Command {
  return formatOption(configOption(program.command('status')))
    .description('last syncs and their outcome, drift now, time since the last successful sync, retries and throttling')
    .option('--runs <n>', 'how many recent syncs to show and sum up', '10')
    .action((options: { config: string; format: Format; runs: string }) =>
      withWorkspace(options, (config, db) => {
        const runs = Math.max(1, parseCount(options.runs, '--runs'));
        write.out(renderStatus(buildStatus(db, config, { runs }), options.format));
        setExitCode(EXIT.ok);
      }),
    );
}
