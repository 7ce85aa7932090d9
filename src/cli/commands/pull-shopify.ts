import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { requireToken } from '../../sources/shopify/client.js';
import { chooseMode, pullShopify, type PullShopifyProgress } from '../../sources/shopify/pull.js';
import { renderPullProgress, renderShopifyPull } from '../../views/shopify-pull.js';
import type { ExitCodeSink } from '../main.js';
import { callReporter, configOption, formatOption, outputContext, withWorkspace, write, type Format } from '../shared.js';

/**
 * A single rewritten stderr line on a TTY, at most ten times a second; nothing otherwise (nor under
 * --quiet). Without colour it is rewritten with spaces, not escape codes.
 */
function progressLine(): { update(progress: PullShopifyProgress): void; clear(): void } {
  const stream = process.stderr;
  const { quiet, color } = outputContext();
  if (!stream.isTTY || quiet) return { update: () => undefined, clear: () => undefined };
  let last = 0;
  let shown = 0;
  const erase = () => (color ? '\r\x1b[2K' : `\r${' '.repeat(shown)}\r`);
  return {
    update(progress) {
      const now = Date.now();
      if (now - last < 100 && progress.phase !== 'finishing') return;
      last = now;
      const text = renderPullProgress(progress).slice(0, Math.max(20, (stream.columns || 80) - 1));
      stream.write(`${erase()}${text}`);
      shown = text.length;
    },
    clear() {
      if (shown) stream.write(erase());
      shown = 0;
    },
  };
}

export function registerPullShopify(pull: Command, setExitCode: ExitCodeSink): Command {
  return formatOption(configOption(pull.command('shopify')))
    .description('new Shopify snapshot: locations, inventory items and their levels (paged for small shops, bulk for large)')
    .option('--bulk', 'read with a bulk operation, whatever the shop size')
    .option('--paged', 'read page by page, whatever the shop size')
    .action(async (options: { config: string; format: Format; bulk?: boolean; paged?: boolean }) => {
      const mode = chooseMode(options);
      requireToken(); // before the database is opened
      const progress = progressLine();
      try {
        const result = await withWorkspace(options, (config, db) =>
          pullShopify(db, config, { mode, onProgress: progress.update, clientOptions: callReporter() }),
        );
        progress.clear();
        for (const warning of result.warnings) write.warn(warning);
        write.out(renderShopifyPull(result, options.format));
        setExitCode(EXIT.ok);
      } finally {
        progress.clear();
      }
    });
}
