import type { Server } from 'node:http';
import type { LoadedConfig } from '../../config/load.js';
import { errorMessage, InputError, UsageError } from '../../errors.js';
import { registerSecret } from '../../secrets.js';
import { leftOutLine } from '../../text.js';
import { pullErp } from '../../sources/erp/pull.js';
import { createShopifyClient, type ShopifyClientOptions } from '../../sources/shopify/client.js';
import { pullShopify } from '../../sources/shopify/pull.js';
import { recordCall } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import { latestSnapshot } from '../../store/snapshots.js';
import { postWebhook, resolveWebhookUrl, type WatchAlertPayload } from '../alerts.js';
import { acquireLock, heartbeat, LockHeldError, releaseLock, syncWaiting, type LockRow } from '../lock.js';
import type { Logger } from '../log.js';
import { WatchEngine, type WriteGate } from './engine.js';
import { WatchMetrics } from './metrics.js';
import { flushOutbox } from './outbox.js';
import { ErpPoller } from './poll.js';
import { Recomputer } from './recompute.js';
import { createWatchServer, listen } from './server.js';
import type { WatchStats } from './stats.js';
import { acceptErpRows, acceptLevelUpdate, leftOutLevels, markSkusDirty, queueDepth, seedFromSnapshots, setMeta } from './state.js';

export const WATCH_TOKEN_ENV = 'INVRECON_WATCH_TOKEN';
export const WEBHOOK_SECRET_ENV = 'SHOPIFY_WEBHOOK_SECRET';
/** Held for the whole run: one watch per database. */
export const WATCH_LOCK = 'watch';
/** The figures status and report show, refreshed this often. */
const STATS_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WatchOptions {
  port?: number;
  host?: string;
  /** Poll the ERP API for changed rows (watch.poll). */
  poll?: boolean;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  clientOptions?: ShopifyClientOptions;
}

export interface WatchHandle {
  url: string;
  /** Stops taking events, drains the queue (up to timeoutMs), flushes the outbox. */
  stop(timeoutMs?: number): Promise<{ drained: boolean }>;
}

/**
 * Watch's writes and `sync --commit` exclude each other through the sync lock: watch holds it only
 * while write calls are in flight (shared by its concurrent calls), and waits while a sync holds it.
 * A sync waiting for the lock (SYNC_WAITING) gets it next: no new call takes the lock meanwhile.
 */
export class SyncLockGate implements WriteGate {
  private holders = 0;
  private lock: LockRow | undefined;
  private heldSince = 0;
  private waitingNoted = false;
  private lastBeat = 0;
  private waiterSeen = false;
  private waiterCheckedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  async hold<T>(fn: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await fn();
    } finally {
      this.exit();
    }
  }

  private async enter(): Promise<void> {
    for (;;) {
      const yielding = this.syncWaits();
      // Held for a while without a break: let the current calls finish and release, so a waiting sync gets its turn.
      if (this.lock && !yielding && Date.now() - this.heldSince < 5000) {
        this.holders++;
        if (Date.now() - this.lastBeat > 10_000) {
          heartbeat(this.db, this.lock);
          this.lastBeat = Date.now();
        }
        return;
      }
      if (!this.lock && !yielding) {
        try {
          this.lock = acquireLock(this.db, { command: 'watch' }).lock;
          this.heldSince = this.lastBeat = Date.now();
          if (this.waitingNoted) this.log.info('the sync lock is free again: writes resume', { event: 'lock-resumed' });
          this.waitingNoted = false;
          continue;
        } catch (error) {
          if (!(error instanceof LockHeldError)) throw error;
          if (!this.waitingNoted) this.log.warn(`writes wait: ${error.message}`, { event: 'lock-wait', owner: error.holder.owner });
          this.waitingNoted = true;
        }
      }
      await sleep(this.lock ? 20 : yielding ? 100 : 500);
    }
  }

  /** Whether a sync waits for the lock; read at most every 100 ms, as enter() runs once per write call. */
  private syncWaits(): boolean {
    const now = Date.now();
    if (now - this.waiterCheckedAt >= 100) {
      this.waiterSeen = syncWaiting(this.db);
      this.waiterCheckedAt = now;
    }
    return this.waiterSeen;
  }

  private exit(): void {
    this.holders--;
    if (this.holders === 0 && this.lock) {
      releaseLock(this.db, this.lock);
      this.lock = undefined;
    }
  }
}

