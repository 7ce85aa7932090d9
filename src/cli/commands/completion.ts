import { Argument, type Command } from 'commander';
import { EXIT } from '../../errors.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { ExitCodeSink } from '../main.js';
import { write } from '../shared.js';

export function registerCompletion(program: Command, setExitCode: ExitCodeSink): Command {
  return program
    .command('completion')
    .description('print a shell completion script (commands, flags, --format values): source <(invrecon completion bash)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      write.out(completionScript(program, shell));
      setExitCode(EXIT.ok);
    });
}
