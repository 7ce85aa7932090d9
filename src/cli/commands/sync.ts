import { Option, type Command } from 'commander';
import { requireToken } from '../../sources/shopify/client.js';
import { createLogger, type LogFormat, type Logger } from '../../ops/log.js';
import { DEFAULT_STALE_MS, LockHeldError } from '../../ops/lock.js';

/** How long a sync waits by default for a lock another process holds. */
const DEFAULT_LOCK_WAIT_S = 60;
import { EXIT } from '../../errors.js';
import { renderJson } from '../../views/common.js';
import { runSync } from '../../ops/sync.js';
import { renderSync } from '../../views/sync.js';
import type { ExitCodeSink } from '../main.js';
import { callReporter, configOption, formatOption, outputContext, parseCount, withWorkspace, write, type Format } from '../shared.js';

export function logFormatOption(command: Command): Command {
  return command.addOption(new Option('--log-format <format>', 'stderr logs: text, or JSON lines for log shippers').choices(['text', 'json']).default('text'));
}

/** Under --quiet the info lines go; warnings and errors stay. */
function quietable(logger: Logger): Logger {
  return outputContext().quiet ? { ...logger, info: () => undefined } : logger;
}

export function registerSync(program: Command, setExitCode: ExitCodeSink): Command {
  return logFormatOption(formatOption(configOption(program.command('sync'))))
    .description('the nightly job: pull ERP and Shopify, plan, check guards, apply (dry run unless --commit), record the run; one at a time per database')
    .option('--commit', 'send the changes (without it the apply is a dry run)')
    .option('--csv <file>', 'read this ERP CSV export instead of the configured source')
    .option('--api', 'read the configured ERP API (erp.api) even when erp.csv is set')
    .option('--force', 'apply even when a guard fails (recorded in the plan and the run)')
    .option('--detailed-exitcode', 'exit 2 when a dry run found drift or a level is off by more than alerts.maxDeviation')
    .option(
      '--stale-lock <seconds>',
      'a lock held from another host whose heartbeat is older than this is taken over (on this host: once its process is gone)',
      String(DEFAULT_STALE_MS / 1000),
    )
    .option(
      '--lock-wait <seconds>',
      'while another apply, sync or watch write holds the lock, wait this long for it before exiting 1',
      String(DEFAULT_LOCK_WAIT_S),
    )
    .action(
      async (options: {
        config: string;
        format: Format;
        logFormat: LogFormat;
        commit?: boolean;
        csv?: string;
        api?: boolean;
        force?: boolean;
        detailedExitcode?: boolean;
        staleLock: string;
        lockWait: string;
      }) => {
        const staleMs = parseCount(options.staleLock, '--stale-lock') * 1000;
        const lockWaitMs = parseCount(options.lockWait, '--lock-wait') * 1000;
        requireToken(); // before the lock is taken
        const logger = quietable(createLogger(options.logFormat));
        let result;
        try {
          result = await withWorkspace(options, (config, db) =>
            runSync(db, config, {
              commit: Boolean(options.commit),
              force: options.force,
              csvPath: options.csv,
              api: options.api,
              detailedExitcode: options.detailedExitcode,
              logger,
              staleMs,
              lockWaitMs,
              onLockWait: (holder) =>
                logger.warn(
                  `waiting up to ${lockWaitMs / 1000} s for the sync lock, held by ${holder.owner} since ${holder.acquiredAt}${holder.runId !== null ? ` (run #${holder.runId})` : ''}`,
                  { event: 'lock-wait', owner: holder.owner, since: holder.acquiredAt, runId: holder.runId, waitMs: lockWaitMs },
                ),
              onSignal: (signal, { runId }) => {
                // 128 + the signal's number, as a shell reports a process the signal ended.
                const exitCode = signal === 'SIGINT' ? 130 : 143;
                if (options.format === 'json') write.out(renderJson({ outcome: 'interrupted', exitCode, signal, runId }));
                process.exit(exitCode);
              },
              ...callReporter(),
            }),
          );
        } catch (error) {
          if (!(error instanceof LockHeldError)) throw error;
          // Not a run: nothing was recorded. Say who holds the lock, in the formats asked for.
          logger.error(error.message, {
            event: 'lock-held',
            owner: error.holder.owner,
            since: error.holder.acquiredAt,
            heartbeatAt: error.holder.heartbeatAt,
            runId: error.holder.runId,
            waitedMs: error.waitedMs,
          });
          if (options.format === 'json') write.out(renderJson({ outcome: 'locked', exitCode: EXIT.error, lock: error.holder, waitedMs: error.waitedMs }));
          setExitCode(EXIT.error);
          return;
        }
        // Failures were logged by the sync itself; the summary says the rest.
        write.out(renderSync(result.runId, result.summary, options.format));
        setExitCode(result.exitCode);
      },
    );
}
