import type { Db } from './db.js';

// The shop's record of applied plans as this install last read it (pull) or wrote it (apply): see
// migration 100. Only a copy: every write from it is a compare-and-swap.

export interface ShopRecordCopy {
  /** The shop's GID (the metafield's owner). */
  shopId: string;
  /** The metafield's value; undefined when the shop had none. */
  value: string | undefined;
  /** Its compareDigest; null when the shop had none. */
  digest: string | null;
}

export function keepShopRecord(db: Db, shop: string, copy: ShopRecordCopy, source: 'read' | 'written', at = new Date()): void {
  db.prepare(
    `INSERT INTO shop_records (shop, shop_id, value, digest, source, at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (shop) DO UPDATE SET shop_id = excluded.shop_id, value = excluded.value, digest = excluded.digest, source = excluded.source, at = excluded.at`,
  ).run(shop, copy.shopId, copy.value ?? null, copy.digest, source, at.toISOString());
}

export function shopRecordCopy(db: Db, shop: string): ShopRecordCopy | undefined {
  const row = db.prepare('SELECT shop_id, value, digest FROM shop_records WHERE shop = ?').get(shop) as
    { shop_id: string; value: string | null; digest: string | null } | undefined;
  return row && { shopId: row.shop_id, value: row.value ?? undefined, digest: row.digest };
}
