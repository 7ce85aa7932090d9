import type { LoadedConfig } from '../../config/load.js';
import type { LeftOut } from '../../reconcile/diff-model.js';
import { resolveLocations } from '../../reconcile/locations.js';
import type { ErpRow } from '../../sources/erp/rows.js';
import type { Db } from '../../store/db.js';
import { latestSnapshot, type SnapshotInfo } from '../../store/snapshots.js';

// The live state watch keeps in the store: SQL only, each function one short transaction.

export interface SeedReport {
  erp: { snapshotId: number; rows: number } | null;
  shopify: { snapshotId: number; levels: number } | null;
}

function meta(db: Db, key: string): string | undefined {
  return db.prepare('SELECT value FROM watch_meta WHERE key = ?').pluck().get(key) as string | undefined;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO watch_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

export function readMeta(db: Db, key: string): string | undefined {
  return meta(db, key);
}

/**
 * Brings the live state up to the newest snapshots: rows no event has touched since a snapshot was
 * taken are replaced by that snapshot's (a restart keeps everything events set after the pull).
 */
export function seedFromSnapshots(db: Db): SeedReport {
  const report: SeedReport = { erp: null, shopify: null };
  const erp = latestSnapshot(db, 'erp');
  const shopify = latestSnapshot(db, 'shopify');
  db.transaction(() => {
    if (erp && Number(meta(db, 'seed.erp') ?? 0) < erp.id) {
      report.erp = { snapshotId: erp.id, rows: seedErp(db, erp) };
      setMeta(db, 'seed.erp', String(erp.id));
    }
    if (shopify && Number(meta(db, 'seed.shopify') ?? 0) < shopify.id) {
      report.shopify = { snapshotId: shopify.id, levels: seedShopify(db, shopify) };
      setMeta(db, 'seed.shopify', String(shopify.id));
    }
  })();
  return report;
}

function seedErp(db: Db, snapshot: SnapshotInfo): number {
  db.prepare('DELETE FROM watch_erp_levels WHERE touched_at IS NULL OR touched_at < ?').run(snapshot.takenAt);
  return db
    .prepare(
      `INSERT INTO watch_erp_levels (sku, warehouse, on_hand, reserved, incoming, safety_stock, category, touched_at)
       SELECT sku, warehouse, on_hand, reserved, incoming, safety_stock, category, NULL FROM erp_levels WHERE snapshot_id = ?
       ON CONFLICT (sku, warehouse) DO NOTHING`,
    )
    .run(snapshot.id).changes;
}

function seedShopify(db: Db, snapshot: SnapshotInfo): number {
  db.prepare('DELETE FROM watch_shopify_locations').run();
  db.prepare(
    'INSERT INTO watch_shopify_locations (location_id, name, is_active) SELECT location_id, name, is_active FROM shopify_locations WHERE snapshot_id = ?',
  ).run(snapshot.id);
  db.prepare('DELETE FROM watch_shopify_items').run();
  db.prepare(
    'INSERT INTO watch_shopify_items (inventory_item_id, sku, tracked) SELECT inventory_item_id, sku, tracked FROM shopify_items WHERE snapshot_id = ?',
  ).run(snapshot.id);
  db.prepare('DELETE FROM watch_shopify_levels WHERE touched_at IS NULL OR touched_at < ?').run(snapshot.takenAt);
  return db
    .prepare(
      `INSERT INTO watch_shopify_levels (inventory_item_id, location_id, available, on_hand, committed, reserved, incoming)
       SELECT inventory_item_id, location_id, available, on_hand, committed, reserved, incoming FROM shopify_levels WHERE snapshot_id = ?
       ON CONFLICT (inventory_item_id, location_id) DO NOTHING`,
    )
    .run(snapshot.id).changes;
}

export function isSeeded(db: Db): boolean {
  return meta(db, 'seed.erp') !== undefined && meta(db, 'seed.shopify') !== undefined;
}

/** Marks SKUs for a recompute: a newer gen, the oldest accepted time kept. */
function markDirty(db: Db, skus: Iterable<string>, acceptedMs: number, reread: boolean): void {
  const mark = db.prepare(
    `INSERT INTO watch_dirty (sku, gen, accepted_ms, reread) VALUES (?, 1, ?, ?)
     ON CONFLICT (sku) DO UPDATE SET gen = gen + 1, accepted_ms = MIN(accepted_ms, excluded.accepted_ms), reread = MAX(reread, excluded.reread)`,
  );
  for (const sku of skus) mark.run(sku, acceptedMs, reread ? 1 : 0);
}

export function markSkusDirty(db: Db, skus: Iterable<string>, reread: boolean, acceptedMs = Date.now()): void {
  db.transaction(() => markDirty(db, skus, acceptedMs, reread))();
}

function recordEvent(db: Db, kind: string, rows: number, outcome: string, payload: string, at: string): number {
  return Number(
    db.prepare('INSERT INTO watch_events (kind, received_at, rows, outcome, payload) VALUES (?, ?, ?, ?, ?)').run(kind, at, rows, outcome, payload)
      .lastInsertRowid,
  );
}

/**
 * ERP rows (absolute values) into the live state, the event and the dirty marks: one transaction.
 * `onlyChanged` (polling, which re-reads rows) marks only SKUs whose row differs from the live one.
 */
export function acceptErpRows(db: Db, rows: readonly ErpRow[], kind: 'erp' | 'poll', payload: string, now = Date.now(), onlyChanged = false): number {
  const at = new Date(now).toISOString();
  const upsert = db.prepare(
    `INSERT INTO watch_erp_levels (sku, warehouse, on_hand, reserved, incoming, safety_stock, category, touched_at)
     VALUES (@sku, @warehouse, @onHand, @reserved, @incoming, @safetyStock, @category, @at)
     ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, incoming = excluded.incoming,
       safety_stock = excluded.safety_stock, category = excluded.category, touched_at = excluded.touched_at
     WHERE NOT @onlyChanged OR on_hand <> excluded.on_hand OR reserved <> excluded.reserved OR incoming <> excluded.incoming
       OR safety_stock IS NOT excluded.safety_stock OR category IS NOT excluded.category`,
  );
  return db.transaction(() => {
    const changed = new Set<string>();
    for (const row of rows) if (upsert.run({ ...row, at, onlyChanged: onlyChanged ? 1 : 0 }).changes > 0) changed.add(row.sku);
    markDirty(db, changed, now, false);
    return changed.size > 0 || !onlyChanged ? recordEvent(db, kind, rows.length, 'accepted', payload, at) : 0;
  })();
}

export interface LevelUpdate {
  webhookId: string | null;
  inventoryItemId: string;
  locationId: string;
  available: number;
  /** Shopify's updated_at of the level (ISO). */
  updatedAt: string | null;
}

export type WebhookOutcome = 'accepted' | 'duplicate' | 'echo' | 'out-of-order' | 'unknown-level' | 'unchanged';

/**
 * A Shopify inventory_levels/update: ignored when seen before (its webhook id), older than the newest
 * taken for the level, or the echo of a write of ours; otherwise the live level takes it and its SKU
 * is marked. `isEcho` tells whether a write of ours set this level to this value. `asOrder`: the move
 * is taken as an order or a cancellation (committed moves the other way), since the webhook carries
 * available only and committed is an input of the target (shopifyCommitted: subtract).
 */
export function acceptLevelUpdate(
  db: Db,
  update: LevelUpdate,
  payload: string,
  isEcho: (inventoryItemId: string, locationId: string, available: number) => boolean,
  markSku: (sku: string) => void,
  now = Date.now(),
  asOrder = false,
): { outcome: WebhookOutcome; sku: string | null } {
  const at = new Date(now).toISOString();
  return db.transaction(() => {
    if (update.webhookId !== null) {
      const fresh =
        db.prepare('INSERT INTO watch_webhook_ids (webhook_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(update.webhookId, at).changes > 0;
      if (!fresh) return { outcome: 'duplicate' as const, sku: null };
    }
    const level = db
      .prepare(
        `SELECT l.available, l.webhook_at, i.sku FROM watch_shopify_levels l LEFT JOIN watch_shopify_items i ON i.inventory_item_id = l.inventory_item_id
         WHERE l.inventory_item_id = ? AND l.location_id = ?`,
      )
      .get(update.inventoryItemId, update.locationId) as { available: number; webhook_at: string | null; sku: string | null } | undefined;
    const item = level
      ? null
      : (db.prepare('SELECT sku FROM watch_shopify_items WHERE inventory_item_id = ?').get(update.inventoryItemId) as { sku: string | null } | undefined);
    const sku = level?.sku ?? item?.sku ?? null;
    let outcome: WebhookOutcome;
    // The echo check goes first so that a late echo is consumed even when a newer webhook overtook it.
    const echo = isEcho(update.inventoryItemId, update.locationId, update.available);
    // Compared as instants: Shopify writes local offsets (-05:00), the store keeps UTC.
    const updatedAt = update.updatedAt === null ? null : new Date(update.updatedAt).toISOString();
    if (!level && !item) outcome = 'unknown-level';
    else if (level && update.updatedAt !== null && level.webhook_at !== null && Date.parse(update.updatedAt) < Date.parse(level.webhook_at))
      outcome = 'out-of-order';
    else if (echo) outcome = 'echo';
    else outcome = level?.available === update.available ? 'unchanged' : 'accepted';
    // An echo is a true reading of the level as of its updated_at: taken, but not as a sale (no recompute).
    if (outcome === 'accepted' || outcome === 'unchanged' || outcome === 'echo') {
      db.prepare(
        `INSERT INTO watch_shopify_levels (inventory_item_id, location_id, available, webhook_at, touched_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (inventory_item_id, location_id) DO UPDATE SET
           available = excluded.available, webhook_at = COALESCE(excluded.webhook_at, webhook_at), touched_at = excluded.touched_at,
           committed = CASE WHEN @asOrder THEN MAX(0, committed - (excluded.available - available)) ELSE committed END`,
      ).run(update.inventoryItemId, update.locationId, update.available, updatedAt, at, { asOrder: asOrder && outcome === 'accepted' ? 1 : 0 });
    }
    if (outcome === 'accepted' && sku) markSku(sku);
    recordEvent(db, 'webhook', 1, outcome, payload, at);
    return { outcome, sku };
  })();
}

export interface DirtySku {
  sku: string;
  gen: number;
  acceptedMs: number;
  reread: boolean;
}

export function dirtySkus(db: Db, limit: number, exclude: ReadonlySet<string>): DirtySku[] {
  const rows = db.prepare('SELECT sku, gen, accepted_ms AS acceptedMs, reread FROM watch_dirty ORDER BY accepted_ms LIMIT ?').all(limit + exclude.size) as {
    sku: string;
    gen: number;
    acceptedMs: number;
    reread: number;
  }[];
  return rows
    .filter((r) => !exclude.has(r.sku))
    .slice(0, limit)
    .map((r) => ({ ...r, reread: r.reread === 1 }));
}

export function queueDepth(db: Db): number {
  return db.prepare('SELECT COUNT(*) FROM watch_dirty').pluck().get() as number;
}

/** Clears the marks a finished cycle handled, unless a newer event marked the SKU again. */
export function clearDirty(db: Db, settled: Readonly<Record<string, number>>): void {
  const clear = db.prepare('DELETE FROM watch_dirty WHERE sku = ? AND gen = ?');
  // A newer event keeps the mark; the re-read it may have asked for stays too.
  for (const [sku, gen] of Object.entries(settled)) clear.run(sku, gen);
}

export interface LiveLevel {
  inventoryItemId: string;
  locationId: string;
  available: number;
  onHand: number;
  committed: number;
  reserved: number;
  incoming: number;
}

/** What a re-read read besides quantities: whether Shopify tracks each item, and whether each location is active. */
export interface ReadFlags {
  items: readonly { id: string; tracked: boolean }[];
  locations: readonly { id: string; isActive: boolean }[];
}

/** Flags a re-read changed: SKUs no longer (or again) tracked, locations (by name) deactivated or active again. */
export interface FlagChanges {
  untracked: string[];
  trackedAgain: string[];
  deactivated: string[];
  reactivated: string[];
}

/**
 * Shopify's current quantities (a re-read) into the live state; levels no longer stocked are removed.
 * With `flags`, the items' tracked and the locations' isActive too: the recompute leaves their levels out
 * from then on, as diff does. Returns what those flags changed.
 */
export function storeReadLevels(db: Db, itemIds: readonly string[], levels: readonly LiveLevel[], now = Date.now(), flags?: ReadFlags): FlagChanges {
  const at = new Date(now).toISOString();
  const changes: FlagChanges = { untracked: [], trackedAgain: [], deactivated: [], reactivated: [] };
  db.transaction(() => {
    const track = db.prepare(
      'UPDATE watch_shopify_items SET tracked = ? WHERE inventory_item_id = ? AND tracked <> ? RETURNING COALESCE(sku, inventory_item_id) AS name',
    );
    for (const item of flags?.items ?? []) {
      const row = track.get(item.tracked ? 1 : 0, item.id, item.tracked ? 1 : 0) as { name: string } | undefined;
      if (row) (item.tracked ? changes.trackedAgain : changes.untracked).push(row.name);
    }
    const activate = db.prepare('UPDATE watch_shopify_locations SET is_active = ? WHERE location_id = ? AND is_active <> ? RETURNING name');
    for (const location of flags?.locations ?? []) {
      const row = activate.get(location.isActive ? 1 : 0, location.id, location.isActive ? 1 : 0) as { name: string } | undefined;
      if (row) (location.isActive ? changes.reactivated : changes.deactivated).push(row.name);
    }
    const seen = new Set(levels.map((l) => `${l.inventoryItemId} ${l.locationId}`));
    const existing = db.prepare('SELECT location_id FROM watch_shopify_levels WHERE inventory_item_id = ?').pluck();
    const drop = db.prepare('DELETE FROM watch_shopify_levels WHERE inventory_item_id = ? AND location_id = ?');
    for (const id of itemIds) for (const location of existing.all(id) as string[]) if (!seen.has(`${id} ${location}`)) drop.run(id, location);
    const upsert = db.prepare(
      `INSERT INTO watch_shopify_levels (inventory_item_id, location_id, available, on_hand, committed, reserved, incoming, touched_at, webhook_at)
       VALUES (@inventoryItemId, @locationId, @available, @onHand, @committed, @reserved, @incoming, @at, @at)
       ON CONFLICT (inventory_item_id, location_id) DO UPDATE SET available = excluded.available, on_hand = excluded.on_hand,
         committed = excluded.committed, reserved = excluded.reserved, incoming = excluded.incoming, touched_at = excluded.touched_at,
         webhook_at = excluded.webhook_at`,
    );
    // The reading is as new as now: a webhook sent before it (a late retry) is out of order from here on.
    for (const level of levels) upsert.run({ ...level, at });
  })();
  return changes;
}

/**
 * Shopify's levels watch leaves out, at the locations the config maps: at an inactive location, or (at an
 * active one) of an untracked item; diff counts them alike (its count also has the ERP's levels Shopify
 * has none for). Counted when the flags change, not per event: the inactive locations' part reads all
 * their levels.
 */
export function leftOutLevels(db: Db, config: Pick<LoadedConfig, 'locations'>): LeftOut {
  const locations = (
    db.prepare('SELECT location_id AS id, name, is_active FROM watch_shopify_locations').all() as { id: string; name: string; is_active: number }[]
  ).map((l) => ({ id: l.id, name: l.name, isActive: l.is_active === 1 }));
  const mapped = resolveLocations(config, locations).resolved;
  const active = JSON.stringify(mapped.filter((l) => l.isActive).map((l) => l.locationId));
  const inactive = JSON.stringify(mapped.filter((l) => !l.isActive).map((l) => l.locationId));
  const ofUntrackedItems = db
    .prepare(
      `SELECT COUNT(*) FROM watch_shopify_items i JOIN watch_shopify_levels l ON l.inventory_item_id = i.inventory_item_id
       WHERE i.tracked = 0 AND l.location_id IN (SELECT value FROM json_each(?))`,
    )
    .pluck()
    .get(active) as number;
  const atInactiveLocations =
    inactive === '[]'
      ? 0
      : (db.prepare('SELECT COUNT(*) FROM watch_shopify_levels WHERE location_id IN (SELECT value FROM json_each(?))').pluck().get(inactive) as number);
  return { levels: ofUntrackedItems + atInactiveLocations, ofUntrackedItems, atInactiveLocations };
}

/** How many levels the live state has of an item (by SKU), or at a location (by name): for the log line of a change. */
export function levelsOf(db: Db, what: { sku: string } | { locationName: string }): number {
  return 'sku' in what
    ? (db
        .prepare(
          'SELECT COUNT(*) FROM watch_shopify_levels WHERE inventory_item_id IN (SELECT inventory_item_id FROM watch_shopify_items WHERE COALESCE(sku, inventory_item_id) = ?)',
        )
        .pluck()
        .get(what.sku) as number)
    : (db
        .prepare('SELECT COUNT(*) FROM watch_shopify_levels WHERE location_id IN (SELECT location_id FROM watch_shopify_locations WHERE name = ?)')
        .pluck()
        .get(what.locationName) as number);
}
