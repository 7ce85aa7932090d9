import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT, UsageError } from '../../errors.js';
import { buildReportData } from '../../ops/report.js';
import { renderReportHtml } from '../../views/report.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, noteWritten, parseCount, withWorkspace, write } from '../shared.js';
import { plural } from '../../views/common.js';
import { writeFileAtomic } from '../../files.js';

export function registerReport(program: Command, setExitCode: ExitCodeSink): Command {
  return configOption(program.command('report'))
    .description('write a self-contained HTML report: drift over time, per location, top drifting SKUs, recent runs and their phases')
    .option('--html <file>', 'HTML file to write')
    .option('--runs <n>', 'how many recent syncs to include', '30')
    .action((options: { config: string; html?: string; runs: string }) => {
      if (!options.html) throw new UsageError('report: --html FILE is required (the only format so far)');
      const runs = Math.max(1, parseCount(options.runs, '--runs'));
      const file = resolve(options.html);
      return withWorkspace(options, (config, db) => {
        const data = buildReportData(db, config, { runs });
        writeFileAtomic(file, renderReportHtml(data), { what: 'HTML report' });
        noteWritten(`the report of ${plural(data.runs.length, 'sync run')}`, file);
        write.out(file);
        setExitCode(EXIT.ok);
      });
    });
}
