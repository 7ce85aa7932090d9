import type { ShopifyClient } from '../../sources/shopify/client.js';
import { INVENTORY_SET_QUANTITIES, type InventorySetQuantitiesData } from '../../sources/shopify/documents.js';

// Stop-gap until plan/apply exposes its "send rows with compare-and-swap and classify" API: one call,
// its answer sorted into applied / refused rows. No carry-forward and no retry policy lives here.

export interface WriteRow {
  sku: string;
  inventoryItemId: string;
  locationId: string;
  from: number;
  to: number;
}

export type SendResult =
  | { kind: 'applied'; after: Map<number, number> }
  | { kind: 'refused'; stale: number[]; failed: { row: number; code: string; message: string }[]; callError: string | null };

export async function sendSet(client: ShopifyClient, rows: readonly WriteRow[], key: string, referenceDocumentUri: string): Promise<SendResult> {
  const { data } = await client.request<InventorySetQuantitiesData>(INVENTORY_SET_QUANTITIES, {
    idempotencyKey: key,
    referenceDocumentUri,
    quantities: rows.map((r) => ({ inventoryItemId: r.inventoryItemId, locationId: r.locationId, quantity: r.to, changeFromQuantity: r.from })),
  });
  const payload = data.inventorySetQuantities;
  const errors = payload?.userErrors ?? [];
  if (errors.length === 0) {
    const byLevel = new Map(
      (payload?.inventoryAdjustmentGroup?.changes ?? [])
        .filter((c) => c.name === 'available')
        .map((c) => [`${c.item?.id} ${c.location?.id}`, c.quantityAfterChange]),
    );
    return { kind: 'applied', after: new Map(rows.map((r, i) => [i, byLevel.get(`${r.inventoryItemId} ${r.locationId}`) ?? r.to])) };
  }
  // All or nothing: nothing of this call was applied.
  const stale: number[] = [];
  const failed: { row: number; code: string; message: string }[] = [];
  let callError: string | null = null;
  for (const error of errors) {
    const index = error.field?.[2];
    const row = index !== undefined && /^\d+$/.test(index) ? Number(index) : undefined;
    if (row === undefined || row >= rows.length) callError = `${error.code ?? 'error'}: ${error.message}`;
    else if (error.code === 'CHANGE_FROM_QUANTITY_STALE') stale.push(row);
    else failed.push({ row, code: error.code ?? 'error', message: error.message });
  }
  return { kind: 'refused', stale, failed, callError };
}
