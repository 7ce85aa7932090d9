import type { Command } from 'commander';
import { initWorkspace } from '../../config/init.js';
import { EXIT } from '../../errors.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, write } from '../shared.js';

export function registerInit(program: Command, setExitCode: ExitCodeSink): void {
  configOption(program.command('init'))
    .description('write a starter config and sample ERP, bundle and shop files')
    .action((options: { config: string }) => {
      const written = initWorkspace(options.config);
      write.out(
        `Wrote ${written.length} file${written.length === 1 ? '' : 's'}:\n${written.map((f) => `  ${f}`).join('\n')}\n\nNext: edit the config, then run "invrecon pull erp".`,
      );
      setExitCode(EXIT.ok);
    });
}
