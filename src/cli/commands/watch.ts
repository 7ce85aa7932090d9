import type { Command } from 'commander';
import { EXIT, UsageError } from '../../errors.js';
import { createLogger, type LogFormat } from '../../ops/log.js';
import { startWatch } from '../../ops/watch/index.js';
import { requireToken } from '../../sources/shopify/client.js';
import type { ExitCodeSink } from '../main.js';
import { configOption, openWorkspace, write } from '../shared.js';
import { logFormatOption } from './sync.js';

export function registerWatch(program: Command, setExitCode: ExitCodeSink): Command {
  return logFormatOption(configOption(program.command('watch')))
    .description(
      'real-time sync: take ERP rows (POST /erp/levels) and Shopify webhooks (POST /webhooks/shopify), write the levels they touch within seconds; prints its base URL first, runs until SIGTERM/Ctrl-C',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one; default watch.port, 8787)')
    .option('--host <address>', 'address to listen on (default watch.host, 127.0.0.1)')
    .option('--poll', 'also poll the ERP API (erp.api) for changed rows every watch.poll.intervalSeconds')
    .addHelpText(
      'after',
      `
Environment:
  SHOPIFY_ADMIN_TOKEN      Shopify Admin API token (required)
  INVRECON_WATCH_TOKEN     bearer token ERP clients send to POST /erp/levels (required)
  SHOPIFY_WEBHOOK_SECRET   key of the X-Shopify-Hmac-Sha256 signature (without it webhooks answer 503)

Routes:
  POST /erp/levels         JSON array of whole ERP rows {sku, warehouse, on_hand, reserved, incoming?, safety_stock?, category?};
                           202 {"accepted": n} once stored, 400 {"errors": [...]} with nothing stored, 401 without the token
  POST /webhooks/shopify   inventory_levels/update; 401 on a bad signature, duplicates ignored
  GET  /healthz            {"ok", "queueDepth", "inFlight", "lastWrite", "lastError", "leftOut"}
  GET  /metrics            Prometheus text

SIGTERM drains the queue and exits 0; after a kill, a restart resumes every accepted event. See docs/watch.md.`,
    )
    .action(async (options: { config: string; logFormat: LogFormat; port?: string; host?: string; poll?: boolean }) => {
      let port: number | undefined;
      if (options.port !== undefined) {
        if (!/^\d+$/.test(options.port) || Number(options.port) > 65535)
          throw new UsageError(`--port: expected a port number 0-65535, got ${JSON.stringify(options.port)}`);
        port = Number(options.port);
      }
      requireToken();
      const logger = createLogger(options.logFormat);
      const workspace = openWorkspace(options);
      let handle;
      try {
        handle = await startWatch(workspace.db, workspace.config, { port, host: options.host, poll: options.poll, logger });
      } catch (error) {
        workspace.close();
        throw error;
      }
      // Listening for the signals before the URL is out: a supervisor may stop it as soon as it reads it.
      const stopped = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      // The first stdout line is the base URL, as the emulator's.
      write.out(handle.url);
      const signal = await stopped;
      logger.info(`watch: ${signal}: draining`, { event: 'stopping', signal });
      const { drained } = await handle.stop();
      workspace.close();
      logger.info(drained ? 'watch: stopped, queue drained' : 'watch: stopped; SKUs still queued are resumed at the next start', { event: 'stopped', drained });
      setExitCode(EXIT.ok);
    });
}
