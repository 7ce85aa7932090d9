// Reading Shopify again: the live quantities of some SKUs' items, at every location, into watch's state.
import { INVENTORY_LEVELS_BY_ITEM_IDS } from '../../sources/shopify/documents.js';
import type { ShopifyClient } from '../../sources/shopify/client.js';
import type { Db } from '../../store/db.js';
import { storeReadLevels, type FlagChanges, type LiveLevel } from './state.js';

/** nodes(ids:) takes at most 250 ids. */
const MAX_IDS = 250;

/**
 * Shopify's quantities of these SKUs' items, at every location, into the live state, with whether Shopify
 * still tracks each item and each location is still active (what changed is returned).
 */
export async function rereadLevels(db: Db, client: ShopifyClient, skus: string[]): Promise<FlagChanges> {
  const changes: FlagChanges = { untracked: [], trackedAgain: [], deactivated: [], reactivated: [] };
  const items = db
    .prepare('SELECT inventory_item_id FROM watch_shopify_items WHERE sku IN (SELECT value FROM json_each(?))')
    .pluck()
    .all(JSON.stringify(skus)) as string[];
  // A query costs about 3 + 3 × levels per item, and Shopify refuses one above 1000 points.
  const levelsFirst = Math.min(250, Math.max(1, db.prepare('SELECT COUNT(*) FROM watch_shopify_locations').pluck().get() as number));
  const perCall = Math.max(1, Math.min(MAX_IDS, Math.floor(900 / (3 + 3 * levelsFirst))));
  for (let at = 0; at < items.length; at += perCall) {
    const ids = items.slice(at, at + perCall);
    // The reading counts from when it was asked: a webhook of a change after that is still newer.
    const askedAt = Date.now();
    const { data } = await client.request<{
      nodes: ({
        id: string;
        tracked: boolean;
        inventoryLevels: { edges: { node: { location: { id: string; isActive: boolean }; quantities: { name: string; quantity: number }[] } }[] };
      } | null)[];
    }>(
      INVENTORY_LEVELS_BY_ITEM_IDS,
      { ids, levelsFirst, names: ['available', 'on_hand', 'committed', 'reserved', 'incoming'] },
      // Priced by its size, not by the last re-read (a large one would make a small one wait for the bucket).
      { expectedCost: 2 + ids.length * (3 + 3 * levelsFirst) },
    );
    const levels: LiveLevel[] = [];
    const tracked: { id: string; tracked: boolean }[] = [];
    const active = new Map<string, boolean>();
    for (const node of data.nodes) {
      if (!node) continue;
      tracked.push({ id: node.id, tracked: node.tracked });
      for (const { node: level } of node.inventoryLevels.edges) {
        active.set(level.location.id, level.location.isActive);
        const q = (name: string) => level.quantities.find((x) => x.name === name)?.quantity ?? 0;
        levels.push({
          inventoryItemId: node.id,
          locationId: level.location.id,
          available: q('available'),
          onHand: q('on_hand'),
          committed: q('committed'),
          reserved: q('reserved'),
          incoming: q('incoming'),
        });
      }
    }
    const changed = storeReadLevels(db, ids, levels, askedAt, { items: tracked, locations: [...active].map(([id, isActive]) => ({ id, isActive })) });
    for (const key of Object.keys(changes) as (keyof FlagChanges)[]) changes[key].push(...changed[key]);
  }
  return changes;
}
