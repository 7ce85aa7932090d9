import chalk from 'chalk';
import { Command, CommanderError } from 'commander';
import { InvreconError, EXIT, exitCodeOf, systemErrorLine } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import { renderJsonError, setTerminalColumns } from '../views/common.js';
import { colorLevel } from './color.js';
import { outputContext, setOutputContext, write } from './shared.js';
import { registerInit } from './commands/init.js';
import { registerPull } from './commands/pull.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerDiff } from './commands/diff.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerApply } from './commands/apply.js';
import { registerLog } from './commands/log.js';
import { registerEmulator } from './commands/emulator.js';
import { registerSync } from './commands/sync.js';
import { registerStatus } from './commands/status.js';
import { registerReport } from './commands/report.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerCompletion } from './commands/completion.js';
import { registerWatch } from './commands/watch.js';
import { toolVersion } from '../version.js';

/** Each command's action returns its exit code; it lands here. */
export type ExitCodeSink = (code: number) => void;

interface ProgramFlags {
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** Applies the global flags (and NO_COLOR, FORCE_COLOR, the terminal) before any command runs. */
function applyGlobalFlags(flags: ProgramFlags, format: string | undefined): void {
  const tty = Boolean(process.stdout.isTTY);
  chalk.level = colorLevel(flags.color, process.env, tty);
  setTerminalColumns(tty ? process.stdout.columns : undefined);
  setOutputContext({ quiet: Boolean(flags.quiet), verbose: Boolean(flags.verbose) && !flags.quiet, color: chalk.level > 0, format });
}

/** The --format given on the command line, even where commander handed it to a parent (`plan show` under `plan`). */
function chosenFormat(action: Command): string | undefined {
  for (let command: Command | null = action; command; command = command.parent) {
    if (command.getOptionValueSource('format') === 'cli') return command.getOptionValue('format') as string;
  }
  return action.opts<{ format?: string }>().format;
}

export function buildProgram(setExitCode: ExitCodeSink): Command {
  const program = new Command('invrecon')
    .description("Keep Shopify's sellable inventory equal to what the ERP says can be sold, per SKU per location.")
    .version(toolVersion, '-V, --version')
    .option('--color', 'colour even when stdout is not a terminal (as FORCE_COLOR=1)')
    .option('--no-color', 'no colour (as NO_COLOR=1); by default colour only on a terminal')
    .option('-q, --quiet', 'results only: no progress or notes on stderr (warnings and errors still)')
    .option('-v, --verbose', 'each Shopify call, retry and wait on stderr')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text), writeOut: (text) => process.stdout.write(text) });
  program.hook('preAction', (_program, action) => applyGlobalFlags(program.opts<ProgramFlags>(), chosenFormat(action)));
  registerInit(program, setExitCode);
  registerPull(program, setExitCode);
  registerSnapshots(program, setExitCode);
  registerDiff(program, setExitCode);
  registerPlanCommands(program, setExitCode);
  registerApply(program, setExitCode);
  registerLog(program, setExitCode);
  registerEmulator(program, setExitCode);
  registerSync(program, setExitCode);
  registerWatch(program, setExitCode);
  registerStatus(program, setExitCode);
  registerReport(program, setExitCode);
  registerDemo(program, setExitCode);
  registerDoctor(program, setExitCode);
  registerCompletion(program, setExitCode);
  return program;
}

export function renderError(error: unknown): string {
  if (error instanceof InvreconError) {
    const lines = [`invrecon: ${error.message}`, ...error.details.map((d) => `  ${d}`)];
    return redactSecrets(lines.join('\n'));
  }
  const line = systemErrorLine(error);
  if (line !== undefined) return redactSecrets(`invrecon: ${line}`);
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return redactSecrets(`invrecon: internal error: ${message}`);
}

/** The `{"error": {"message", "details"}}` document of a failure under --format json. */
export function renderErrorJson(error: unknown): string {
  if (error instanceof InvreconError) return redactSecrets(renderJsonError(error.message, error.details));
  if (error instanceof CommanderError) return renderJsonError(error.message.replace(/^error: /, ''), []);
  const line = systemErrorLine(error);
  if (line !== undefined) return redactSecrets(renderJsonError(line, []));
  return redactSecrets(renderJsonError(`internal error: ${error instanceof Error ? error.message : String(error)}`, []));
}

/** --format json / -f json / --format=json among the arguments: for failures before the action ran. */
export function asksForJson(argv: readonly string[]): boolean {
  return argv.some((arg, i) => arg === '--format=json' || arg === '-fjson' || ((arg === '--format' || arg === '-f') && argv[i + 1] === 'json'));
}

function setProcessExitOverride(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) setProcessExitOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  setProcessExitOverride(program);
  setOutputContext({ quiet: false, verbose: false, format: undefined });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    const json = (outputContext().format ?? (asksForJson(argv) ? 'json' : undefined)) === 'json';
    if (error instanceof CommanderError) {
      // Help and version end this way with code 0; usage errors were already printed by commander.
      if (error.exitCode === 0) return EXIT.ok;
      if (json) write.out(renderErrorJson(error));
      return EXIT.error;
    }
    write.err(renderError(error));
    if (json) write.out(renderErrorJson(error));
    return exitCodeOf(error);
  }
}
