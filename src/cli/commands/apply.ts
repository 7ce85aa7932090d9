import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { withLock, type LockRow } from '../../ops/lock.js';
import { applyRecorded } from '../../ops/apply-run.js';
import { DEFAULT_MAX_IN_FLIGHT, undone, type ApplyResult } from '../../plan/apply.js';
import { openPlan } from '../../plan/file.js';
import { renderApply } from '../../views/apply.js';
import type { ExitCodeSink } from '../main.js';
import { callReporter, configOption, formatOption, parseCount, withWorkspace, write, type Format } from '../shared.js';

export function registerApply(program: Command, setExitCode: ExitCodeSink): void {
  formatOption(configOption(program.command('apply')))
    .description('apply a plan to Shopify: a dry run unless --commit')
    .argument('<file>', 'plan file written by "invrecon plan"')
    .option('--commit', 'send the changes (without it nothing is sent)')
    .option('--live', 'dry run: read each level from Shopify now and show which changes are already stale')
    .option('--max-misses <n>', 'compare-and-swap misses per level before it is reported as a conflict', '5')
    .option('--unverified', 'apply even if the plan is not what its baseline snapshots give (edited, or the config changed); recorded')
    .option('--lock-wait <seconds>', 'with --commit: while a sync, another apply or a watch write holds the lock, wait this long for it before exiting 1', '60')
    .option('--max-in-flight <n>', 'most calls in flight at once (they adapt below it to latency and the rate limit)', String(DEFAULT_MAX_IN_FLIGHT))
    .action(
      async (
        file: string,
        options: {
          config: string;
          format: Format;
          commit?: boolean;
          live?: boolean;
          maxMisses: string;
          maxInFlight: string;
          lockWait: string;
          unverified?: boolean;
        },
      ) => {
        const plan = openPlan(resolve(file));
        await withWorkspace(options, async (config, db) => {
          const run = (onProgress?: () => void) =>
            applyRecorded(db, config, plan, {
              commit: Boolean(options.commit),
              live: options.live,
              planPath: resolve(file),
              maxMisses: Math.max(1, parseCount(options.maxMisses, '--max-misses')),
              maxInFlight: Math.max(1, parseCount(options.maxInFlight, '--max-in-flight')),
              unverified: options.unverified,
              onProgress,
              clientOptions: callReporter(),
            });
          // One writer at a time: an apply and a sync (or two applies) must not move the same levels at once.
          let result: ApplyResult;
          if (options.commit) {
            const waitMs = parseCount(options.lockWait, '--lock-wait') * 1000;
            const onWait = (holder: LockRow) =>
              write.warn(
                `waiting up to ${waitMs / 1000} s for the sync lock, held by ${holder.owner} since ${holder.acquiredAt}${holder.command ? ` (${holder.command})` : ''}`,
              );
            result = await withLock(db, { command: 'apply', waitMs, onWait }, async (held) => {
              if (held.tookOver) write.warn(`took over a stale lock from ${held.tookOver.holder.owner}: ${held.tookOver.reason}`);
              return run();
            });
          } else {
            result = await run();
          }
          if (result.unverified.length > 0)
            write.err(
              `warning: applying an unverified plan (--unverified, recorded): ${result.unverified.length} difference(s) from its baseline, first: ${result.unverified[0]}`,
            );
          write.out(renderApply(result, options.format));
          setExitCode(undone(result) > 0 ? EXIT.conflicts : EXIT.ok);
        });
      },
    );
}