/** Starts the server, the write loop, the outbox and (optionally) the ERP poller. */
export async function startWatch(db: Db, config: LoadedConfig, options: WatchOptions): Promise<WatchHandle> {
  const env = options.env ?? process.env;
  const log = options.logger;
  const token = env[WATCH_TOKEN_ENV]?.trim();
  if (!token) throw new InputError(`${WATCH_TOKEN_ENV} is not set: export the bearer token ERP clients must send to POST /erp/levels`);
  registerSecret(token);
  const webhookSecret = env[WEBHOOK_SECRET_ENV]?.trim() || undefined;
  registerSecret(webhookSecret);
  if (!webhookSecret)
    log.warn(`${WEBHOOK_SECRET_ENV} is not set: POST /webhooks/shopify answers 503 (Shopify's moves are seen at the next sync only)`, {
      event: 'no-webhook-secret',
    });
  const alertUrl = resolveWebhookUrl(config.alerts, env);

  // One watch per database: a second would send every write twice. A killed one is taken over.
  let processLock: LockRow;
  try {
    processLock = acquireLock(db, { name: WATCH_LOCK, command: 'watch' }).lock;
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    throw new UsageError(
      `another invrecon watch runs on this database: ${error.holder.owner} since ${error.holder.acquiredAt}, last heartbeat ${error.holder.heartbeatAt}`,
    );
  }
  // A 202 follows the commit: in WAL mode it survives a killed process; with watch.fsync each accepting
  // commit is also flushed to the disk (survives a power cut) at several ms per request.
  const durably = <T>(fn: () => T): T => {
    if (!config.watch.fsync) return fn();
    db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      db.pragma('synchronous = NORMAL');
    }
  };
  const metrics = new WatchMetrics();
  let pacedAt = 0;
  const client = createShopifyClient(config, {
    ...options.clientOptions,
    env,
    onCall: (event) => {
      metrics.call();
      if (event.waitedMs > 0 || event.outcome === 'throttled') pacedAt = Date.now();
      recordCall(db, {
        planDigest: null,
        batchNo: null,
        idempotencyKey: null,
        operation: `watch ${event.operation}`,
        cost: event.actualCost ?? event.requestedCost ?? null,
        latencyMs: Math.round(event.latencyMs),
        outcome: event.attempt > 1 ? `${event.outcome} (attempt ${event.attempt})` : event.outcome,
        detail: event.message ?? null,
      });
      options.clientOptions?.onCall?.(event);
    },
  });
  const startedAt = new Date().toISOString();

  if (!latestSnapshot(db, 'erp')) {
    log.info('no ERP snapshot yet: pulling one first', { event: 'seed-pull', side: 'erp' });
    await pullErp(db, config);
  }
  if (!latestSnapshot(db, 'shopify')) {
    log.info('no Shopify snapshot yet: pulling one first', { event: 'seed-pull', side: 'shopify' });
    await pullShopify(db, config, { client });
  }
  const seeded = seedFromSnapshots(db);
  if (seeded.erp)
    log.info(`live ERP state from snapshot #${seeded.erp.snapshotId} (${seeded.erp.rows} rows not changed by an event since)`, {
      event: 'seed',
      side: 'erp',
      ...seeded.erp,
    });
  if (seeded.shopify)
    log.info(`live Shopify state from snapshot #${seeded.shopify.snapshotId} (${seeded.shopify.levels} levels)`, {
      event: 'seed',
      side: 'shopify',
      ...seeded.shopify,
    });

  metrics.setLeftOut(leftOutLevels(db, config));
  if (metrics.leftOut.levels > 0)
    log.info(`${leftOutLine(metrics.leftOut)}: never written, as diff and plan leave them out`, { event: 'left-out', ...metrics.leftOut });

  const recomputer = new Recomputer(db, config);
  // A move Shopify reports recomputes its SKU where Shopify's number is an input of the target: Shopify
  // or hybrid authority, or committed subtracted. Under plain ERP authority the ERP's next row decides
  // (writing the ERP's figure over a sale the ERP has not booked yet would oversell).
  const shopifyInput = config.shopifyCommitted === 'subtract';
  const authorityOf = db.prepare('SELECT category FROM watch_erp_levels WHERE sku = ? AND category IS NOT NULL LIMIT 1').pluck();
  const recomputeOnShopifyChange = (sku: string) => {
    if (shopifyInput || config.authority.default !== 'erp' || config.locations.some((l) => l.authority && l.authority !== 'erp')) return true;
    const category = authorityOf.get(sku) as string | undefined;
    return category !== undefined && (config.authority.byCategory[category] ?? 'erp') !== 'erp';
  };

  let alerted: Record<'queue' | 'writes-failing', boolean> = { queue: false, 'writes-failing': false };
  const alert = (reason: 'queue' | 'writes-failing', text: string, consecutiveFailures: number) => {
    if (alerted[reason]) return;
    alerted[reason] = true;
    log.error(text, { event: 'alert', reason });
    if (!alertUrl || !config.alerts) return;
    const payload: WatchAlertPayload = {
      text: `invrecon watch on ${config.shopify.shop}: ${text}`,
      event: 'watch-alert',
      shop: config.shopify.shop,
      reason,
      queueDepth: metrics.queueDepth,
      consecutiveFailures,
      lastError: metrics.lastError?.message ?? null,
    };
    void postWebhook(alertUrl, payload, { timeoutMs: config.alerts.timeoutMs, retries: config.alerts.retries }).then((result) => {
      if (result && !result.sent) log.warn(`alert webhook failed: ${result.error ?? 'not sent'}`, { event: 'alert-failed' });
    });
  };

  const gate = new SyncLockGate(db, log);
  const engine = new WatchEngine(db, config, client, recomputer, metrics, log, gate, {
    batchWindowMs: config.watch.batchWindowMs,
    maxInFlight: config.watch.maxInFlight,
    recomputeOnShopifyChange,
    bucketTight: () => Date.now() - pacedAt < 2000,
    onWriteFailure: (consecutive, message) => {
      if (consecutive >= config.watch.alerts.maxFailedWrites)
        alert('writes-failing', `${consecutive} write calls in a row failed; last: ${message}`, consecutive);
    },
  });

  let draining = false;
  const server: Server = createWatchServer({
    token,
    webhookSecret,
    maxBodyBytes: config.watch.maxBodyBytes,
    acceptErp(rows, raw) {
      durably(() => acceptErpRows(db, rows, 'erp', raw));
      metrics.event('erp', 'accepted', rows.length);
      engine.wake();
    },
    acceptWebhook(update, raw) {
      const { outcome } = durably(() =>
        acceptLevelUpdate(
          db,
          update,
          raw,
          (item, location, available) => engine.isEcho(item, location, available),
          (sku) => {
            // Under subtract, committed moved too (the webhook does not say how much): read before recomputing.
            if (recomputeOnShopifyChange(sku)) markSkusDirty(db, [sku], shopifyInput);
          },
          Date.now(),
          shopifyInput,
        ),
      );
      metrics.event('webhook', outcome);
      if (outcome === 'accepted') engine.wake();
      return outcome;
    },
    health() {
      return {
        ok: !draining,
        queueDepth: queueDepth(db),
        inFlight: engine.inFlightCount(),
        lastWrite: metrics.lastWriteAt,
        lastError: metrics.lastError,
        leftOut: metrics.leftOut,
      };
    },
    async metrics() {
      metrics.setQueueDepth(queueDepth(db));
      return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
    },
    draining: () => draining,
    onError(error) {
      metrics.error(errorMessage(error));
      log.error(`request failed: ${errorMessage(error)}`, { event: 'request-error' });
    },
  });
  const url = await listen(server, options.port ?? config.watch.port, options.host ?? config.watch.host);

  const writeStats = (running: boolean) => {
    const stats: WatchStats = {
      pid: process.pid,
      url,
      startedAt,
      updatedAt: new Date().toISOString(),
      running,
      ...metrics.figures(),
      queueDepth: queueDepth(db),
    };
    setMeta(db, 'stats', JSON.stringify(stats));
  };
  let queueHighSince: number | null = null;
  const statsTimer = setInterval(() => {
    try {
      const depth = queueDepth(db);
      metrics.setQueueDepth(depth);
      heartbeat(db, processLock);
      db.prepare('DELETE FROM watch_echoes WHERE until_ms < ?').run(Date.now());
      writeStats(true);
      if (depth >= config.watch.alerts.maxQueueDepth) {
        queueHighSince ??= Date.now();
        if (Date.now() - queueHighSince > 60_000)
          alert('queue', `${depth} SKUs have waited for a write for over a minute (watch.alerts.maxQueueDepth ${config.watch.alerts.maxQueueDepth})`, 0);
      } else {
        queueHighSince = null;
        alerted.queue = false;
      }
      if (metrics.lastWriteAt && alerted['writes-failing'] && metrics.lastError && metrics.lastWriteAt > metrics.lastError.at)
        alerted = { ...alerted, 'writes-failing': false };
    } catch (error) {
      log.warn(`could not record watch figures: ${errorMessage(error)}`, { event: 'stats-failed' });
    }
  }, STATS_MS);
  const outboxTimer = setInterval(() => {
    void flushOutbox(db, config, log).catch((error: unknown) => log.error(`outbox: ${errorMessage(error)}`, { event: 'outbox-error' }));
  }, config.watch.outbox.intervalSeconds * 1000);

  let poller: ErpPoller | undefined;
  if (options.poll) {
    poller = new ErpPoller(db, config, log, env, (rows, raw) => {
      durably(() => acceptErpRows(db, rows, 'poll', raw, Date.now(), true));
      metrics.event('poll', 'accepted', rows.length);
      engine.wake();
    });
    poller.start();
  }

  await engine.start();
  writeStats(true);
  log.info(`watch: listening on ${url} (POST /erp/levels, POST /webhooks/shopify, GET /healthz, GET /metrics)`, { event: 'listening', url });

  return {
    url,
    async stop(timeoutMs = 30_000) {
      draining = true;
      poller?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = await engine.drain(timeoutMs);
      await engine.stop(5000);
      clearInterval(statsTimer);
      clearInterval(outboxTimer);
      await flushOutbox(db, config, log).catch((error: unknown) => log.error(`outbox: ${errorMessage(error)}`, { event: 'outbox-error' }));
      writeStats(false);
      server.closeAllConnections();
      await closed;
      recomputer.close();
      releaseLock(db, processLock);
      return { drained };
    },
  };
}
