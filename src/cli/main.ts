import chalk from 'chalk';
import { Command, CommanderError } from 'commander';
import { InvreconError, EXIT, exitCodeOf, systemErrorLine } from '../errors.js';
import { redactSecrets } from '../secrets.js';
import { renderJsonError, setTerminalColumns } from '../views/common.js';
import { colorLevel } from './color.js';
import { outputContext, setOutputContext, write } from './shared.js';
import { toolVersion } from '../version.js';

/** Each command's action returns its exit code; it lands here. */
export type ExitCodeSink = (code: number) => void;

type Register = (program: Command, setExitCode: ExitCodeSink) => void;

/**
 * Each command's module by the names it registers, in help order. Only the one a run names is loaded
 * (apply need not compile the emulator, watch or report: a third of the start-up); help, an unknown name
 * and completion load them all.
 */
const COMMANDS: [names: string[], load: () => Promise<Register>][] = [
  [['init'], async () => (await import('./commands/init.js')).registerInit],
  [['pull'], async () => (await import('./commands/pull.js')).registerPull],
  [['snapshots', 'prune'], async () => (await import('./commands/snapshots.js')).registerSnapshots],
  [['diff'], async () => (await import('./commands/diff.js')).registerDiff],
  [['plan'], async () => (await import('./commands/plan.js')).registerPlanCommands],
  [['apply'], async () => (await import('./commands/apply.js')).registerApply],
  [['log'], async () => (await import('./commands/log.js')).registerLog],
  [['emulator'], async () => (await import('./commands/emulator.js')).registerEmulator],
  [['sync'], async () => (await import('./commands/sync.js')).registerSync],
  [['watch'], async () => (await import('./commands/watch.js')).registerWatch],
  [['status'], async () => (await import('./commands/status.js')).registerStatus],
  [['report'], async () => (await import('./commands/report.js')).registerReport],
  [['demo'], async () => (await import('./commands/demo.js')).registerDemo],
  [['doctor'], async () => (await import('./commands/doctor.js')).registerDoctor],
  [['completion'], async () => (await import('./commands/completion.js')).registerCompletion],
];

/** The command a command line names: its first word that is not an option (the global ones take no value). */
function commandNamed(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

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

/** The program with the command `argv` names (all of them when it names none, or one this does not know, or completion). */
export async function buildProgram(setExitCode: ExitCodeSink, argv: readonly string[] = []): Promise<Command> {
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
  const named = commandNamed(argv);
  const only = COMMANDS.find(([names]) => named !== undefined && named !== 'completion' && names.includes(named));
  for (const [, load] of only ? [only] : COMMANDS) (await load())(program, setExitCode);
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
  const program = await buildProgram((code) => {
    exitCode = code;
  }, argv);
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
