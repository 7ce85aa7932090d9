import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { runDoctor } from '../../ops/doctor.js';
import { renderDoctor } from '../../views/doctor.js';
import type { ExitCodeSink } from '../main.js';
import { callReporter, configOption, formatOption, write, type Format } from '../shared.js';

export function registerDoctor(program: Command, setExitCode: ExitCodeSink): Command {
  return formatOption(configOption(program.command('doctor')))
    .description('check a set-up before the first run: config, ERP source, token, endpoint, API version, access scopes, locations, warehouse mapping')
    .action(async (options: { config: string; format: Format }) => {
      const report = await runDoctor(options.config, callReporter());
      write.out(renderDoctor(report, options.format));
      setExitCode(report.ok ? EXIT.ok : EXIT.error);
    });
}
