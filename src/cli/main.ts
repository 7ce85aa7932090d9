import { Command, CommanderError } from 'commander';
import { InvreconError, EXIT } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import { write } from './shared.js';
import { registerInit } from './commands/init.js';
import { registerPull } from './commands/pull.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerDiff } from './commands/diff.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerEmulator } from './commands/emulator.js';
import { registerSync } from './commands/sync.js';
import { registerStatus } from './commands/status.js';
import { registerReport } from './commands/report.js';
import { registerDemo } from './commands/demo.js';
import { toolVersion } from '../version.js';

/** Each command's action returns its exit code; it lands here. */
export type ExitCodeSink = (code: number) => void;

export function buildProgram(setExitCode: ExitCodeSink): Command {
  const program = new Command('invrecon')
    .description("Keep Shopify's sellable inventory equal to what the ERP says can be sold, per SKU per location.")
    .version(toolVersion, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text), writeOut: (text) => process.stdout.write(text) });
  registerInit(program, setExitCode);
  registerPull(program, setExitCode);
  registerSnapshots(program, setExitCode);
  registerDiff(program, setExitCode);
  registerPlanCommands(program, setExitCode);
  registerEmulator(program, setExitCode);
  registerSync(program, setExitCode);
  registerStatus(program, setExitCode);
  registerReport(program, setExitCode);
  registerDemo(program, setExitCode);
  return program;
}

export function renderError(error: unknown): string {
  if (error instanceof InvreconError) {
    const lines = [`invrecon: ${error.message}`, ...error.details.map((d) => `  ${d}`)];
    return redactSecrets(lines.join('\n'));
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return redactSecrets(`invrecon: internal error: ${message}`);
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end this way with code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    write.err(renderError(error));
    return EXIT.error;
  }
}
