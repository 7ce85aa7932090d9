// Echoes: the webhook a write of ours causes, recognised (and consumed) so it is not taken for a change made in Shopify.
import type { LevelFacts } from '../../plan/apply.js';
import type { Db } from '../../store/db.js';

/** A write's own webhook may come after its answer (Shopify delivers at least once, late): remembered this long. */
const ECHO_MS = 10 * 60_000;

/** Whether a webhook's value for this level is what a write of ours set (its echo); consumed when it is. */
export function isEcho(db: Db, inventoryItemId: string, locationId: string, available: number): boolean {
  return (
    db
      .prepare('DELETE FROM watch_echoes WHERE inventory_item_id = ? AND location_id = ? AND value = ? AND until_ms > ?')
      .run(inventoryItemId, locationId, available, Date.now()).changes > 0
  );
}

/** Recorded before the call goes (durably: a webhook may arrive after a restart). */
export function expectEchoes(db: Db, levels: { level: LevelFacts; value: number }[]): void {
  const until = Date.now() + ECHO_MS;
  const put = db.prepare('INSERT OR REPLACE INTO watch_echoes (inventory_item_id, location_id, value, until_ms) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const { level, value } of levels) put.run(level.inventoryItemId, level.locationId, value, until);
  })();
}

export function forgetEcho(db: Db, level: LevelFacts, value: number): void {
  db.prepare('DELETE FROM watch_echoes WHERE inventory_item_id = ? AND location_id = ? AND value = ?').run(level.inventoryItemId, level.locationId, value);
}
