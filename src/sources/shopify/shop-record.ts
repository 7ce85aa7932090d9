// The shop metafield where installs of invrecon sharing a shop record their applies (plan/apply/installs.ts
// keeps the rules). Read here, apart from them, so that a pull can keep a copy: the apply's claim then
// writes from it in one call instead of a read and a write.
import type { ShopRecordCopy } from '../../store/shop-records.js';
import type { RequestOptions, ShopifyClient } from './client.js';
import { SHOP_APPLIES_RECORD, type ShopAppliesRecordData } from './documents.js';

export const RECORD_NAMESPACE = '$app:invrecon';
export const RECORD_KEY = 'applies';

/** The record as it is now (value undefined and digest null when the shop has none). */
export async function readShopRecord(client: ShopifyClient, options?: RequestOptions): Promise<ShopRecordCopy> {
  const { data } = await client.request<ShopAppliesRecordData>(SHOP_APPLIES_RECORD, { namespace: RECORD_NAMESPACE, key: RECORD_KEY }, options);
  const metafield = data.shop.metafield;
  return { shopId: data.shop.id, value: metafield?.value, digest: metafield?.compareDigest ?? null };
}
