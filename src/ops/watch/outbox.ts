import { stringify } from 'csv-stringify/sync';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import type { DiffRow } from '../../reconcile/diff.js';
import { assertSafeUrl } from '../../sources/shopify/endpoint.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../log.js';

/**
 * ERP corrections where Shopify is the authority: the ERP's available should move by (Shopify −
 * ERP), proposed on the location's first mapped warehouse that lists the SKU (as plan does). The same
 * correction is not queued twice while the ERP has not booked it.
 */
export function queueOutbox(db: Db, config: LoadedConfig, rows: readonly DiffRow[]): number {
  const onHand = db.prepare('SELECT on_hand FROM watch_erp_levels WHERE sku = ? AND warehouse = ?').pluck();
  const last = db.prepare('SELECT proposed, warehouse FROM watch_outbox WHERE sku = ? AND location_id = ? ORDER BY id DESC LIMIT 1');
  const insert = db.prepare(
    `INSERT INTO watch_outbox (created_at, sku, location_id, location_name, warehouse, current, proposed, delta, authority, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const at = new Date().toISOString();
  let queued = 0;
  for (const row of rows) {
    if (row.status !== 'erp-correction' || row.observed === null || !row.erp) continue;
    const entry = config.locations.find((l) => l.shopifyLocation === row.locationId || l.shopifyLocation === row.locationName);
    const warehouses = entry?.warehouses ?? [];
    const listed = warehouses.find((w) => onHand.get(row.sku, w) !== undefined);
    const warehouse = listed ?? warehouses[0] ?? '';
    const current = listed ? (onHand.get(row.sku, listed) as number) : 0;
    const delta = row.observed - row.erp.available;
    const proposed = Math.max(0, current + delta);
    const previous = last.get(row.sku, row.locationId) as { proposed: number; warehouse: string } | undefined;
    if (previous && previous.proposed === proposed && previous.warehouse === warehouse) continue;
    insert.run(
      at,
      row.sku,
      row.locationId,
      row.locationName,
      warehouse,
      current,
      proposed,
      delta,
      row.authority,
      `Shopify shows ${row.observed} available, the ERP ${row.erp.available}`,
    );
    queued++;
  }
  return queued;
}

interface OutboxEntry {
  id: number;
  created_at: string;
  sku: string;
  location_id: string;
  location_name: string;
  warehouse: string;
  current: number;
  proposed: number;
  delta: number;
  authority: string;
  reason: string;
}

export const OUTBOX_COLUMNS = [
  'id',
  'created_at',
  'sku',
  'warehouse',
  'location_name',
  'location_id',
  'current',
  'proposed',
  'delta',
  'authority',
  'reason',
] as const;

export function outboxDir(config: LoadedConfig): string {
  const dir = config.watch.outbox.dir;
  return isAbsolute(dir) ? dir : resolve(config.baseDir, dir);
}

export function outboxWebhookUrl(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const { webhookUrl, webhookUrlEnv } = config.watch.outbox;
  const text = webhookUrl ?? (webhookUrlEnv ? env[webhookUrlEnv] : undefined);
  if (!text) return undefined;
  const url = new URL(text);
  assertSafeUrl(url, webhookUrlEnv ? `watch.outbox.webhookUrlEnv (${webhookUrlEnv})` : 'watch.outbox.webhookUrl');
  return url;
}

/**
 * Writes the corrections not yet exported into one CSV file (written aside, then renamed, so the ERP
 * never reads half a file) and, with a webhook configured, posts those not yet posted. Returns the file.
 */
export async function flushOutbox(db: Db, config: LoadedConfig, log: Logger, now = new Date()): Promise<string | null> {
  let file: string | null = null;
  const pending = db.prepare('SELECT * FROM watch_outbox WHERE exported_to IS NULL ORDER BY id').all() as OutboxEntry[];
  if (pending.length > 0) {
    const dir = outboxDir(config);
    mkdirSync(dir, { recursive: true });
    file = join(dir, `erp-corrections-${now.toISOString().replace(/[:.]/g, '-')}.csv`);
    const text = stringify(pending, { header: true, columns: [...OUTBOX_COLUMNS] });
    writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    const mark = db.prepare('UPDATE watch_outbox SET exported_to = ? WHERE id = ?');
    db.transaction(() => {
      for (const entry of pending) mark.run(file, entry.id);
    })();
    log.info(`outbox: ${pending.length} ERP correction${pending.length === 1 ? '' : 's'} written to ${file}`, {
      event: 'outbox-file',
      file,
      corrections: pending.length,
    });
  }
  const url = outboxWebhookUrl(config);
  if (url) {
    const unposted = db.prepare('SELECT * FROM watch_outbox WHERE posted_at IS NULL ORDER BY id LIMIT 1000').all() as OutboxEntry[];
    if (unposted.length > 0) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'invrecon-watch' },
          body: JSON.stringify({ shop: config.shopify.shop, corrections: unposted }),
          redirect: 'manual',
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const mark = db.prepare('UPDATE watch_outbox SET posted_at = ? WHERE id = ?');
        const at = new Date().toISOString();
        db.transaction(() => {
          for (const entry of unposted) mark.run(at, entry.id);
        })();
      } catch (error) {
        // Kept for the next interval: the ERP's webhook takes them at least once.
        log.warn(`outbox: posting ${unposted.length} correction(s) to the ERP webhook failed: ${errorMessage(error)}; retried next interval`, {
          event: 'outbox-post-failed',
        });
      }
    }
  }
  return file;
}
